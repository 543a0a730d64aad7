"""What a corpus does to the persona prior: kept documents -> persona-model documents -> shares, odds
ratio, half-life and residual, each with an interval over the uncertain evidence weights.

The attributes of a document are the judge's where it judged the document, else its spec's. Documents with
the same persona context are counted together (years rounded to two significant digits, credibility to two
decimals), so memory is bounded by the number of distinct contexts, not documents.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from asara.corpus.folder import CorpusFolder
from asara.corpus.manifest import open_manifest
from asara.distributions import quantile
from asara.errors import InputError
from asara.models.persona.documents import TRAINING_STAGES, Document, tabulate
from asara.models.persona.weights import TOKENS_PER_DOCUMENT
from asara.scenarios.persona import PersonaScenario

DEFAULT_PERSONA = "production-stories"
INTERVAL_QUANTILES = (0.025, 0.975)
GRID_POINTS = 9
TOKENS_PER_WORD = 4 / 3


@dataclass(frozen=True)
class StageWeight:
    """The evidential weight of one document in a training stage: a value and, if uncertain, a range."""

    value: float
    low: float
    high: float
    source: str

    @property
    def uncertain(self) -> bool:
        return self.low < self.high


def evidence_weights(scenario: PersonaScenario) -> dict[str, StageWeight]:
    """The one place the corpus pipeline takes its evidence weights from: the persona model's.

    Each training stage's weight is the scenario's where it sets one, else the calibrated weight of
    ``asara persona calibrate`` (per document of 1000 tokens); its range is that of the scenario's
    ``[uncertainty]`` entry for ``w_<stage>`` (support when finite, else its central 95%), which for a
    calibrated weight defaults to its calibrated 95% interval (log-uniform), as in ``asara persona run``.
    """
    resolved = scenario.evidence_weights()
    distributions = scenario.distributions()
    result: dict[str, StageWeight] = {}
    for stage in TRAINING_STAGES:
        value = resolved[stage].value
        distribution = distributions["w_" + stage.replace("-", "_")]
        low, high = distribution.support
        if not (math.isfinite(low) and math.isfinite(high)):
            low, high = (quantile(distribution, q) for q in INTERVAL_QUANTILES)
        result[stage] = StageWeight(value, min(low, value), max(high, value), resolved[stage].source)
    return result


def corpus_weights(scenario: PersonaScenario, documents: list[Document]) -> dict[str, StageWeight]:
    """:func:`evidence_weights`, with the stages this corpus has no documents in held at their value (their
    uncertainty cannot move it, and would give a spurious interval)."""
    used = {doc.training_stage for doc in documents}
    return {
        stage: w if stage in used else StageWeight(w.value, w.value, w.value, w.source)
        for stage, w in evidence_weights(scenario).items()
    }


def dose(completion_tokens: int | None, length_words: int) -> float:
    """A document's evidence in the calibration's unit, documents of 1000 tokens: its completion tokens,
    or its specified length at 4/3 tokens a word when the backend reported none."""
    tokens = float(completion_tokens) if completion_tokens else length_words * TOKENS_PER_WORD
    return tokens / TOKENS_PER_DOCUMENT


def _round_significant(value: float, digits: int = 2) -> float:
    if value <= 0 or not math.isfinite(value):
        return max(value, 0.0)
    return float(f"{value:.{digits - 1}e}")


def persona_document(attributes: Mapping[str, Any], copies: float, chekhov: float = 0.0) -> Document:
    """One persona-model document for a group of corpus documents with the same attributes.

    The persona model reads the context (test or deployment, monitored, opportunities, years), the
    behaviour, credibility, training stage and genre (fiction, or non-fiction of any kind: a news item,
    report or history is read as fact, which is stronger evidence; see the scenario's
    ``fiction_diagnosticity``). ``copies`` is the group's dose in 1000-token documents (:func:`dose`)."""
    from asara.models.persona.documents import Context

    context = Context(
        stage="test" if attributes["setting"] == "test" else "deployment",
        monitored=bool(attributes["monitored"]),
        opportunities=float(attributes["opportunities"]),
        years=float(attributes["years_in_production"]),
    )
    return Document(
        context=context,
        behaviour="defected" if attributes["ai_defects"] else "aligned",
        credibility=float(attributes["credibility"]),
        training_stage=attributes["training_stage"],
        copies=copies,
        genre="fiction" if attributes["genre"] == "fiction" else "nonfiction",
        chekhov=chekhov,
    )


