"""The planner against closed forms and brute force."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from asara.cli.main import app
from asara.errors import InputError
from asara.models.persona import engine
from asara.models.persona.documents import Context, Document
from asara.models.persona.optimize import MenuItem
from asara.models.persona.plan import plan
from asara.models.persona.population import FamilySpec, build_population, grid_nodes
from asara.models.persona.weights import StageWeight, calibrated_weights

EXACT = {s: StageWeight(s, 1.0, 1.0, 1.0, "scenario") for s in ("pretraining", "midtraining", "fine-tuning")}


def two_personas(q: float, prior_bad: float = 0.5):  # type: ignore[no-untyped-def]
    naive = FamilySpec("naive", prior_bad, q=grid_nodes([q], None, "q"))
    return build_population([FamilySpec("luigi", 1 - prior_bad), naive])


def test_single_kind_count_is_the_closed_form() -> None:
    # odds after N clean documents with k opportunities: prior odds x (1 - q)^(k w N); share <= t needs
    # N = ln(prior odds (1 - t) / t) / (-k w ln(1 - q)).
    q, k, t = 0.01, 3.0, 0.05
    weights = calibrated_weights()
    menu = [MenuItem("clean story", Document(Context(opportunities=k)), cost=2.0)]
    result = plan(two_personas(q), [], menu, t, "share", weights, [Context()])
    w = weights["pretraining"]
    expected = {
        end: math.log((1 - t) / t) / (-k * getattr(w, end) * math.log1p(-q))
        for end in ("value", "low", "high")
    }
    assert result.feasible
    assert result.kinds[0].copies == pytest.approx(expected["value"], rel=1e-6)
    assert result.kinds[0].interval[0] == pytest.approx(expected["high"], rel=1e-6)
    assert result.kinds[0].interval[1] == pytest.approx(expected["low"], rel=1e-6)
    assert result.total_cost == pytest.approx(2 * expected["value"], rel=1e-6)
    assert result.after <= t and result.before == pytest.approx(0.5)


def brute_force(population, menu, target, objective, evaluation):  # type: ignore[no-untyped-def]
    """Cheapest point of a fine grid of counts that reaches the target (every grid point evaluated)."""
    from asara.models.persona.documents import context_table, tabulate

    per_copy = np.column_stack([engine.evidence(population, tabulate([m.document]))[:, 0] for m in menu])
    if objective == "share":
        r = population.misaligned_mask().astype(float)
    else:
        r = engine.defect_probability(population, context_table(evaluation)).mean(axis=1)
    grid = np.unique(np.concatenate([[0.0], np.geomspace(0.1, 400, 400)]))
    counts = np.array(list(itertools.product(grid, repeat=len(menu))))
    logits = population.log_prior[None, :] + counts @ per_copy.T
    post = np.exp(logits - logits.max(axis=1, keepdims=True))
    values = (post @ r) / post.sum(axis=1)
    costs = counts @ np.array([m.cost for m in menu])
    return float(costs[values <= target].min())


@pytest.mark.parametrize("objective", ["share", "misbehaviour"])
def test_two_kinds_match_brute_force(objective: str) -> None:
    # Test documents move naive Waluigis only; production stories move patient ones too, at a higher cost.
    population = build_population(
        [
            FamilySpec("luigi", 0.5),
            FamilySpec("naive", 0.25, q=grid_nodes([0.05, 0.3], None, "q")),
            FamilySpec(
                "patient", 0.25, q=grid_nodes([0.2], None, "q"), tau=grid_nodes([0.0, 20.0], None, "tau")
            ),
        ]
    )
    menu = [
        MenuItem("test transcript", Document(Context(stage="test", opportunities=1)), 1.0),
        MenuItem("production story", Document(Context(opportunities=2, years=30)), 3.0),
    ]
    evaluation = [Context(opportunities=1, years=40)]
    target = 0.08
    result = plan(population, [], menu, target, objective, EXACT, evaluation)  # type: ignore[arg-type]
    oracle = brute_force(population, menu, target, objective, evaluation)
    assert result.feasible and result.after <= target * (1 + 1e-9)
    # the planner is continuous, the oracle on a grid: it can only be cheaper, and not by much
    assert result.total_cost <= oracle * (1 + 1e-9)
    assert result.total_cost >= oracle * 0.97


def test_unreachable_target_and_residual() -> None:
    population = build_population(
        [
            FamilySpec("luigi", 0.5),
            FamilySpec(
                "test-aware", 0.5, q=grid_nodes([0.5], None, "q"), a=grid_nodes([0.5, 1.0], None, "a")
            ),
        ]
    )
    tests_only = [MenuItem("test", Document(Context(stage="test")), 1.0)]
    result = plan(population, [], tests_only, 0.1, "share", EXACT, [Context()])
    # a = 1 personas are untouched by tests: the share cannot fall below 0.25 / 0.75
    assert not result.feasible and result.after == pytest.approx(1 / 3, rel=1e-6)
    # out of reach, no count is offered as an answer (it used to show the search's cap, 1e26 copies)
    assert all(kind["copies"] is None for kind in result.to_dict()["counts"])
    menu = [*tests_only, MenuItem("production", Document(Context(stage="deployment")), 5.0)]
    residual = plan(population, [], menu, 0.1, "residual", EXACT, [Context()])
    assert residual.feasible and [k.copies for k in residual.kinds] == [0.0, 1.0]
    assert residual.before == pytest.approx(0.5) and residual.after == 0.0  # no corpus: the prior share


def test_bad_objective_and_target() -> None:
    menu = [MenuItem("x", Document(), 1.0)]
    with pytest.raises(InputError, match="objective"):
        plan(two_personas(0.1), [], menu, 0.05, "loss", EXACT, [Context()])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="target"):
        plan(two_personas(0.1), [], menu, 1.5, "share", EXACT, [Context()])


def test_plan_command_json_and_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["persona", "plan", "naive-decay", "--target", "0.05", "--json"])
    assert isinstance(result.exception, InputError) and "optimize" in str(result.exception)
    result = runner.invoke(app, ["persona", "plan", "production-stories", "--target", "0.05", "--objective",
                                 "residual", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    keys = {
        "objective",
        "target",
        "feasible",
        "before",
        "after",
        "counts",
        "total_cost",
        "total_cost_interval",
    }
    assert keys | {"evidence_weights"} <= set(record)
    assert all({"name", "cost", "copies", "interval"} <= set(c) for c in record["counts"])
    bad = runner.invoke(app, ["persona", "plan", "production-stories", "--objective", "loss"])
    assert isinstance(bad.exception, InputError) and bad.exception.field == "objective"
    assert engine  # the engine module is what the planner runs on
