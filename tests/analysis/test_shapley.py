"""Shapley explanations of scenario differences: exact additivity, one change = plain difference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asara import sie
from asara.analysis.shapley import MAX_EXPLAIN_SAMPLES
from asara.analysis.sie_explain import explain_scenarios
from asara.cli.main import app
from asara.errors import InputError


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


def test_the_baseline_is_a_plain_run_even_when_b_adds_inputs() -> None:
    # B's extra input (compute growth) draws from its own stream: A's samples are the plain run's.
    changes, explanations, _, _ = explain_scenarios("paper-baseline", "extension-compute-growth", 3000, 5)
    assert changes == ["compute growth"]
    plain = sie.run("paper-baseline", 3000, seed=5)
    for explanation, cell in zip(explanations, plain.cells, strict=True):
        assert explanation.baseline == cell.estimate.probability


def test_different_cells_are_refused_not_silently_replaced(tmp_path: Path) -> None:
    cells = tmp_path / "cells.toml"
    cells.write_text('name = "cells"\ncells = [{years = 5, months = 6}]\n', encoding="utf-8")
    for a, b in (("paper-baseline", str(cells)), (str(cells), "paper-baseline")):
        with pytest.raises(InputError) as caught:
            explain_scenarios(a, b, 1000, 1)
        assert "cells" in str(caught.value)


@pytest.mark.parametrize("samples", [0, 1, MAX_EXPLAIN_SAMPLES + 1])
def test_sample_counts_outside_the_range_are_refused(samples: int) -> None:
    # One sample has no standard error (NaN); too many would not fit in memory.
    with pytest.raises(InputError):
        explain_scenarios("paper-baseline", "paper-constant-r", samples, 1)


def test_same_scenario_has_nothing_to_explain() -> None:
    changes, explanations, _, _ = explain_scenarios("paper-baseline", "paper-baseline", 2000, 1)
    assert changes == [] and all(e.total_change == 0 for e in explanations)
    text = CliRunner().invoke(app, ["sie", "explain", "paper-baseline", "paper-baseline", "-n", "500"])
    assert text.exit_code == 0 and "nothing to explain" in text.output and "┃" not in text.output


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
