"""`asara persona explain`: the generic Shapley attribution over persona scenarios."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from asara.analysis.persona_explain import explain_personas
from asara.cli.main import app
from asara.models.persona.parameters import PARAMETERS
from asara.montecarlo.sampling import sample_inputs
from asara.scenarios import persona
from tests.sie.test_cli import asara

cli = CliRunner()


def test_attributions_add_up_to_the_total_change() -> None:
    changes, explanations = explain_personas("test-aware", "production-stories", 500, 3)
    assert len(changes) >= 2
    for explanation in explanations:
        total = sum(a.value for a in explanation.attributions)
        assert total == pytest.approx(explanation.total_change, abs=1e-12)


def test_one_change_is_the_plain_difference() -> None:
    changes, explanations = explain_personas(
        "production-stories", "production-stories", 400, 5, ["noise=0.01"]
    )
    assert changes == ["noise"]
    a, b = persona.load("production-stories"), persona.load("production-stories", ["noise=0.01"])
    for explanation in explanations:
        means = []
        for scenario in (a, b):
            model = scenario.model()
            inputs = sample_inputs(scenario.distributions(), model.input_names, 5, 0, 400)
            means.append(float(np.mean(model.evaluate(inputs)[explanation.output])))
        assert explanation.baseline == pytest.approx(means[0], abs=1e-12)
        assert explanation.attributions[0].value == pytest.approx(means[1] - means[0], abs=1e-12)


@pytest.mark.parametrize("key", [p.key for p in PARAMETERS if p.section is None and p.group])
def test_every_declared_setting_that_moves_the_outputs_is_attributed(key: str) -> None:
    """A changed setting is never silently left out ("the same assumptions"): each declared top-level
    setting with an explanation group shows up as its own change, and carries the whole difference."""
    value = {"noise": 0.01, "fiction_diagnosticity": 0.5, "chekhov": 0.5}[key]
    changes, explanations = explain_personas(
        "tice-calibration", "tice-calibration", 50, 1, [f"{key}={value}"]
    )
    group = next(p.group for p in PARAMETERS if p.key == key)
    assert changes == [group]
    moved = [e for e in explanations if e.total_change != 0]
    assert moved, f"changing {key} moved no output"
    for explanation in moved:
        assert explanation.attributions[0].value == pytest.approx(explanation.total_change, abs=1e-12)


def test_cli_json_keys() -> None:
    result = cli.invoke(app, ["persona", "explain", "naive-decay", "test-aware", "-n", "100", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert set(record) == {"misbehaviour_rate", "misaligned_share"}
    for output in record.values():
        assert {"baseline", "changed", "total_change", "attributions"} == set(output)
        assert all({"change", "value", "standard_error"} == set(a) for a in output["attributions"])


@pytest.mark.parametrize(
    "args", [["naive-decay", "no-such-preset"], ["naive-decay", "test-aware", "-n", "0"]]
)
def test_cli_bad_input_is_one_line_exit_2(args: list[str]) -> None:
    result = asara("persona", "explain", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