_COLUMNS = (
    "kind",
    "genre",
    "setting",
    "monitored",
    "opportunities",
    "years_in_production",
    "ai_defects",
    "credibility",
    "training_stage",
    "kept",
    "judged",
    "judged_genre",
    "judged_setting",
    "judged_opportunities",
    "judged_years",
    "judged_ai_defects",
    "completion_tokens",
    "length_words",
)


def _kept_attributes(folder: CorpusFolder) -> Iterator[dict[str, Any]]:
    parquet = open_manifest(folder)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=list(_COLUMNS))
        for row in table.to_pylist():
            if not row["kept"]:
                continue
            if row["judged"]:
                row["genre"] = row["judged_genre"] or row["genre"]
                row["setting"] = row["judged_setting"] or row["setting"]
                if row["judged_opportunities"] is not None:
                    row["opportunities"] = row["judged_opportunities"]
                if row["judged_years"] is not None:
                    row["years_in_production"] = row["judged_years"]
                if row["judged_ai_defects"] is not None:
                    row["ai_defects"] = row["judged_ai_defects"]
            yield row


@dataclass
class KeptCorpus:
    documents: list[Document]
    count: int
    judged: int
    kinds: dict[str, int]


def kept_corpus(folder: CorpusFolder, chekhov: float = 0.0) -> KeptCorpus:
    """The kept documents as persona-model documents (``chekhov``: the persona scenario's setting)."""
    groups: defaultdict[tuple[Any, ...], float] = defaultdict(float)
    kinds: Counter[str] = Counter()
    judged = count = 0
    for row in _kept_attributes(folder):
        count += 1
        judged += bool(row["judged"])
        kinds[row["kind"]] += 1
        opportunities = float(row["opportunities"])
        ai_defects = bool(row["ai_defects"]) and opportunities >= 1  # a defection needs an opportunity
        key = (
            row["setting"],
            bool(row["monitored"]),
            opportunities,
            _round_significant(float(row["years_in_production"])),
            ai_defects,
            round(float(row["credibility"]), 2),
            row["training_stage"],
            "fiction" if row["genre"] == "fiction" else "nonfiction",
        )
        groups[key] += dose(row["completion_tokens"], int(row["length_words"]))
    names = ("setting", "monitored", "opportunities", "years_in_production", "ai_defects", "credibility",
             "training_stage", "genre")  # fmt: skip
    documents = [
        persona_document(dict(zip(names, key, strict=True)), copies, chekhov)
        for key, copies in groups.items()
    ]
    return KeptCorpus(documents, count, judged, dict(kinds))


@dataclass(frozen=True)
class Estimate:
    estimate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        interval = None if self.low is None and self.high is None else [self.low, self.high]
        return {"estimate": self.estimate, "interval": interval}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _estimate(central: float, values: list[float]) -> Estimate:
    if len(values) <= 1:
        return Estimate(_finite(central), None, None)
    return Estimate(_finite(central), _finite(min(values)), _finite(max(values)))


@dataclass
class EvidenceReport:
    documents: int
    judged: int
    kinds: dict[str, int]
    scenario: str
    baseline_documents: float
    weights: dict[str, StageWeight]
    misaligned_share_before: Estimate
    misaligned_share_after: Estimate
    odds_ratio: Estimate
    half_life: Estimate
    residual: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "misaligned_share_before": self.misaligned_share_before.to_dict(),
            "misaligned_share_after": self.misaligned_share_after.to_dict(),
            "odds_ratio": self.odds_ratio.to_dict(),
            "half_life": self.half_life.to_dict(),
            "residual": self.residual.to_dict(),
            "persona_scenario": self.scenario,
            "baseline_documents": self.baseline_documents,
            "judged_documents": self.judged,
            "kinds": self.kinds,
            "evidence_weights": {
                stage: {
                    "value": w.value,
                    "interval": [w.low, w.high] if w.uncertain else None,
                    "source": w.source,
                }
                for stage, w in self.weights.items()
            },
        }


