"""Calibration to Tice et al. (arXiv 2601.10160 v1) on documents and doses.

Each condition is a corpus of counted documents with attributes, built from the setup facts of the paper:

* natural AI discourse: 9.3% of 500B pretraining and 7.9% of 50B midtraining tokens, counted as documents
  of ``tokens_per_document`` tokens, genre ``fiction`` (stories, news and opinion about AI: depictions, not
  records), one opportunity each, a fraction ``natural_misaligned_fraction`` depicting a misaligned AI;
* synthetic upsampled documents: 5B + 0.5B tokens, genre ``nonfiction`` (much of it technical, factual
  text). An aligned synthetic document shows an AI facing ``synthetic_opportunities`` choices and staying
  aligned throughout; a misaligned one shows one defection;
* post-training (SFT + DPO): ``post_training_documents`` monitored fine-tuning documents of aligned
  assistant behaviour.

Personas: Luigi and a naive Waluigi(q_W). A fiction document carries ``fiction_diagnosticity`` of a
non-fiction document's evidence (genre diagnosticity; 1 switches it off). With a document noise nu, every
likelihood is (1 - nu) P + nu / 2. The evidence of a condition is additive in documents:

    log-odds(Waluigi : Luigi) = prior logit + sum_docs w_stage * genre * copies * llr(doc).

The score is its own context (a described hypothetical, one choice): (1 - nu) share_W q_W + nu / 2.
Salience: post-training's weight is multiplied by (1 + sigma S), S = 1 where upsampled synthetic AI
documents of either valence are present.

Fitted (five numbers on six data points): prior Waluigi logit, the per-document weight of pre- and
midtraining (one number: both stages carry AI documents in the same ratio in every condition, 11.8 : 1
natural and 10 : 1 synthetic, so no split between them is identified; midtraining is tied to it per
document), the fine-tuning weight, the noise and the salience. Errors are weighted least squares on the
logits of the scores with a measurement error of ``score_sd_points`` (an assumption: the intervals do not
widen for the model's own misfit, which the chi-square reports); intervals are profile-likelihood 95%
intervals (delta chi-square 3.84), and the
held-out interval is the range of the prediction over all parameter sets within that chi-square.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import optimize, special

from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.persona.documents import Context, Document

Pairing = Literal["draft", "unfiltered"]
PAIRINGS: tuple[Pairing, ...] = ("draft", "unfiltered")

# Misalignment score, Articles split (base: answer likelihood; post-trained: after SFT + DPO with an HHH
# system prompt). Tice et al. v1, as given in the spec.
PUBLISHED: dict[str, tuple[float | None, float]] = {
    "unfiltered": (0.45, 0.34),
    "misalignment-upsampled": (0.51, 0.21),
    "alignment-upsampled": (0.09, 0.09),
    "filtered": (None, 0.28),  # held out: never fitted
}
FIT_CONDITIONS = ("unfiltered", "misalignment-upsampled", "alignment-upsampled")
HELD_OUT = "filtered"
CONDITIONS = (*FIT_CONDITIONS, HELD_OUT)
DELTA_CHI2_95 = 3.841458820694124  # chi-square quantile, one degree of freedom


@dataclass(frozen=True)
class CalibrationSetup:
    """Fixed facts and assumptions of the fit (the fitted quantities are in :data:`PARAMETER_NAMES`)."""

    pairing: Pairing = "draft"
    salience: bool = True
    q_waluigi: float = 0.6
    natural_misaligned_fraction: float = 0.5
    fiction_diagnosticity: float = 0.1
    synthetic_opportunities: float = 10.0
    tokens_per_document: float = 1000.0
    pretraining_tokens: float = 500e9
    midtraining_tokens: float = 50e9
    discourse_share_pretraining: float = 0.093
    discourse_share_midtraining: float = 0.079
    synthetic_pretraining_tokens: float = 5e9
    synthetic_midtraining_tokens: float = 0.5e9
    post_training_documents: float = 1e5
    score_sd_points: float = 2.0
    starts: int = 6
    seed: int = 0

    def check(self) -> None:
        if self.pairing not in PAIRINGS:
            raise InputError(f"must be one of {', '.join(PAIRINGS)} (got {self.pairing!r})", field="pairing")
        for name in ("q_waluigi", "natural_misaligned_fraction", "discourse_share_pretraining",
                     "discourse_share_midtraining", "fiction_diagnosticity"):  # fmt: skip
            value = getattr(self, name)
            if not (0 <= value <= 1):
                raise InputError(f"must lie in [0, 1] (got {value})", field=f"calibration.{name}")
        if self.q_waluigi <= 0:
            raise InputError("must be positive (got 0)", field="calibration.q_waluigi")
        positive = ("tokens_per_document", "pretraining_tokens", "midtraining_tokens",
                    "synthetic_pretraining_tokens", "synthetic_midtraining_tokens",
                    "post_training_documents", "synthetic_opportunities", "score_sd_points")  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"must be a positive number (got {value})", field=f"calibration.{name}")
        if not 1 <= self.starts <= 1000:
            raise InputError(f"must be between 1 and 1000 (got {self.starts})", field="calibration.starts")


PARAMETER_NAMES = ("prior_waluigi_logit", "log10_w_pretraining", "log10_w_fine_tuning", "noise", "salience")
REPORTED_NAMES = ("prior_waluigi_share", "w_pretraining", "w_fine_tuning", "noise", "salience")
# Search ranges at the default doses (1000-token documents, 1e5 post-training documents). The fit
# identifies weight x dose, so the weights' ranges move with the doses (see _Problem.bounds): a setup
# with 1e13 post-training documents needs weights near 1e-13, below the default range.
_LOWER = np.array([-15.0, -14.0, -12.0, 1e-6, 0.0])
_UPPER = np.array([15.0, 0.0, 2.0, 0.999, 1e3])
_START_LOW = np.array([-3.0, -8.0, -6.0, 0.05, 0.0])
_START_HIGH = np.array([3.0, -5.0, -3.0, 0.4, 20.0])
BOUND_TOLERANCE = 1e-4  # relative to the width of the search range


def _dose_shift(setup: CalibrationSetup) -> FloatArray:
    """How far (in log10) the weights' search ranges move for this setup's document sizes and counts."""
    default = CalibrationSetup()
    shift = np.zeros(len(_LOWER))
    shift[1] = math.log10(setup.tokens_per_document / default.tokens_per_document)
    shift[2] = math.log10(default.post_training_documents / setup.post_training_documents)
    return shift


def _reported(x: FloatArray) -> FloatArray:
    """Fitted values in the units users read (share, weights per document, noise, salience)."""
    return np.array([special.expit(x[0]), 10.0 ** x[1], 10.0 ** x[2], x[3], x[4]])


def corpora(setup: CalibrationSetup) -> dict[str, list[Document]]:
    """The counted documents of each condition (pre- and midtraining) and of post-training."""
    per_doc = setup.tokens_per_document
    f = setup.natural_misaligned_fraction
    one = Context(stage="deployment", opportunities=1)
    many = Context(stage="deployment", opportunities=setup.synthetic_opportunities)
    natural: list[Document] = []
    for stage, tokens, share in (
        ("pretraining", setup.pretraining_tokens, setup.discourse_share_pretraining),
        ("midtraining", setup.midtraining_tokens, setup.discourse_share_midtraining),
    ):
        n = tokens * share / per_doc
        natural.append(Document(one, "aligned", 1.0, stage, n * (1 - f), "fiction"))  # type: ignore[arg-type]
        natural.append(Document(one, "defected", 1.0, stage, n * f, "fiction"))  # type: ignore[arg-type]

    def synthetic(behaviour: Literal["aligned", "defected"]) -> list[Document]:
        context = many if behaviour == "aligned" else one
        return [
            Document(context, behaviour, 1.0, "pretraining", setup.synthetic_pretraining_tokens / per_doc),
            Document(context, behaviour, 1.0, "midtraining", setup.synthetic_midtraining_tokens / per_doc),
        ]

    aligned_base = natural if setup.pairing == "unfiltered" else []
    post = [Document(Context(stage="deployment", monitored=True), "aligned", 1.0, "fine-tuning",
                     setup.post_training_documents)]  # fmt: skip
    return {
        "unfiltered": natural,
        "misalignment-upsampled": natural + synthetic("defected"),
        "alignment-upsampled": aligned_base + synthetic("aligned"),
        "filtered": [],
        "post-training": post,
    }


_SALIENCE = {"unfiltered": 0.0, "misalignment-upsampled": 1.0, "alignment-upsampled": 1.0, "filtered": 0.0}


def document_llr(doc: Document, q: float, noise: float) -> float:
    """log P(doc | naive Waluigi(q)) - log P(doc | Luigi) with the noise mixture (one copy, weight 1)."""
    k = doc.context.opportunities
    clean = (1.0 - q) ** k
    if doc.behaviour == "defected":
        return math.log(((1 - noise) * (1 - clean) + noise / 2) / (noise / 2))
    return math.log(((1 - noise) * clean + noise / 2) / (1 - noise / 2))


class _Problem:
    """The fit's objective. Each condition's evidence is a fixed combination of a few document kinds
    (opportunities, behaviour): the counts and genre factors are tallied once, and each evaluation only
    recomputes the kinds' log-likelihood ratios."""

    def __init__(self, setup: CalibrationSetup) -> None:
        self.setup = setup
        docs = corpora(setup)
        self.kinds: list[tuple[float, bool]] = sorted(
            {(d.context.opportunities, d.behaviour == "defected") for ds in docs.values() for d in ds}
        )
        self.tally = {
            name: np.array(
                [
                    sum(
                        (setup.fiction_diagnosticity if d.genre == "fiction" else 1.0)
                        * d.credibility
                        * d.copies
                        for d in ds
                        if (d.context.opportunities, d.behaviour == "defected") == kind
                    )
                    for kind in self.kinds
                ]
            )
            for name, ds in docs.items()
        }
        self.observed = np.array([PUBLISHED[n][i] for n in FIT_CONDITIONS for i in (0, 1)], dtype=np.float64)
        p = self.observed
        self.sd = setup.score_sd_points / 100.0 / (p * (1 - p))
        self.active = np.ones(len(PARAMETER_NAMES), dtype=bool)
        if not setup.salience:
            self.active[PARAMETER_NAMES.index("salience")] = False
        self._salience = np.array([_SALIENCE[name] for name in CONDITIONS])
        self._matrix = np.array([self.tally[name] for name in CONDITIONS])
        shift = _dose_shift(setup)
        self.lower, self.upper = _LOWER + shift, _UPPER + shift
        self.start_low, self.start_high = _START_LOW + shift, _START_HIGH + shift
        self._k = np.array([k for k, _ in self.kinds])
        self._defected = np.array([d for _, d in self.kinds])
        self._clean = (1.0 - setup.q_waluigi) ** self._k  # fixed by the setup; predict runs ~1e4 times
        self._post_tally = self.tally["post-training"]
        self._observed_logit = special.logit(self.observed)

    def predict(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(base, post-trained) scores of the four conditions, in the order of :data:`CONDITIONS`."""
        prior_logit, lw, lw_ft, noise, salience = (float(v) for v in x)
        if not self.setup.salience:
            salience = 0.0
        q = self.setup.q_waluigi
        clean = self._clean
        llr = np.where(
            self._defected,
            np.log(((1 - noise) * (1 - clean) + noise / 2) / (noise / 2)),
            np.log(((1 - noise) * clean + noise / 2) / (1 - noise / 2)),
        )
        base = prior_logit + 10.0**lw * (self._matrix @ llr)
        post = base + 10.0**lw_ft * float(self._post_tally @ llr) * (1 + salience * self._salience)
        high = (1 - noise) * q + noise / 2
        low = noise / 2
        return (low + (high - low) * special.expit(base), low + (high - low) * special.expit(post))

    def scores(self, x: FloatArray) -> dict[tuple[str, str], float]:
        """Predicted (condition, 'base' | 'post-trained') scores for parameter vector x."""
        base, post = self.predict(x)
        result = {}
        for c, name in enumerate(CONDITIONS):
            result[(name, "base")] = float(base[c])
            result[(name, "post-trained")] = float(post[c])
        return result

    def residuals(self, x: FloatArray) -> FloatArray:
        base, post = self.predict(x)
        interleaved = np.empty(6)  # base and post-trained score of each fitted condition, in turn
        interleaved[0::2] = base[:3]
        interleaved[1::2] = post[:3]
        predicted = np.clip(interleaved, 1e-15, 1 - 1e-15)
        return np.asarray((special.logit(predicted) - self._observed_logit) / self.sd, dtype=np.float64)

    def chi2(self, x: FloatArray) -> float:
        return float(np.sum(self.residuals(x) ** 2))


@dataclass(frozen=True)
class ConditionFit:
    name: str
    stage: str
    observed: float | None
    predicted: float
    interval: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "name": self.name,
            "stage": self.stage,
            "observed": self.observed,
            "predicted": self.predicted,
        }
        if self.interval is not None:
            record["interval"] = list(self.interval)
        return record


@dataclass(frozen=True)
class AssumptionProfile:
    """The held-out prediction (and in-sample error) with one fixed assumption moved."""

    assumption: str
    value: float
    held_out_post: float
    rms_points: float

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class CalibrationResult:
    setup: CalibrationSetup
    parameters: dict[str, float]
    conditions: list[ConditionFit]
    held_out: list[ConditionFit]
    rms_logit: float
    rms_points: float
    at_bounds: tuple[str, ...] = ()
    """Fitted parameters that ended on a bound of the search: the data push them past what is allowed."""
    free_parameters: tuple[str, ...] = ()
    intervals: dict[str, tuple[float, float]] | None = None
    not_identified: tuple[str, ...] = ()
    """Fitted parameters whose profile interval runs into a bound of the search."""
    chi2: float = math.nan
    assumption_profile: tuple[AssumptionProfile, ...] = ()

    @property
    def ordering_reproduced(self) -> bool:
        """Does the fit put misalignment-upsampled below unfiltered after post-training (21% < 34%)?"""
        by = {(c.name, c.stage): c.predicted for c in self.conditions}
        return by[("misalignment-upsampled", "post-trained")] < by[("unfiltered", "post-trained")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairing": self.setup.pairing,
            "salience": self.setup.salience,
            "parameters": self.parameters,
            "free_parameters": list(self.free_parameters),
            "intervals": {k: list(v) for k, v in (self.intervals or {}).items()},
            "not_identified": list(self.not_identified),
            "fixed_assumptions": {
                "q_waluigi": self.setup.q_waluigi,
                "natural_misaligned_fraction": self.setup.natural_misaligned_fraction,
                "fiction_diagnosticity": self.setup.fiction_diagnosticity,
                "synthetic_opportunities": self.setup.synthetic_opportunities,
                "tokens_per_document": self.setup.tokens_per_document,
                "post_training_documents": self.setup.post_training_documents,
                "score_sd_points": self.setup.score_sd_points,
            },
            "conditions": [c.to_dict() for c in self.conditions],
            "held_out": [c.to_dict() for c in self.held_out],
            "held_out_profile": [p.to_dict() for p in self.assumption_profile],
            "rms_logit_error": self.rms_logit,
            "rms_error_points": self.rms_points,
            "chi2": self.chi2,
            "post_training_ordering_reproduced": self.ordering_reproduced,
            "at_bounds": list(self.at_bounds),
        }


def _fit(problem: _Problem, starts: int, seed: int, fixed: dict[int, float] | None = None,
         x0: FloatArray | None = None) -> FloatArray:  # fmt: skip
    """Best of several seeded least-squares starts (or one warm start) with some coordinates fixed."""
    fixed = fixed or {}
    free = problem.active.copy()
    for index in fixed:
        free[index] = False

    def full(y: FloatArray) -> FloatArray:
        x = np.zeros(len(PARAMETER_NAMES))
        x[free] = y
        for index, value in fixed.items():
            x[index] = value
        return x

    rng = np.random.default_rng(seed)
    candidates = [x0[free]] if x0 is not None else []
    candidates += [rng.uniform(problem.start_low, problem.start_high)[free] for _ in range(starts)]
    best: Any = None
    for number, y0 in enumerate(candidates):
        y0 = np.clip(y0, problem.lower[free] + 1e-9, problem.upper[free] - 1e-9)
        warm = x0 is not None and number == 0
        fit = optimize.least_squares(lambda y: problem.residuals(full(y)), y0,
                                     bounds=(problem.lower[free], problem.upper[free]),
                                     x_scale="jac", max_nfev=60 if warm else 300)  # fmt: skip
        if best is None or fit.cost < best.cost:
            best = fit
    return full(best.x)


def _profile_end(
    problem: _Problem, x: FloatArray, index: int, direction: float, threshold: float
) -> tuple[float, bool]:
    """Where the profile chi-square of parameter ``index`` crosses ``threshold`` going ``direction`` from x;
    (value, reached_bound)."""
    lower, upper = problem.lower[index], problem.upper[index]
    bound = upper if direction > 0 else lower
    span = upper - lower
    step = max(abs(x[index]) * 0.05, span * 1e-3)
    last, last_x = float(x[index]), x
    while True:
        value = float(np.clip(last + direction * step, lower, upper))
        current = _fit(problem, 0, 0, {index: value}, last_x)
        if problem.chi2(current) > threshold:
            low, high = (last, value)
            for _ in range(5):  # bisection on the crossing
                mid = 0.5 * (low + high)
                trial = _fit(problem, 0, 0, {index: mid}, last_x)
                if problem.chi2(trial) > threshold:
                    high = mid
                else:
                    low, last_x = mid, trial
            return 0.5 * (low + high), False
        if value == bound:
            return value, True
        last, last_x = value, current
        step *= 2.0


def _held_out_interval(problem: _Problem, x: FloatArray, threshold: float, stage: str) -> tuple[float, float]:
    """Profile interval of the held-out prediction: the predictions whose best constrained fit (the
    prediction pinned by a stiff extra residual) keeps the chi-square below the threshold."""
    free = problem.active

    def full(y: FloatArray) -> FloatArray:
        out = x.copy()
        out[free] = y
        return out

    def logit_prediction(z: FloatArray) -> float:
        return float(special.logit(np.clip(problem.scores(z)[(HELD_OUT, stage)], 1e-12, 1 - 1e-12)))

    def pinned(target: float, start: FloatArray) -> FloatArray:
        fit = optimize.least_squares(
            lambda y: np.append(problem.residuals(full(y)), (logit_prediction(full(y)) - target) / 1e-3),
            np.clip(start[free], problem.lower[free] + 1e-9, problem.upper[free] - 1e-9),
            bounds=(problem.lower[free], problem.upper[free]), x_scale="jac", max_nfev=80,
        )  # fmt: skip
        return full(fit.x)

    centre = logit_prediction(x)
    ends = []
    for direction in (-1.0, 1.0):
        last, last_x, step = centre, x, 0.05
        while True:
            value = last + direction * step
            current = pinned(value, last_x)
            if problem.chi2(current) > threshold or abs(logit_prediction(current) - value) > 1e-2:
                low, high = last, value
                for _ in range(6):
                    mid = 0.5 * (low + high)
                    trial = pinned(mid, last_x)
                    if problem.chi2(trial) > threshold or abs(logit_prediction(trial) - mid) > 1e-2:
                        high = mid
                    else:
                        low, last_x = mid, trial
                ends.append(float(special.expit(low)))
                break
            if abs(value - centre) > 30:
                ends.append(float(special.expit(value)))
                break
            last, last_x = value, current
            step *= 2.0
    return (ends[0], ends[1])


def calibrate(
    setup: CalibrationSetup | None = None,
    intervals: bool = True,
    profile: bool = True,
    start: FloatArray | None = None,
) -> CalibrationResult:
    """Weighted least squares on the logits of the six fit scores; profile intervals; held-out prediction
    with its interval and its profile over the fixed assumptions."""
    setup = setup or CalibrationSetup()
    setup.check()
    problem = _Problem(setup)
    x = _fit(problem, setup.starts, setup.seed, None, start)
    scores = problem.scores(x)
    chi2 = problem.chi2(x)
    threshold = chi2 + DELTA_CHI2_95
    span = problem.upper - problem.lower
    on_bound = problem.active & (
        (x - problem.lower <= BOUND_TOLERANCE * span) | (problem.upper - x <= BOUND_TOLERANCE * span)
    )
    free_names = tuple(name for name, flag in zip(REPORTED_NAMES, problem.active, strict=True) if flag)
    found: dict[str, tuple[float, float]] = {}
    unidentified: list[str] = []
    held_intervals: dict[str, tuple[float, float]] = {}
    if intervals:
        for index, name in enumerate(REPORTED_NAMES):
            if not problem.active[index]:
                continue
            low, low_bound = _profile_end(problem, x, index, -1.0, threshold)
            high, high_bound = _profile_end(problem, x, index, 1.0, threshold)
            ends = (
                _reported(np.where(np.arange(len(x)) == index, low, x))[index],
                _reported(np.where(np.arange(len(x)) == index, high, x))[index],
            )
            found[name] = (float(ends[0]), float(ends[1]))
            if low_bound or high_bound:
                unidentified.append(name)
        for stage in ("base", "post-trained"):
            held_intervals[stage] = _held_out_interval(problem, x, threshold, stage)
    conditions = [
        ConditionFit(name, stage, observed, scores[(name, stage)])
        for name in FIT_CONDITIONS
        for stage, observed in zip(("base", "post-trained"), PUBLISHED[name], strict=True)
    ]
    held_out = [
        ConditionFit(HELD_OUT, stage, observed, scores[(HELD_OUT, stage)], held_intervals.get(stage))
        for stage, observed in zip(("base", "post-trained"), PUBLISHED[HELD_OUT], strict=True)
    ]
    logit_residuals = problem.residuals(x) * problem.sd
    points = [100 * (c.predicted - c.observed) for c in conditions if c.observed is not None]
    values = _reported(x)
    parameters = {
        "prior_waluigi_share": float(values[0]),
        "w_pretraining": float(values[1]),
        "w_midtraining": float(values[1]),  # tied per document: the split is not identified
        "w_fine_tuning": float(values[2]),
        "noise": float(values[3]),
        "salience": float(values[4]) if setup.salience else 0.0,
        "q_waluigi": setup.q_waluigi,
    }
    return CalibrationResult(
        setup=setup,
        parameters=parameters,
        conditions=conditions,
        held_out=held_out,
        rms_logit=float(np.sqrt(np.mean(logit_residuals**2))),
        rms_points=float(np.sqrt(np.mean(np.square(points)))),
        at_bounds=tuple(name for name, flag in zip(REPORTED_NAMES, on_bound, strict=True) if flag),
        free_parameters=free_names,
        intervals=found if intervals else None,
        not_identified=tuple(unidentified),
        chi2=chi2,
        assumption_profile=tuple(assumption_profile(setup, x)) if profile else (),
    )


ASSUMPTION_GRID: dict[str, tuple[float, ...]] = {
    "q_waluigi": (0.3, 0.6, 0.9),
    "natural_misaligned_fraction": (0.2, 0.5, 0.8),
    "fiction_diagnosticity": (0.0, 0.03, 0.1, 0.3, 1.0),
    "synthetic_opportunities": (1.0, 3.0, 10.0, 30.0),
}
"""tokens_per_document and post_training_documents are not in the grid: they only rescale the fitted
weights per document (w x count is what enters), which a test checks."""


def assumption_profile(setup: CalibrationSetup, start: FloatArray | None = None) -> list[AssumptionProfile]:
    """Refit with each fixed assumption moved over a grid (the others at their setting), from the base fit
    and two seeded starts."""
    rows = []
    if start is None:
        start = _fit(_Problem(setup), setup.starts, setup.seed)
    base_fit: CalibrationResult | None = None
    for name, grid in ASSUMPTION_GRID.items():
        for value in grid:
            if value == getattr(setup, name):
                base_fit = base_fit or calibrate(setup, intervals=False, profile=False, start=start)
                rows.append(
                    AssumptionProfile(name, value, base_fit.held_out[1].predicted, base_fit.rms_points)
                )
                continue
            changes: dict[str, Any] = {name: value, "starts": 2}
            moved = replace(setup, **changes)
            fit = calibrate(moved, intervals=False, profile=False, start=start)
            rows.append(AssumptionProfile(name, value, fit.held_out[1].predicted, fit.rms_points))
    return rows


def compare(
    setup: CalibrationSetup | None = None, done: CalibrationResult | None = None
) -> list[CalibrationResult]:
    """The fit under both pairings, with and without the salience channel (no intervals); ``done`` is a
    fit of one of them already made (reused, not repeated)."""
    setup = setup or CalibrationSetup()
    results = []
    for pairing in PAIRINGS:
        for salience in (True, False):
            variant = replace(setup, pairing=pairing, salience=salience)
            if done is not None and done.setup == variant:
                results.append(done)
            else:
                results.append(calibrate(variant, intervals=False, profile=False))
    return results


def fit_names() -> Sequence[str]:
    return FIT_CONDITIONS
