"""The planner: how many documents of each kind bring an objective below a target, at least cost.

Objectives, each a posterior expectation sum_h post_h r_h after the base corpus plus x_i copies of kind i:

* ``share``: the misaligned persona share (r_h = 1 on misaligned personas);
* ``misbehaviour``: predicted misbehaviour on the evaluation set (r_h = mean P(defect | h, context));
* ``residual``: the misaligned share that no number of copies of the chosen kinds can remove (the limit
  share of :func:`asara.models.persona.engine.residual`). It depends on which kinds are used, not on how
  many copies: the plan is the cheapest set of kinds reaching the target, one copy of each.

For ``share`` and ``misbehaviour``, the least cost C(target) is found by bisection on the budget B: the
least value reachable with budget B (:func:`asara.models.persona.optimize.best_mix`) does not increase
with B, so the smallest B that reaches the target is the cheapest plan. The interval comes from the
weight uncertainty: the plan is recomputed with every stage weight at the low and at the high end of its
interval (jointly: the weights scale the evidence of every document alike, so the ends bound the counts).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize

from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.persona import engine
from asara.models.persona.documents import (
    MAX_DOCUMENTS,
    Context,
    Document,
    tabulate,
)
from asara.models.persona.optimize import (
    MenuItem,
    _stage_weighted,
    base_logits,
    best_mix,
    check_menu,
    expected,
    menu_evidence,
    misbehaviour_per_persona,
)
from asara.models.persona.population import Population
from asara.models.persona.weights import StageWeight

Objective = Literal["share", "residual", "misbehaviour"]
OBJECTIVES: tuple[Objective, ...] = ("share", "residual", "misbehaviour")
_BISECTIONS = 36
_MIX_BISECTIONS = 24
_FLOOR = -1e30
_MAX_SUBSET_ITEMS = 12  # 4096 subsets for the residual objective


@dataclass(frozen=True)
class PlannedKind:
    name: str
    cost: float
    copies: float
    interval: tuple[float, float]  # copies at the high and at the low end of the weights' intervals

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cost": self.cost,
            "copies": self.copies if math.isfinite(self.copies) else None,
            "interval": [v if math.isfinite(v) else None for v in self.interval],
        }


@dataclass(frozen=True)
class PlanResult:
    objective: Objective
    target: float
    feasible: bool
    before: float
    after: float
    """The objective after the plan (or the least reachable value when the target is out of reach)."""
    kinds: list[PlannedKind]
    total_cost: float
    total_cost_interval: tuple[float, float]
    feasible_at: dict[str, bool]
    """Whether the target is reachable at the low and at the high end of the weights."""
    closest: tuple[str, ...] = ()
    """When the target is out of reach: the kinds the closest plan uses (for the residual objective, the
    set of kinds with the least residual, which ``after`` is)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "target": self.target,
            "feasible": self.feasible,
            "before": self.before,
            "after": self.after,
            "counts": [k.to_dict() for k in self.kinds],
            "total_cost": self.total_cost if math.isfinite(self.total_cost) else None,
            "total_cost_interval": [v if math.isfinite(v) else None for v in self.total_cost_interval],
            "feasible_at_weight_ends": self.feasible_at,
        }


@dataclass(frozen=True)
class _Plan:
    feasible: bool
    copies: FloatArray
    value: float


