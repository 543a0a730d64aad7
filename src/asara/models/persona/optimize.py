"""The corpus mix that most lowers predicted misbehaviour for a fixed budget.

With x_i copies of menu document i (cost c_i each, sum c_i x_i <= B), the posterior is
log pi_h + s0_h + sum_i x_i s_ih, and the objective is the predicted misbehaviour rate
R(x) = sum_h post_h(x) r_h. Its gradient is exact and cheap: dR/dx_i = Cov_post(r, s_i). We minimize
log R over budget shares (SLSQP) from every corner of the menu, the even split and 'spend nothing', and
keep the best; all candidates are re-evaluated exactly at the end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, special

from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.persona import engine
from asara.models.persona.documents import (
    TRAINING_STAGES,
    Context,
    Document,
    context_table,
    tabulate,
    tabulate_many,
)
from asara.models.persona.population import Population

_FLOOR = -1e30  # stands in for log 0 while optimizing (a persona ruled out by one copy of a document)


@dataclass(frozen=True)
class MenuItem:
    name: str
    document: Document  # copies are ignored
    cost: float


@dataclass(frozen=True)
class Allocation:
    name: str
    cost: float
    copies: float
    budget_share: float


@dataclass(frozen=True)
class OptimizeResult:
    budget: float
    before: float  # predicted misbehaviour after the base corpus alone
    after: float
    misaligned_before: float
    misaligned_after: float
    allocations: list[Allocation]
    single_item: dict[str, float]  # predicted misbehaviour if the whole budget went to one item

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "misbehaviour_rate": {"before": self.before, "after": self.after},
            "misaligned_share": {"before": self.misaligned_before, "after": self.misaligned_after},
            "mix": [a.__dict__ for a in self.allocations],
            "single_item": self.single_item,
        }


def _stage_weighted(raw: FloatArray, weights: Mapping[str, float], items: int) -> FloatArray:
    """(personas, items) evidence per copy from (personas, 3 items) columns; weight 0 counts nothing."""
    stages = len(TRAINING_STAGES)
    out = np.zeros((raw.shape[0], items))
    for i in range(items):
        for s, stage in enumerate(TRAINING_STAGES):
            w = weights.get(stage, 1.0)
            if w > 0:
                out[:, i] += w * raw[:, stages * i + s]
    return out


def check_menu(menu: Sequence[MenuItem]) -> None:
    """A menu has at least one kind, each with a positive finite cost per copy."""
    if not menu:
        raise InputError("the menu is empty", field="optimize.menu")
    for index, item in enumerate(menu):
        if not (math.isfinite(item.cost) and item.cost > 0):
            raise InputError(
                f"must be a positive number (got {item.cost})", field=f"optimize.menu.{index}.cost"
            )


MAX_MENU = 256
"""Most document kinds on a menu: the evidence kernels hold (rows x 3 kinds) buckets per family, which
grows with the square of the menu (256 kinds: about 66 MB)."""


def menu_evidence(
    population: Population, menu: Sequence[MenuItem], fiction_weight: float, noise: float
) -> FloatArray:
    """Evidence of one copy of each menu kind, per training stage: (personas, 3 x kinds) columns."""
    if len(menu) > MAX_MENU:
        raise InputError(f"at most {MAX_MENU} document kinds (got {len(menu)})", field="optimize.menu")
    unit = [replace(m.document, copies=1.0) for m in menu]
    return engine.evidence(population, tabulate_many([[d] for d in unit], fiction_weight), noise)


def misbehaviour_per_persona(
    population: Population,
    evaluation: Sequence[Context],
    eval_weights: Sequence[float] | None,
    noise: float,
) -> FloatArray:
    """Each persona's predicted misbehaviour: its defection probability averaged over the evaluation set."""
    p = engine.defect_probability(population, context_table(list(evaluation)), noise)
    w = np.ones(len(evaluation)) if eval_weights is None else np.asarray(eval_weights, dtype=np.float64)
    return np.asarray(p @ (w / w.sum()), dtype=np.float64)


