"""The corpus optimizer against brute force over budget shares."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, context_table, tabulate
from asara.models.persona.optimize import MenuItem, optimize_mix
from asara.models.persona.population import FamilySpec, beta_nodes, build_population, grid_nodes

POPULATION = build_population(
    [
        FamilySpec("luigi", 0.5),
        FamilySpec("naive", 0.2, q=beta_nodes(1, 1)),
        FamilySpec("test-aware", 0.2, q=beta_nodes(1, 1), a=grid_nodes([0.5, 1.0], None, "a")),
        FamilySpec("patient", 0.1, q=grid_nodes([0.3], None, "q"), tau=grid_nodes([5.0, 50.0], None, "tau")),
    ]
)
MENU = [
    MenuItem("test transcript", Document(Context(stage="test")), 1.0),
    MenuItem("year-1 story", Document(Context(years=1), credibility=0.6), 2.0),
    MenuItem("century saga", Document(Context(years=100, opportunities=3), credibility=0.2), 10.0),
]
EVALUATION = [Context(years=0.5), Context(years=60)]


def brute_force(budget: float, step: float = 0.025) -> float:
    """Every budget split on a grid, each posterior from per-copy evidence (exponents add up)."""
    per_copy = np.stack(
        [engine.evidence(POPULATION, tabulate([Document(m.document.context, m.document.behaviour,
                                                        m.document.credibility)]))[:, 0] for m in MENU],
        axis=1,
    )  # fmt: skip
    rate = engine.defect_probability(POPULATION, context_table(EVALUATION)).mean(axis=1)
    grid = np.arange(0, 1 + step / 2, step)
    shares = np.array([c for c in itertools.product(grid, repeat=len(MENU)) if sum(c) <= 1 + 1e-12])
    copies = shares * budget / np.array([m.cost for m in MENU])
    logits = POPULATION.log_prior[None, :] + copies @ per_copy.T
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return float(((weights @ rate) / weights.sum(axis=1)).min())


@pytest.mark.parametrize("budget", [5.0, 50.0, 500.0])
def test_optimizer_is_at_least_as_good_as_a_fine_grid(budget: float) -> None:
    result = optimize_mix(POPULATION, [], MENU, budget, {}, EVALUATION)
    assert result.after <= brute_force(budget) * (1 + 1e-6)
    assert sum(a.copies * a.cost for a in result.allocations) <= budget * (1 + 1e-9)
    # the reported rate is the exact posterior rate of the reported mix
    docs = [Document(m.document.context, m.document.behaviour, m.document.credibility, copies=a.copies)
            for m, a in zip(MENU, result.allocations, strict=True)]  # fmt: skip
    post = engine.posterior(POPULATION, tabulate(docs))
    assert result.after == pytest.approx(
        engine.misbehaviour_rate(post, post.log_prior, context_table(EVALUATION))
    )