def _solve(
    population: Population,
    s0: FloatArray,
    per_copy: FloatArray,
    r: FloatArray,
    costs: FloatArray,
    target: float,
    objective: Objective,
) -> _Plan:
    base = base_logits(population, s0)
    items = costs.shape[0]
    zero = np.zeros(items)
    if objective == "residual":
        return _solve_residual(population, s0, per_copy, costs, target)
    before = expected(base, per_copy, r, zero)
    if before <= target:
        return _Plan(True, zero, before)
    cap = MAX_DOCUMENTS  # the most a plan may buy in all: the model's range of accuracy

    floored = np.where(np.isneginf(per_copy), _FLOOR, per_copy)
    finite_base = np.isfinite(base)
    base_f = np.where(finite_base, base, 0.0)

    def value(copies: FloatArray) -> float:
        # the posterior expectation by one matrix-vector product (a floor stands in for log 0: one copy
        # of a document impossible under a persona removes it, zero copies leave it)
        logits = base_f + floored @ np.clip(copies, 0, None)
        logits = np.where(finite_base & (logits > _FLOOR / 2), logits, -np.inf)
        top = logits.max()
        if not np.isfinite(top):
            return math.inf
        weights = np.exp(logits - top)
        return float(np.dot(weights, r) / weights.sum())

    # Single kinds first: the least count of kind i alone reaching the target (bisection in log count).
    starts: list[FloatArray] = []
    for i in range(items):
        unit = np.eye(items)[i]
        if value(cap * unit) > target:
            continue
        low, high = -30.0, math.log10(cap)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (low + high)
            if value(10.0**mid * unit) <= target:
                high = mid
            else:
                low = mid
        starts.append(10.0**high * unit)
    if not starts:
        best = best_mix(base, per_copy, r, costs, cap * float(costs.min()))
        return _Plan(False, best, value(best))
    # Then mixes: the least budget B at which the best mix reaches the target. The least value reachable
    # with budget B does not increase with B, so B is found by bisection (in log B) below the cheapest
    # single kind; the mix at each B is SLSQP on budget shares from the previous one.
    reference = min(starts, key=lambda x: float(x @ costs))
    high = float(reference @ costs)
    shares = reference * costs / high
    finite_s = floored

    def log_value_and_gradient(y: FloatArray, budget: float) -> tuple[float, FloatArray]:
        scale = budget / costs
        logits = base_f + floored @ (np.clip(y, 0, None) * scale)
        logits = np.where(finite_base & (logits > _FLOOR / 2), logits, -np.inf)
        post = np.exp(logits - logits.max())
        post /= post.sum()
        v = float(np.dot(post, r))
        if v <= 0:
            return -745.0, np.zeros_like(y)
        cov = (post * r) @ finite_s - v * (post @ finite_s)
        return math.log(v), cov * scale / v

    def mix_at(budget: float, start: FloatArray) -> FloatArray:
        fit = optimize.minimize(
            log_value_and_gradient,
            start,
            args=(budget,),
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * items,
            constraints=[{"type": "ineq", "fun": lambda y: 1.0 - y.sum(), "jac": lambda y: -np.ones_like(y)}],
            options={"maxiter": 60, "ftol": 1e-10},
        )
        y = np.clip(fit.x, 0.0, 1.0)
        y = y / max(1.0, float(y.sum()))
        return (
            y if log_value_and_gradient(y, budget)[0] <= log_value_and_gradient(start, budget)[0] else start
        )

    shares = mix_at(high, shares)
    low = high * 1e-6
    best = reference
    for _ in range(_MIX_BISECTIONS):
        mid = math.sqrt(low * high)
        trial = mix_at(mid, shares)
        copies = trial * mid / costs
        if value(copies) <= target:
            high, shares, best = mid, trial, copies
        else:
            low = mid
        if high / low < 1 + 1e-3:
            break
    best = _feasible(np.where(best < 1e-9 * best.max(), 0.0, best), value, target, cap)
    if value(best) > target or float(best @ costs) > float(reference @ costs):
        best = reference
    return _Plan(True, best, value(best))


def _feasible(copies: FloatArray, value: Any, target: float, cap: float) -> FloatArray:
    """The copies scaled along their own direction to the least multiple that reaches the target."""
    total = float(copies.sum())
    if total <= 0:
        return copies
    direction = copies / total
    if value(direction * cap) > target:
        return copies
    low, high = -30.0, math.log10(cap)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        if value(direction * 10.0**mid) <= target:
            high = mid
        else:
            low = mid
    return np.asarray(direction * 10.0**high, dtype=np.float64)