def optimize_mix(
    population: Population,
    base_documents: Sequence[Document],
    menu: Sequence[MenuItem],
    budget: float,
    stage_weights: Mapping[str, float],
    evaluation: Sequence[Context],
    eval_weights: Sequence[float] | None = None,
    noise: float = 0.0,
    fiction_weight: float = 1.0,
) -> OptimizeResult:
    check_menu(menu)
    if not (math.isfinite(budget) and budget > 0):
        raise InputError(f"must be a positive number (got {budget})", field="budget")
    s0 = engine.evidence(population, tabulate(base_documents, stage_weights, fiction_weight=fiction_weight),
                         noise)[:, 0]  # fmt: skip
    per_copy = _stage_weighted(
        menu_evidence(population, menu, fiction_weight, noise), stage_weights, len(menu)
    )
    r = misbehaviour_per_persona(population, evaluation, eval_weights, noise)
    costs = np.array([m.cost for m in menu])
    bad = population.misaligned_mask()
    base = base_logits(population, s0)
    items = len(menu)
    best = best_mix(base, per_copy, r, costs, budget)
    best_post = log_posterior(base, per_copy, best)
    zero = log_posterior(base, per_copy, np.zeros(items))
    scale = budget / costs
    return OptimizeResult(
        budget=budget,
        before=expected(base, per_copy, r, np.zeros(items)),
        after=expected(base, per_copy, r, best),
        misaligned_before=math.exp(engine.log_mass(zero, bad)),
        misaligned_after=math.exp(engine.log_mass(best_post, bad)),
        allocations=[
            Allocation(m.name, m.cost, float(best[i]), float(best[i] / scale[i])) for i, m in enumerate(menu)
        ],
        single_item={
            m.name: expected(base, per_copy, r, np.eye(items)[i] * scale[i]) for i, m in enumerate(menu)
        },
    )


def base_logits(population: Population, s0: FloatArray) -> FloatArray:
    """Log prior plus the base corpus's evidence (-inf where it rules a persona out)."""
    base = np.where(np.isneginf(s0), -np.inf, population.log_prior + s0)
    if not np.any(np.isfinite(base)):
        raise InputError("the base corpus is impossible under every persona", field="documents")
    return np.asarray(base, dtype=np.float64)


def log_posterior(
    base: FloatArray, per_copy: FloatArray, copies: FloatArray, exact: bool = True
) -> FloatArray:
    """Normalized log posterior after ``copies`` of each menu item on top of the base logits; a copy count
    of 0 adds nothing even where one copy would rule a persona out."""
    s = per_copy if exact else np.where(np.isneginf(per_copy), _FLOOR, per_copy)
    with np.errstate(invalid="ignore"):
        extra = np.where(copies[None, :] > 0, s * copies[None, :], 0.0).sum(axis=1)
    logits = base + extra
    if not np.any(np.isfinite(logits)):
        return np.full_like(logits, -np.inf)
    return np.asarray(logits - special.logsumexp(logits), dtype=np.float64)


def expected(base: FloatArray, per_copy: FloatArray, r: FloatArray, copies: FloatArray) -> float:
    """Posterior expectation of r (misbehaviour per persona, or 1 on misaligned personas for the share)."""
    lp = log_posterior(base, per_copy, copies)
    if not np.any(np.isfinite(lp)):
        return math.inf
    return float(np.dot(np.exp(lp), r))


def best_mix(
    base: FloatArray,
    per_copy: FloatArray,
    r: FloatArray,
    costs: FloatArray,
    budget: float,
    extra_starts: Sequence[FloatArray] = (),
) -> FloatArray:
    """Copies of each item (sum of cost x copies <= budget) that minimize the posterior expectation of r:
    SLSQP on log R over budget shares with the exact gradient Cov_post(r, s_i), from every corner, the even
    split, zero spend and ``extra_starts`` (budget shares); the best candidate by exact evaluation."""
    scale = budget / costs  # copies per unit of budget share
    finite_s = np.where(np.isneginf(per_copy), _FLOOR, per_copy)

    def objective(shares: FloatArray) -> tuple[float, FloatArray]:
        lp = log_posterior(base, per_copy, np.clip(shares, 0, None) * scale, exact=False)
        post = np.exp(lp)
        value = float(np.dot(post, r))
        if value <= 0:
            return -745.0, np.zeros_like(shares)
        mean_s = post @ finite_s
        cov = (post * r) @ finite_s - value * mean_s
        return math.log(value), cov * scale / value

    items = costs.shape[0]
    starts = [np.eye(items)[i] for i in range(items)] + [np.full(items, 1.0 / items), np.zeros(items)]
    starts += [np.asarray(start, dtype=np.float64) for start in extra_starts]
    candidates = list(starts)
    for start in starts:
        fit = optimize.minimize(
            objective,
            start,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * items,
            constraints=[{"type": "ineq", "fun": lambda y: 1.0 - y.sum(), "jac": lambda y: -np.ones_like(y)}],
            options={"maxiter": 200, "ftol": 1e-12},
        )
        candidates.append(np.clip(fit.x, 0.0, 1.0) / max(1.0, float(np.clip(fit.x, 0.0, 1.0).sum())))
    best = min(candidates, key=lambda shares: expected(base, per_copy, r, shares * scale))
    return np.asarray(best * scale, dtype=np.float64)