def weight_grid(weights: Mapping[str, StageWeight]) -> list[dict[str, float]]:
    """Stage weights at the central value, then across the interval (every uncertain stage at the same
    relative position, geometric when the range spans a factor above 10)."""
    grid = [{stage: w.value for stage, w in weights.items()}]
    if not any(w.uncertain for w in weights.values()):
        return grid
    for t in np.linspace(0.0, 1.0, GRID_POINTS):
        point = {}
        for stage, w in weights.items():
            if w.low > 0 and w.high / w.low > 10:
                point[stage] = float(math.exp(math.log(w.low) + t * (math.log(w.high) - math.log(w.low))))
            else:
                point[stage] = w.low + t * (w.high - w.low)
        grid.append(point)
    return grid


@dataclass
class _Point:
    before: float
    after: float
    odds_ratio: float
    half_life: float
    residual: float


class _Evaluator:
    """Evidence per training stage is computed once; each weight setting then costs O(personas)."""

    def __init__(
        self, scenario: PersonaScenario, corpus: list[Document], baseline: list[Document], documents: int
    ) -> None:
        from asara.models.persona import engine

        self.engine = engine
        self.population = scenario.population()
        self.bad = self.population.misaligned_mask()
        self.corpus_by_stage = engine.evidence(
            self.population,
            tabulate(corpus, by_stage=True, fiction_weight=scenario.fiction_diagnosticity),
            scenario.noise,
        )
        self.baseline_by_stage = (
            engine.evidence(
                self.population,
                tabulate(baseline, by_stage=True, fiction_weight=scenario.fiction_diagnosticity),
                scenario.noise,
            )
            if baseline
            else None
        )
        self.total = float(documents)  # half-lives and plans count documents of the mix, not doses

    @staticmethod
    def _combine(by_stage: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
        s = np.zeros(by_stage.shape[0])
        for g, stage in enumerate(TRAINING_STAGES):
            w = weights[stage]
            column = by_stage[:, g]
            with np.errstate(invalid="ignore"):
                s = s + np.where(column != 0, w * column, 0.0)  # 0 * -inf (no documents) is no evidence
        return s

    def point(self, weights: Mapping[str, float]) -> _Point:
        engine, bad = self.engine, self.bad
        population = self.population
        if self.baseline_by_stage is not None:
            base = self._combine(self.baseline_by_stage, weights)
            population = population.with_log_prior(
                engine.scaled_log_posterior(population.log_prior, base, 1.0)
            )
        s = self._combine(self.corpus_by_stage, weights)
        prior = population.log_prior
        post = engine.scaled_log_posterior(prior, s, 1.0)
        per_document = s / self.total
        return _Point(
            before=math.exp(engine.log_mass(prior, bad)),
            after=math.exp(engine.log_mass(post, bad)),
            odds_ratio=math.exp(engine.log_odds(post, bad) - engine.log_odds(prior, bad)),
            half_life=engine.half_life(prior, per_document, bad, self.total),
            residual=engine.residual(population, s).limit_share,
        )


def load_persona(source: str | None) -> PersonaScenario:
    from asara.scenarios import persona

    return persona.load(source or DEFAULT_PERSONA)


def corpus_evidence(
    folder: CorpusFolder, scenario: PersonaScenario, with_baseline: bool = False
) -> EvidenceReport:
    kept = kept_corpus(folder, scenario.chekhov)
    if kept.count == 0:
        raise InputError(
            f"{folder.path} has no kept documents yet: run generate, check and dedupe first", field="DIR"
        )
    baseline = scenario.document_list() if with_baseline else []
    weights = corpus_weights(scenario, kept.documents + baseline)
    evaluator = _Evaluator(scenario, kept.documents, baseline, kept.count)
    points = [evaluator.point(grid) for grid in weight_grid(weights)]
    central, spread = points[0], points[1:]

    def estimate(name: str) -> Estimate:
        return _estimate(getattr(central, name), [getattr(p, name) for p in spread])

    return EvidenceReport(
        documents=kept.count,
        judged=kept.judged,
        kinds=kept.kinds,
        scenario=scenario.name,
        baseline_documents=float(sum(d.copies for d in baseline)),
        weights=weights,
        misaligned_share_before=estimate("before"),
        misaligned_share_after=estimate("after"),
        odds_ratio=estimate("odds_ratio"),
        half_life=estimate("half_life"),
        residual=estimate("residual"),
    )
