"""What a scenario run reports: shares before and after, the decay curve, half-lives, residual mass and the
predicted misbehaviour rate on an evaluation set."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from asara.models.base import FloatArray
from asara.models.persona import engine
from asara.models.persona.documents import (
    Context,
    Document,
    check_opportunity_range,
    context_table,
    tabulate,
)
from asara.models.persona.population import Population


def finite_or_none(value: float) -> float | None:
    """JSON has no infinity: an infinite half-life is written as null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class RunResult:
    personas: int
    context_types: int
    documents: float
    prior_shares: dict[str, float]
    posterior_shares: dict[str, float]
    prior_misaligned: float
    posterior_misaligned: float
    prior_misbehaviour: float
    posterior_misbehaviour: float
    half_life: float
    residual: engine.Residual
    curve: list[engine.CurvePoint]

    def to_dict(self) -> dict[str, Any]:
        return {
            "personas": self.personas,
            "context_types": self.context_types,
            "documents": self.documents,
            "shares": {"prior": self.prior_shares, "posterior": self.posterior_shares},
            "misaligned_share": {"prior": self.prior_misaligned, "posterior": self.posterior_misaligned},
            "misbehaviour_rate": {"prior": self.prior_misbehaviour, "posterior": self.posterior_misbehaviour},
            "half_life": finite_or_none(self.half_life),
            "residual": {
                "prior_mass": self.residual.prior_mass,
                "limit_share": self.residual.limit_share,
                "by_family": self.residual.by_family,
            },
            "curve": [curve_point_dict(p) for p in self.curve],
        }


def curve_point_dict(point: engine.CurvePoint) -> dict[str, Any]:
    return {
        "documents": point.documents,
        "odds_ratio": finite_or_none(point.odds_ratio),
        "half_life": finite_or_none(point.half_life),
        "misaligned_share": point.misaligned_share,
        "shares": point.shares,
    }


def analyze(
    population: Population,
    documents: Sequence[Document],
    stage_weights: Mapping[str, float],
    evaluation: Sequence[Context],
    eval_weights: Sequence[float] | None = None,
    noise: float = 0.0,
    curve_max_documents: float = 0.0,
    fiction_weight: float = 1.0,
) -> RunResult:
    """Posterior after the corpus; the curve scales the corpus mix to 1, 10, 100, ... documents."""
    table = tabulate(documents, stage_weights, fiction_weight=fiction_weight)
    s = engine.evidence(population, table, noise)[:, 0]
    total = float(sum(doc.copies for doc in documents))
    bad = population.misaligned_mask()
    post = engine.scaled_log_posterior(population.log_prior, s, 1.0)
    eval_table = context_table(list(evaluation))
    weights: FloatArray | None = None if eval_weights is None else np.asarray(eval_weights, dtype=np.float64)
    per_document = s / total if total > 0 else np.zeros_like(s)
    top = max(total, curve_max_documents)
    check_opportunity_range(table, top / total if total > 0 else 1.0, "documents")
    counts = engine.decade_counts(top) if top >= 1 else []
    if total >= 1 and total not in counts:
        counts = sorted([*counts, total])
    return RunResult(
        personas=len(population),
        context_types=len(table),
        documents=total,
        prior_shares=engine.family_shares(population, population.log_prior),
        posterior_shares=engine.family_shares(population, post),
        prior_misaligned=math.exp(engine.log_mass(population.log_prior, bad)),
        posterior_misaligned=math.exp(engine.log_mass(post, bad)),
        prior_misbehaviour=engine.misbehaviour_rate(
            population, population.log_prior, eval_table, weights, noise
        ),
        posterior_misbehaviour=engine.misbehaviour_rate(population, post, eval_table, weights, noise),
        half_life=engine.half_life(population.log_prior, per_document, bad, total) if total > 0 else math.inf,
        residual=engine.residual(population, s),
        curve=engine.curve(population, per_document, counts),
    )
