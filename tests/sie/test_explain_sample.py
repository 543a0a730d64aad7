"""Explaining one run: the sample is the one `sie run` drew, its path agrees with the batch engine, and
each counterfactual is the plain rerun with one input at its median."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from asara import sie
from asara.analysis.sie_sample import explain_sample, sample_values
from asara.cli.main import app
from asara.distributions import median
from asara.models.sie import trajectory
from asara.montecarlo import runner
from asara.montecarlo.runner import ChunkResult

from .test_cli import asara

cli = CliRunner()


@pytest.mark.parametrize("preset", ["paper-baseline", "extension-correlated-inputs", "extension-ramp"])
def test_sample_values_are_the_run_samples(preset: str) -> None:
    scenario = sie.load(preset)
    model = scenario.model()
    chunks: list[ChunkResult] = []
    runner.run(
        model, scenario.distributions(), 3000, 4, chunk_size=1024, keep_samples=True,
        copula=scenario.copula(), on_chunk=chunks.append,
    )  # fmt: skip
    rows = {k: np.concatenate([c.samples[k] for c in chunks if c.samples]) for k in model.input_names}
    rows.update({k: np.concatenate([c.samples[k] for c in chunks if c.samples]) for k in model.output_names})
    for index in (0, 1500, 2999):
        values = sample_values(scenario, index, 4)
        assert values == {name: float(rows[name][index]) for name in model.input_names}
        explained = explain_sample(scenario, sample=index, seed=4)
        for cell in explained.cells:
            assert cell.success == bool(rows[cell.key][index])


def test_path_and_counterfactuals_agree_with_plain_reruns() -> None:
    scenario = sie.load("paper-baseline")
    distributions = scenario.distributions()
    for index in range(6):
        explained = explain_sample(scenario, sample=index, seed=1)
        inputs = explained.what_if.inputs
        args = [inputs[n] for n in ("speedup", "returns", "limit_years", "parallel_penalty")]
        assert explained.path.max_doublings == trajectory(*args, scenario.options()).max_doublings
        for moved in explained.what_if.moved:
            changed = {**inputs, moved.input: median(distributions[moved.input])}
            rerun = trajectory(
                *(changed[n] for n in ("speedup", "returns", "limit_years", "parallel_penalty"))
            )
            for months, doublings in rerun.max_doublings.items():
                assert moved.outputs[f"max_doublings_{months:g}mo"] == doublings
        for cell in explained.cells:
            flips = {m.input for m in explained.what_if.moved if bool(m.outputs[cell.key]) != cell.success}
            assert set(cell.pivotal_inputs) == flips


def test_r_below_one_is_the_first_such_doubling() -> None:
    explained = explain_sample(
        sie.load("paper-baseline"),
        values={"speedup": 8, "returns": 1.5, "limit_years": 11, "parallel_penalty": 0.3},
    )
    below = explained.r_below_one
    assert below is not None and below[0] > 0
    returns = explained.path.returns
    assert returns[below[0]] < 1 <= returns[below[0] - 1]


def test_cli_json_and_text() -> None:
    result = cli.invoke(
        app, ["sie", "explain-sample", "paper-baseline", "--sample", "1", "--seed", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert {
        "inputs",
        "returns_path",
        "r_below_one",
        "end_reason",
        "cells",
        "counterfactuals",
        "all_medians",
    } <= set(record)
    text = cli.invoke(app, ["sie", "explain-sample", "paper-baseline", "--sample", "1", "--seed", "1"])
    assert text.exit_code == 0 and "flipped by" in text.output and "stopped because" in text.output


def test_a_sampled_ramp_sets_asara_and_the_horizon() -> None:
    # extension-ramp samples the ramp's length, which ends at ASARA: the run's clock is its own, not
    # the median's (60 months).
    drawn = sample_values(sie.load("extension-ramp"), 1, 0)["ramp_months"]
    assert drawn != pytest.approx(60.0)
    explained = explain_sample(sie.load("extension-ramp"), sample=1, seed=0)
    assert explained.path.asara_months == drawn
    assert explained.to_dict()["horizon_end_months"] == drawn + 48.0
    args = ["sie", "explain-sample", "extension-ramp", "--sample", "1", "--input", "ramp_months=36"]
    record = json.loads(cli.invoke(app, [*args, "--json"]).output)
    assert record["asara_months"] == 36.0 and record["horizon_end_months"] == 84.0
    text = " ".join(cli.invoke(app, args).output.split())  # the console wraps lines
    assert "ASARA arrives at month 36)" in text and "horizon, month 84)" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--input", "returns=2"],  # neither a sample nor every input
        ["--sample", "1", "--input", "nonsense=2"],
        ["--sample", "1", "--input", "returns=abc"],
        ["--sample", "1", "--input", "returns=-1"],
        ["--sample", "-3"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args: list[str]) -> None:
    result = asara("sie", "explain-sample", "paper-baseline", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
