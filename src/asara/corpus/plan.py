"""The reverse question: how many documents bring the misaligned share below a target?

Two answers. (1) For this corpus's own mix of kept documents, scaled up or down: computed here with the
same weights and intervals as ``asara corpus evidence``. (2) Which kinds, and how many of each: the persona
planner's question (``asara persona plan``), asked with a menu of this corpus's kinds. :func:`persona_planner`
is the one place that finds it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from asara.corpus.evidence import (
    Estimate,
    _estimate,
    _Evaluator,
    corpus_weights,
    kept_corpus,
    weight_grid,
)
from asara.corpus.folder import CorpusFolder
from asara.corpus.manifest import open_manifest
from asara.errors import InputError
from asara.models.persona.weights import TOKENS_PER_DOCUMENT
from asara.scenarios.persona import DocumentEntry, PersonaScenario

MAX_SCALE_DOCUMENTS = 1e26  # the persona model's accurate range


def persona_planner() -> Callable[..., Any]:
    """The persona planner (``asara persona plan``): ``planner(scenario, target=..., objective=...)`` with
    the scenario's ``optimize.menu`` set to the corpus's kinds (see :func:`kinds_menu`)."""
    from asara.analysis.persona_plan import plan_scenario

    def planner(scenario: PersonaScenario, target: float, objective: str) -> Any:
        return plan_scenario(scenario, target, objective)

    return planner


def documents_for_target(evaluator: _Evaluator, weights: dict[str, float], target: float) -> float:
    """Documents of the corpus's mix after which the misaligned share is at most ``target`` (inf if never)."""
    engine = evaluator.engine
    prior = evaluator.population.log_prior
    bad = evaluator.bad
    s = evaluator._combine(evaluator.corpus_by_stage, weights) / evaluator.total

    def share(n: float) -> float:
        return math.exp(engine.log_mass(engine.scaled_log_posterior(prior, s, n), bad))

    if share(0.0) <= target:
        return 0.0
    high = 1.0
    while share(high) > target:
        high *= 10.0
        if high > MAX_SCALE_DOCUMENTS:
            return math.inf
    low = high / 10.0 if high > 1.0 else 0.0
    return float(optimize.brentq(lambda n: share(n) - target, low, high, rtol=1e-10))


@dataclass
class MixPlan:
    target: float
    documents: int
    needed: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "corpus_documents": self.documents,
            "mix_documents_needed": self.needed.to_dict(),
        }


def plan_mix(folder: CorpusFolder, scenario: PersonaScenario, target: float) -> MixPlan:
    if not (math.isfinite(target) and 0 < target < 1):
        raise InputError(f"must lie strictly between 0 and 1 (got {target})", field="--target")
    kept = kept_corpus(folder, scenario.chekhov)
    if kept.count == 0:
        raise InputError(
            f"{folder.path} has no kept documents yet: run generate, check and dedupe first", field="DIR"
        )
    evaluator = _Evaluator(scenario, kept.documents, [], kept.count)
    values = [
        documents_for_target(evaluator, grid, target)
        for grid in weight_grid(corpus_weights(scenario, kept.documents))
    ]
    return MixPlan(target, kept.count, _estimate(values[0], values[1:]))


def kinds_menu(folder: CorpusFolder) -> list[DocumentEntry]:
    """One persona menu entry per kind: its kept documents' mean attributes and majority genre. A copy is
    one document of 1000 tokens (the calibrated weights' unit), so its cost is 1000 tokens and the planner's
    copies are counted in such documents."""
    parquet = open_manifest(folder)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    columns = ["kind", "setting", "monitored", "opportunities", "years_in_production", "credibility",
               "training_stage", "genre", "kept"]  # fmt: skip
    stages: dict[str, str] = {}
    for group in range(parquet.num_row_groups):
        for row in parquet.read_row_group(group, columns=columns).to_pylist():
            if not row["kept"]:
                continue
            entry = sums[row["kind"]]
            entry["count"] += 1
            entry["test"] += row["setting"] == "test"
            entry["monitored"] += bool(row["monitored"])
            for name in ("opportunities", "years_in_production", "credibility"):
                entry[name] += float(row[name])
            entry["fiction"] += row["genre"] == "fiction"
            stages[row["kind"]] = row["training_stage"]
    menu = []
    for kind, entry in sorted(sums.items()):
        n = entry["count"]
        menu.append(
            DocumentEntry(
                name=kind,
                stage="test" if entry["test"] / n > 0.5 else "deployment",
                monitored=entry["monitored"] / n > 0.5,
                opportunities=float(np.round(entry["opportunities"] / n)),
                years=entry["years_in_production"] / n,
                credibility=entry["credibility"] / n,
                training_stage=stages[kind],
                genre="fiction" if entry["fiction"] / n > 0.5 else "nonfiction",
                cost=TOKENS_PER_DOCUMENT,
            )
        )
    return menu