def _solve_residual(
    population: Population, s0: FloatArray, per_copy: FloatArray, costs: FloatArray, target: float
) -> _Plan:
    items = costs.shape[0]
    if items > _MAX_SUBSET_ITEMS:
        raise InputError(
            f"the residual objective tries every set of kinds: at most {_MAX_SUBSET_ITEMS} kinds "
            f"(got {items})",
            field="optimize.menu",
        )
    best: tuple[float, FloatArray, float] | None = None
    fallback: tuple[float, FloatArray] | None = None
    for size in range(items + 1):
        for subset in itertools.combinations(range(items), size):
            copies = np.zeros(items)
            copies[list(subset)] = 1.0
            with np.errstate(invalid="ignore"):
                s = s0 + np.where(copies[None, :] > 0, per_copy * copies[None, :], 0.0).sum(axis=1)
            value = engine.residual(population, s).limit_share
            cost = float(costs[list(subset)].sum())
            if value <= target and (best is None or cost < best[0]):
                best = (cost, copies, value)
            if fallback is None or value < fallback[0]:
                fallback = (value, copies)
    if best is not None:
        return _Plan(True, best[1], best[2])
    assert fallback is not None
    return _Plan(False, fallback[1], fallback[0])


def plan(
    population: Population,
    base_documents: Sequence[Document],
    menu: Sequence[MenuItem],
    target: float,
    objective: Objective,
    weights: Mapping[str, StageWeight],
    evaluation: Sequence[Context],
    eval_weights: Sequence[float] | None = None,
    noise: float = 0.0,
    fiction_weight: float = 1.0,
) -> PlanResult:
    """Copies of each menu kind (``MenuItem``: a document, copies ignored, and a cost per copy) that bring
    ``objective`` ("share", "residual" or "misbehaviour") to at most ``target`` at least total cost, with
    an interval over the weights' intervals. ``weights`` maps each training stage to a ``StageWeight``
    (:func:`asara.models.persona.weights.calibrated_weights` or a scenario's)."""
    if objective not in OBJECTIVES:
        raise InputError(f"must be one of {', '.join(OBJECTIVES)} (got {objective!r})", field="objective")
    if not (math.isfinite(target) and 0 <= target <= 1):
        raise InputError(f"must lie in [0, 1] (got {target})", field="target")
    check_menu(menu)
    base_table = tabulate(base_documents, by_stage=True, fiction_weight=fiction_weight)
    raw_base = engine.evidence(population, base_table,
                               noise)  # fmt: skip
    raw_menu = menu_evidence(population, menu, fiction_weight, noise)
    if objective == "share":
        r = population.misaligned_mask().astype(np.float64)
    else:
        r = misbehaviour_per_persona(population, evaluation, eval_weights, noise)
    costs = np.array([m.cost for m in menu], dtype=np.float64)

    def solve(end: str) -> _Plan:
        values = {stage: getattr(weight, end) for stage, weight in weights.items()}
        s0 = _stage_weighted(raw_base, values, 1)[:, 0]
        per_copy = _stage_weighted(raw_menu, values, len(menu))
        return _solve(population, s0, per_copy, r, costs, target, objective)

    central, at_low, at_high = solve("value"), solve("low"), solve("high")
    s0 = _stage_weighted(raw_base, {s: w.value for s, w in weights.items()}, 1)[:, 0]
    if objective == "residual":
        before = engine.residual(population, s0).limit_share
    else:
        before = expected(base_logits(population, s0), np.zeros((len(population), 0)), r, np.zeros(0))

    def cost(result: _Plan) -> float:
        return float(result.copies @ costs) if result.feasible else math.inf

    kinds = []
    for i, item in enumerate(menu):
        ends = (
            float(at_high.copies[i]) if at_high.feasible else math.inf,
            float(at_low.copies[i]) if at_low.feasible else math.inf,
        )
        # out of reach: no count is an answer (the search's best effort sits at the model's cap)
        middle = float(central.copies[i]) if central.feasible else math.inf
        kinds.append(PlannedKind(item.name, item.cost, middle, (min(*ends, middle), max(*ends, middle))))
    return PlanResult(
        objective=objective,
        target=target,
        feasible=central.feasible,
        before=before,
        after=central.value,
        kinds=kinds,
        total_cost=cost(central),
        total_cost_interval=(min(cost(at_high), cost(at_low)), max(cost(at_high), cost(at_low))),
        feasible_at={"low": at_low.feasible, "high": at_high.feasible},
        closest=()
        if central.feasible
        else tuple(item.name for i, item in enumerate(menu) if central.copies[i] > 0),
    )
