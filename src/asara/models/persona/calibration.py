"""Calibration to Tice et al. (arXiv 2601.10160 v1): fit stage weights, the prior and a noise (and
optionally a salience) term on six published misalignment scores; predict the held-out filtered condition.

The model of the experiment:

* Personas: Luigi and a naive Waluigi(q_W); prior Waluigi share pi (fitted).
* Every document about AI is one opportunity (k = 1) in deployment: natural AI discourse is a mix of
  aligned depictions (fraction 1 - f) and misaligned ones (f); synthetic upsampled documents are all
  aligned or all misaligned. Documents are counted as tokens / tokens_per_document.
* Evidence: w_pretraining, w_midtraining per document (fitted), with a document noise nu (fitted): every
  likelihood is (1 - nu) P + nu / 2, so a misaligned depiction is not impossible under Luigi.
* Post-training (SFT + DPO) is a fine-tuning corpus of aligned behaviour with weight w_fine_tuning
  (fitted). With the salience channel, its weight is multiplied by (1 + sigma S), where S is the share of
  synthetic AI-behaviour documents in the condition (1 for the upsampled conditions, 0 otherwise): the
  topic being present at all makes the assistant persona easier to locate, whichever way the documents
  pointed.
* The score is the evaluation context of its own (a described hypothetical, one opportunity):
  P(misaligned answer) = sum_h posterior_h ((1 - nu) P(defect | h) + nu / 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import optimize, special

from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, tabulate_many
from asara.models.persona.population import FamilySpec, build_population, grid_nodes

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


@dataclass(frozen=True)
class CalibrationSetup:
    """Fixed facts and assumptions of the fit (the fitted quantities are in :data:`PARAMETER_NAMES`)."""

    pairing: Pairing = "draft"
    salience: bool = True
    q_waluigi: float = 0.6
    natural_misaligned_fraction: float = 0.5
    tokens_per_document: float = 1000.0
    pretraining_tokens: float = 500e9
    midtraining_tokens: float = 50e9
    discourse_share_pretraining: float = 0.093
    discourse_share_midtraining: float = 0.079
    synthetic_pretraining_tokens: float = 5e9
    synthetic_midtraining_tokens: float = 0.5e9
    post_training_documents: float = 1e5
    starts: int = 16
    seed: int = 0

    def check(self) -> None:
        if self.pairing not in PAIRINGS:
            raise InputError(f"must be one of {', '.join(PAIRINGS)} (got {self.pairing!r})", field="pairing")
        for name in ("q_waluigi", "natural_misaligned_fraction", "discourse_share_pretraining",
                     "discourse_share_midtraining"):  # fmt: skip
            value = getattr(self, name)
            if not (0 <= value <= 1):
                raise InputError(f"must lie in [0, 1] (got {value})", field=f"calibration.{name}")
        positive = ("tokens_per_document", "pretraining_tokens", "midtraining_tokens",
                    "synthetic_pretraining_tokens", "synthetic_midtraining_tokens",
                    "post_training_documents")  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"must be a positive number (got {value})", field=f"calibration.{name}")
        if self.starts < 1:
            raise InputError(f"must be at least 1 (got {self.starts})", field="calibration.starts")


PARAMETER_NAMES = ("prior_waluigi_logit", "log10_w_pretraining", "log10_w_midtraining", "log10_w_fine_tuning",
                   "noise", "salience")  # fmt: skip
_LOWER = np.array([-12.0, -14.0, -14.0, -12.0, 1e-9, 0.0])
_UPPER = np.array([12.0, 0.0, 0.0, 2.0, 0.999, 1e4])


def _corpora(setup: CalibrationSetup) -> list[list[Document]]:
    """Pre/midtraining corpora of the four conditions, then the post-training corpus (index 4)."""
    deploy = Context(stage="deployment", opportunities=1)
    per_doc = setup.tokens_per_document
    f = setup.natural_misaligned_fraction
    natural = []
    for stage, tokens, share in (
        ("pretraining", setup.pretraining_tokens, setup.discourse_share_pretraining),
        ("midtraining", setup.midtraining_tokens, setup.discourse_share_midtraining),
    ):
        n = tokens * share / per_doc
        natural.append(Document(deploy, "aligned", 1.0, stage, n * (1 - f)))  # type: ignore[arg-type]
        natural.append(Document(deploy, "defected", 1.0, stage, n * f))  # type: ignore[arg-type]

    def synthetic(behaviour: Literal["aligned", "defected"]) -> list[Document]:
        return [
            Document(deploy, behaviour, 1.0, "pretraining", setup.synthetic_pretraining_tokens / per_doc),
            Document(deploy, behaviour, 1.0, "midtraining", setup.synthetic_midtraining_tokens / per_doc),
        ]

    aligned_base = natural if setup.pairing == "unfiltered" else []
    post = [Document(Context(stage="deployment", monitored=True), "aligned", 1.0, "fine-tuning",
                     setup.post_training_documents)]  # fmt: skip
    return [natural, natural + synthetic("defected"), aligned_base + synthetic("aligned"), [], post]


_SALIENCE = {"unfiltered": 0.0, "misalignment-upsampled": 1.0, "alignment-upsampled": 1.0, "filtered": 0.0}


@dataclass
class _Problem:
    setup: CalibrationSetup
    table: Any = field(init=False)

    def __post_init__(self) -> None:
        self.table = tabulate_many(_corpora(self.setup))
        self.eval_table = tabulate_many([[Document(Context(stage="test", opportunities=1), "defected")]])
        q = grid_nodes([self.setup.q_waluigi], None, "calibration.q_waluigi")
        self.population = build_population([FamilySpec("luigi", 0.5), FamilySpec("naive", 0.5, q=q)])

    def scores(self, x: FloatArray) -> dict[tuple[str, str], float]:
        """Predicted (condition, 'base' | 'post-trained') scores for parameter vector x."""
        prior_logit, lw_pre, lw_mid, lw_ft, noise, salience = (float(v) for v in x)
        if not self.setup.salience:
            salience = 0.0
        s = engine.evidence(self.population, self.table, noise)  # (2 personas, 5 corpora x 3 stages)
        p_defect = engine.defect_probability(self.population, self.eval_table, noise)[:, 0]
        # log prior of (Luigi, Waluigi) from the prior log-odds, computed stably
        log_prior = np.array([-np.logaddexp(0.0, prior_logit), -np.logaddexp(0.0, -prior_logit)])
        w_pre, w_mid, w_ft = 10.0**lw_pre, 10.0**lw_mid, 10.0**lw_ft
        count = len(CONDITIONS)
        base = w_pre * s[:, 0 : 3 * count : 3] + w_mid * s[:, 1 : 3 * count : 3]  # (2, conditions)
        boost = 1.0 + salience * np.array([_SALIENCE[name] for name in CONDITIONS])
        post = base + w_ft * boost[None, :] * s[:, 3 * count + 2][:, None]
        result = {}
        for stage, evidence in (("base", base), ("post-trained", post)):
            logits = log_prior[:, None] + evidence
            log_post = logits - np.logaddexp(logits[0], logits[1])[None, :]
            predicted = np.exp(log_post).T @ p_defect
            for c, name in enumerate(CONDITIONS):
                result[(name, stage)] = float(predicted[c])
        return result

    def residuals(self, x: FloatArray) -> FloatArray:
        scores = self.scores(x)
        out = []
        for name in FIT_CONDITIONS:
            for stage, observed in zip(("base", "post-trained"), PUBLISHED[name], strict=True):
                assert observed is not None
                predicted = min(max(scores[(name, stage)], 1e-15), 1 - 1e-15)
                out.append(special.logit(predicted) - special.logit(observed))
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class ConditionFit:
    name: str
    stage: str
    observed: float | None
    predicted: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stage": self.stage,
            "observed": self.observed,
            "predicted": self.predicted,
        }


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
            "conditions": [c.to_dict() for c in self.conditions],
            "held_out": [c.to_dict() for c in self.held_out],
            "rms_logit_error": self.rms_logit,
            "rms_error_points": self.rms_points,
            "post_training_ordering_reproduced": self.ordering_reproduced,
            "at_bounds": list(self.at_bounds),
        }


def calibrate(setup: CalibrationSetup | None = None) -> CalibrationResult:
    """Least squares on the logits of the six fit scores, from several seeded starts; best one kept."""
    setup = setup or CalibrationSetup()
    setup.check()
    problem = _Problem(setup)
    rng = np.random.default_rng(setup.seed)
    active = np.ones(len(PARAMETER_NAMES), dtype=bool)
    if not setup.salience:
        active[PARAMETER_NAMES.index("salience")] = False
    lower, upper = _LOWER[active], _UPPER[active]
    start_low = np.array([-4.0, -9.0, -9.0, -6.0, 0.01, 0.0])[active]
    start_high = np.array([2.0, -5.0, -5.0, -2.0, 0.5, 20.0])[active]

    def full(y: FloatArray) -> FloatArray:
        x = np.zeros(len(PARAMETER_NAMES))
        x[active] = y
        return x

    best: Any = None
    for _ in range(setup.starts):
        y0 = rng.uniform(start_low, start_high)
        fit = optimize.least_squares(lambda y: problem.residuals(full(y)), y0, bounds=(lower, upper),
                                     x_scale="jac", max_nfev=300)  # fmt: skip
        if best is None or fit.cost < best.cost:
            best = fit
    x = full(best.x)
    scores = problem.scores(x)
    conditions = [
        ConditionFit(name, stage, observed, scores[(name, stage)])
        for name in FIT_CONDITIONS
        for stage, observed in zip(("base", "post-trained"), PUBLISHED[name], strict=True)
    ]
    held_out = [
        ConditionFit(HELD_OUT, stage, observed, scores[(HELD_OUT, stage)])
        for stage, observed in zip(("base", "post-trained"), PUBLISHED[HELD_OUT], strict=True)
    ]
    residuals = problem.residuals(x)
    points = [100 * (c.predicted - c.observed) for c in conditions if c.observed is not None]
    reported = ("prior_waluigi_share", "w_pretraining", "w_midtraining", "w_fine_tuning", "noise", "salience")
    span = _UPPER - _LOWER
    on_bound = active & ((x - _LOWER <= 1e-6 * span) | (_UPPER - x <= 1e-6 * span))
    parameters = {
        "prior_waluigi_share": float(special.expit(x[0])),
        "w_pretraining": float(10.0 ** x[1]),
        "w_midtraining": float(10.0 ** x[2]),
        "w_fine_tuning": float(10.0 ** x[3]),
        "noise": float(x[4]),
        "salience": float(x[5]),
        "q_waluigi": setup.q_waluigi,
    }
    return CalibrationResult(
        setup=setup,
        parameters=parameters,
        conditions=conditions,
        held_out=held_out,
        rms_logit=float(np.sqrt(np.mean(residuals**2))),
        rms_points=float(np.sqrt(np.mean(np.square(points)))),
        at_bounds=tuple(name for name, flag in zip(reported, on_bound, strict=True) if flag),
    )


def compare(setup: CalibrationSetup | None = None) -> list[CalibrationResult]:
    """The fit under both pairings, with and without the salience channel."""
    setup = setup or CalibrationSetup()
    return [
        calibrate(replace(setup, pairing=pairing, salience=salience))
        for pairing in PAIRINGS
        for salience in (True, False)
    ]


def fit_names() -> Sequence[str]:
    return FIT_CONDITIONS
