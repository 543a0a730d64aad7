"""Shapley explanations of scenario differences: exact additivity, one change = plain difference."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from asara import sie
from asara.analysis.sie_explain import explain_scenarios
from asara.cli.main import app


def test_attributions_add_up_exactly() -> None:
    changes, explanations, _, _ = explain_scenarios("paper-baseline", "paper-gradual-boost", 4000, 3)
    assert changes == ["returns (r0) distribution", "distance-to-limit distribution", "pre-ASARA ramp"]
    for explanation in explanations:
        total = sum(a.value for a in explanation.attributions)
        assert total == pytest.approx(explanation.total_change, abs=1e-12)
        assert all(a.standard_error > 0 for a in explanation.attributions)


def test_one_change_equals_the_plain_difference_with_common_random_numbers() -> None:
    changes, explanations, _, _ = explain_scenarios("paper-baseline", "paper-retraining", 6000, 4)
    assert changes == ["retraining"]
    # With one input-free change both scenarios see the same samples as a plain run with the same seed.
    a = sie.run("paper-baseline", 6000, seed=4)
    b = sie.run("paper-retraining", 6000, seed=4)
    for explanation, cell_a, cell_b in zip(explanations, a.cells, b.cells, strict=True):
        difference = cell_b.estimate.probability - cell_a.estimate.probability
        assert explanation.attributions[0].value == pytest.approx(difference, abs=1e-12)
        assert explanation.baseline == pytest.approx(cell_a.estimate.probability, abs=1e-12)


def test_same_scenario_has_nothing_to_explain() -> None:
    changes, explanations, _, _ = explain_scenarios("paper-baseline", "paper-baseline", 2000, 1)
    assert changes == [] and all(e.total_change == 0 for e in explanations)


def test_explain_json_keys() -> None:
    result = CliRunner().invoke(
        app, ["sie", "explain", "paper-baseline", "paper-constant-r", "-n", "3000", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert set(record) == {"p_3y_12mo", "p_3_33y_4mo", "p_10y_12mo", "p_10y_4mo"}
    for output in record.values():
        assert {"baseline", "changed", "total_change", "attributions"} <= output.keys()
        for attribution in output["attributions"]:
            assert {"change", "value", "standard_error"} <= attribution.keys()


def test_explain_reproducible_from_seed() -> None:
    first = explain_scenarios("paper-baseline", "paper-gradual-boost", 2000, 9)[1]
    second = explain_scenarios("paper-baseline", "paper-gradual-boost", 2000, 9)[1]
    assert first == second


def test_explain_bad_input_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asara.cli.main", "sie", "explain", "paper-baseline", "no-such-preset"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
