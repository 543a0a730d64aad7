"""Sobol' and Morris indices and the tornado, over the generic model interface: closed forms (Ishigami,
linear models), an independent implementation (scipy.stats.sobol_indices), the SIE and persona models, and
the CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from asara import sie
from asara.analysis.sensitivity import morris, sobol
from asara.analysis.tornado import tornado
from asara.cli.main import app
from asara.distributions import Fixed, Uniform
from asara.errors import InputError
from asara.models.base import Array, FloatArray, headline_names
from asara.models.registry import Output
from asara.scenarios import persona
from tests.sie.test_cli import asara

cli = CliRunner()
A, B = 7.0, 0.1


class Ishigami:
    input_names = ("x1", "x2", "x3")
    outputs = (Output("y", "continuous", "Ishigami function"),)
    output_names = headline_names(outputs)

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        x1, x2, x3 = (np.asarray(inputs[n]) for n in self.input_names)
        return {"y": np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)}


class Linear:
    """y = sum c_i x_i, plus a constant output."""

    def __init__(self, coefficients: Mapping[str, float]) -> None:
        self.coefficients = dict(coefficients)
        self.input_names = tuple(coefficients)
        self.outputs = (Output("y", "continuous", "y"), Output("constant", "continuous", "constant"))
        self.output_names = headline_names(self.outputs)

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        y = sum(c * np.asarray(inputs[n]) for n, c in self.coefficients.items())
        return {"y": np.asarray(y), "constant": np.full(np.shape(y), 3.0)}


PI = math.pi
ISHIGAMI_INPUTS = {name: Uniform(kind="uniform", low=-PI, high=PI) for name in Ishigami.input_names}


def ishigami_closed_form() -> tuple[list[float], list[float]]:
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * PI**8 / 225
    total = v1 + v2 + v13
    return [v1 / total, v2 / total, 0.0], [(v1 + v13) / total, v2 / total, v13 / total]


def test_ishigami_indices_match_the_closed_form_within_their_intervals() -> None:
    result = sobol(Ishigami(), ISHIGAMI_INPUTS, 2**13, seed=3)
    records = result.outputs["y"]
    assert records is not None
    first, total = ishigami_closed_form()
    for record, s1, st in zip(records, first, total, strict=True):
        assert record.first_ci[0] <= s1 <= record.first_ci[1], (record, s1)
        assert record.total_ci[0] <= st <= record.total_ci[1], (record, st)
        assert record.first_ci[1] - record.first_ci[0] < 0.1


def test_sobol_agrees_with_scipy_on_ishigami_and_on_the_sie_model() -> None:
    ours = sobol(Ishigami(), ISHIGAMI_INPUTS, 2**12, seed=1).outputs["y"]
    assert ours is not None

    def ishigami(x: FloatArray) -> FloatArray:
        return Ishigami().evaluate(dict(zip(Ishigami.input_names, x, strict=True)))["y"].reshape(1, -1)

    theirs = stats.sobol_indices(
        func=ishigami, n=2**12, dists=[stats.uniform(-PI, 2 * PI)] * 3, rng=np.random.default_rng(5)
    )
    for j, record in enumerate(ours):
        assert record.first == pytest.approx(float(theirs.first_order[j]), abs=0.05)
        assert record.total == pytest.approx(float(theirs.total_order[j]), abs=0.05)

    scenario = sie.load("paper-baseline")
    model, distributions = scenario.model(), scenario.distributions()
    names = model.input_names
    cell = "p_3y_12mo"

    def sie_cell(u: FloatArray) -> FloatArray:
        inputs = {n: distributions[n].ppf(u[j]) for j, n in enumerate(names)}
        return np.asarray(model.evaluate(inputs)[cell], dtype=np.float64).reshape(1, -1)

    reference = stats.sobol_indices(
        func=sie_cell, n=2**12, dists=[stats.uniform(0, 1)] * len(names), rng=np.random.default_rng(2)
    )
    mine = sobol(model, distributions, 2**12, seed=2).outputs[cell]
    assert mine is not None
    for j, record in enumerate(mine):
        assert record.first == pytest.approx(float(reference.first_order[j]), abs=0.06)
        assert record.total == pytest.approx(float(reference.total_order[j]), abs=0.06)
    assert max(mine, key=lambda r: r.total).input == "returns"


def test_fixed_inputs_are_left_out_and_constant_outputs_get_no_indices() -> None:
    distributions = {
        "a": Uniform(kind="uniform", low=0, high=1),
        "b": Uniform(kind="uniform", low=0, high=1),
        "c": Fixed(kind="fixed", value=2.0),
    }
    result = sobol(Linear({"a": 2.0, "b": 1.0, "c": 5.0}), distributions, 1024, seed=0)
    assert result.fixed_inputs == ("c",)
    assert result.outputs["constant"] is None and any("constant" in note for note in result.notes)
    records = result.outputs["y"]
    assert records is not None and [r.input for r in records] == ["a", "b"]
    # Linear, independent: first = total = c_i^2 / sum c^2 (equal variances).
    assert records[0].first == pytest.approx(0.8, abs=0.02) and records[0].total == pytest.approx(
        0.8, abs=0.02
    )
    assert json.dumps(result.to_dict())  # no NaN anywhere


def test_morris_on_a_linear_model_is_exact() -> None:
    distributions = {n: Uniform(kind="uniform", low=0, high=1) for n in ("a", "b", "c")}
    result = morris(Linear({"a": 3.0, "b": 1.0, "c": 0.0}), distributions, 20, seed=4)
    records = {r.input: r for r in result.outputs["y"] or []}
    # Levels at quantiles 1/8, 3/8, 5/8, 7/8: each step moves a uniform(0, 1) input by 0.5.
    assert records["a"].mu_star == pytest.approx(1.5) and records["a"].sigma == pytest.approx(0, abs=1e-12)
    assert records["b"].mu_star == pytest.approx(0.5) and records["c"].mu_star == pytest.approx(0)


def test_morris_screens_ishigami_x3_as_interacting() -> None:
    result = morris(Ishigami(), ISHIGAMI_INPUTS, 200, seed=1)
    effects = {r.input: r for r in result.outputs["y"] or []}
    # x3 acts only through its interaction with x1: its mean effect mu is ~0 while sigma is not.
    assert abs(effects["x3"].mu) < 0.5 * effects["x3"].sigma
    assert effects["x1"].mu_star > effects["x3"].mu_star > 0.5
    # Morris's blind spot, kept visible: sin(x2)^2 takes equal values at the grid's paired levels
    # (-3pi/4 and pi/4, -pi/4 and 3pi/4), so x2 shows no effect at all though Sobol' gives it 44%.
    assert effects["x2"].mu_star == pytest.approx(0, abs=1e-12)


def test_same_seed_same_indices_and_correlated_inputs_are_refused() -> None:
    scenario = sie.load("paper-baseline")
    one = sobol(scenario.model(), scenario.distributions(), 256, seed=9).to_dict()
    two = sobol(scenario.model(), scenario.distributions(), 256, seed=9).to_dict()
    assert one == two
    assert one != sobol(scenario.model(), scenario.distributions(), 256, seed=10).to_dict()
    correlated = sie.load("extension-correlated-inputs")
    with pytest.raises(InputError, match="independent"):
        sobol(correlated.model(), correlated.distributions(), 64, 0, copula=correlated.copula())


def test_tornado_on_a_linear_model() -> None:
    distributions = {n: Uniform(kind="uniform", low=0, high=10) for n in ("a", "b")}
    model = Linear({"a": 2.0, "b": -1.0})
    classic = tornado(model, distributions)
    bars = {bar.input: bar for bar in classic.bars["y"]}
    assert bars["a"].output_at_low == pytest.approx(2 * 1 - 5) and bars["a"].output_at_high == pytest.approx(
        2 * 9 - 5
    )
    assert bars["b"].swing == pytest.approx(-8) and classic.bars["y"][0].input == "a"
    assert classic.base["y"] == pytest.approx(5)
    sampled = tornado(model, distributions, others="sampled", samples=500, seed=1)
    bar = next(b for b in sampled.bars["y"] if b.input == "a")
    assert bar.swing == pytest.approx(16) and bar.swing_standard_error == pytest.approx(0, abs=1e-9)
    assert bar.low_standard_error > 0


def test_sampled_tornado_of_a_cell_is_a_conditional_probability() -> None:
    scenario = sie.load("paper-baseline")
    model, distributions = scenario.model(), scenario.distributions()
    result = tornado(model, distributions, others="sampled", samples=4000, seed=2, outputs=["p_3y_12mo"])
    returns = next(b for b in result.bars["p_3y_12mo"] if b.input == "returns")
    speedup = next(b for b in result.bars["p_3y_12mo"] if b.input == "speedup")
    assert returns.output_at_low < speedup.output_at_low < speedup.output_at_high < returns.output_at_high
    assert 0 < speedup.swing_standard_error < 0.02


def test_persona_model_through_the_same_functions() -> None:
    scenario = persona.load("production-stories")
    result = sobol(scenario.model(), scenario.distributions(), 64, seed=1)
    # every stage weight varies over its calibrated interval by default (none is fixed any more)
    assert set(result.fixed_inputs) == set()
    records = result.outputs["misbehaviour_rate"]
    assert records is not None and max(records, key=lambda r: r.total).input == "prior_shift"


def _json(*args: str) -> Any:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_sobol_json_has_the_documented_keys() -> None:
    record = _json("sie", "sensitivity", "paper-baseline", "-n", "128", "--seed", "1", "--json")
    assert list(record) == ["p_3y_12mo", "p_3_33y_4mo", "p_10y_12mo", "p_10y_4mo"]
    for rows in record.values():
        assert [r["input"] for r in rows] == ["speedup", "returns", "limit_years", "parallel_penalty"]
        for row in rows:
            assert set(row) == {"input", "first", "first_ci", "total", "total_ci"}
            assert row["first_ci"][0] <= row["first"] <= row["first_ci"][1]
    again = _json("sie", "sensitivity", "paper-baseline", "-n", "128", "--seed", "1", "--json")
    assert again == record


def test_cli_morris_tornado_and_persona() -> None:
    record = _json("sie", "sensitivity", "paper-baseline", "--method", "morris", "-n", "10", "--json")
    assert set(record["p_3y_12mo"][0]) == {"input", "mu_star", "mu_star_ci", "mu", "sigma"}
    for rows in record.values():
        for row in rows:  # mu* is a mean of absolute effects: neither it nor its interval goes below 0
            assert 0.0 <= row["mu_star_ci"][0] <= row["mu_star"] <= row["mu_star_ci"][1]
    tornado_record = _json("sie", "tornado", "paper-baseline", "--json")
    assert tornado_record["others"] == "median" and "max_doublings_12mo" in tornado_record["outputs"]
    bars = tornado_record["outputs"]["max_doublings_12mo"]
    assert abs(bars[0]["swing"]) >= abs(bars[-1]["swing"])
    persona_record = _json("persona", "sensitivity", "production-stories", "-n", "16", "--json")
    assert set(persona_record) == {"misbehaviour_rate", "misaligned_share"}
    text = cli.invoke(app, ["sie", "sensitivity", "paper-baseline", "-n", "64"])
    assert text.exit_code == 0 and "first order" in text.output and "returns" in text.output
    # With the others at their medians a cell is one run that reaches it or not: yes / no, not 0 / 1.
    classic = cli.invoke(app, ["sie", "tornado", "paper-baseline"])
    assert classic.exit_code == 0 and "all inputs at their medians: yes" in classic.output
    assert "flips" in classic.output


FIXED_PERSONA_WEIGHTS = [
    f"--set=stage_weights.{stage}=1e-6" for stage in ("pretraining", "midtraining", "fine_tuning")
]


@pytest.mark.parametrize(
    "args",
    [
        ["sie", "sensitivity", "paper-baseline", "--method", "fast"],
        ["sie", "sensitivity", "paper-baseline", "-n", "0"],
        ["sie", "sensitivity", "paper-baseline", "--seed", "-1"],
        ["sie", "sensitivity", "no-such-preset"],
        ["sie", "sensitivity", "extension-correlated-inputs", "-n", "8"],
        ["sie", "tornado", "paper-baseline", "--others", "mean"],
        ["sie", "tornado", "paper-baseline", "-n", "500"],
        ["sie", "tornado", "paper-baseline", "--seed", "5"],
        ["sie", "tornado", "extension-correlated-inputs", "--others", "sampled", "-n", "100"],
        ["sie", "tornado", "paper-baseline", "--others", "sampled", "-n", "1"],
        # every stage weight set by the scenario: nothing varies (calibrated weights vary by default)
        ["persona", "sensitivity", "naive-decay", *FIXED_PERSONA_WEIGHTS],
        ["persona", "tornado", "patient-waluigi", *FIXED_PERSONA_WEIGHTS],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args: list[str]) -> None:
    result = asara(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    if args[0] == "persona" and args[2] != "production-stories":
        assert "no [uncertainty] section" in result.stderr
