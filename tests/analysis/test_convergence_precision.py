"""Convergence curves and runs to a target standard error: each checkpoint is exactly a shorter run, and
the stopping point depends only on the seed."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from asara import sie
from asara.analysis.convergence import checkpoints, convergence
from asara.cli.main import app
from asara.montecarlo import runner
from asara.montecarlo.executors import SerialExecutor, ThreadExecutor
from asara.montecarlo.precision import cautious_standard_error, run_to_precision
from asara.montecarlo.sampling import BLOCK_SIZE

cli = CliRunner()
SCENARIO = sie.load("paper-baseline")
MODEL = SCENARIO.model()
DISTRIBUTIONS = SCENARIO.distributions()


def test_each_checkpoint_equals_a_separate_run_of_that_size() -> None:
    full = runner.run(MODEL, DISTRIBUTIONS, 20_000, seed=5, chunk_size=3_000)
    curves = convergence(full)
    assert [p.samples for p in curves[MODEL.output_names[0]]] == [1024, 2048, 4096, 8192, 16384, 20_000]
    for n in (2048, 16384, 20_000):
        alone = runner.run(MODEL, DISTRIBUTIONS, n, seed=5)
        for name in MODEL.output_names:
            point = next(p for p in curves[name] if p.samples == n)
            assert point.estimate == alone.proportion(name)


def test_checkpoints_are_whole_blocks_then_the_run_size() -> None:
    assert checkpoints(100) == [100]
    assert checkpoints(BLOCK_SIZE) == [BLOCK_SIZE]
    assert checkpoints(5000) == [1024, 2048, 4096, 5000]


def test_cautious_error_is_never_below_the_reported_one() -> None:
    for n in (10, 1000, 10**6):
        for x in (0, 1, n // 3, n // 2, n - 1, n):
            p = x / n
            assert cautious_standard_error(x, n) >= math.sqrt(p * (1 - p) / n)


def test_run_stops_once_every_error_is_below_target() -> None:
    summary, stopping = run_to_precision(MODEL, DISTRIBUTIONS, 1, 0.002, max_samples=10**6)
    assert stopping.reached and len(stopping.checkpoints) >= 2
    assert stopping.checkpoints[-1] == summary.samples
    for name in MODEL.output_names:
        assert summary.proportion(name).standard_error < 0.002
    # It did not go on long past the need: the checkpoint before the last fell short of the target.
    shorter = runner.run(MODEL, DISTRIBUTIONS, stopping.checkpoints[-2], seed=1)
    assert any(
        cautious_standard_error(shorter.total(name), shorter.samples) >= 0.002 for name in MODEL.output_names
    )
    worst = max(summary.proportion(name).probability for name in MODEL.output_names)
    assert summary.samples < 1.2 * worst * (1 - worst) / 0.002**2


@settings(max_examples=8, deadline=None)
@given(chunk=st.integers(1, 40_000), threads=st.integers(1, 2))
def test_same_seed_same_stopping_point_whatever_the_chunking(chunk: int, threads: int) -> None:
    executor = ThreadExecutor(threads) if threads > 1 else SerialExecutor()
    summary, stopping = run_to_precision(
        MODEL, DISTRIBUTIONS, 7, 0.006, max_samples=10**6, chunk_size=chunk, executor=executor
    )
    reference, reference_stop = run_to_precision(MODEL, DISTRIBUTIONS, 7, 0.006, max_samples=10**6)
    assert stopping == reference_stop
    assert summary.samples == reference.samples
    for name in MODEL.output_names:
        assert summary.proportion(name) == reference.proportion(name)
    # ... and the result is exactly a plain run of that many samples.
    plain = runner.run(MODEL, DISTRIBUTIONS, summary.samples, seed=7)
    assert all(summary.proportion(n) == plain.proportion(n) for n in MODEL.output_names)


def test_cap_reached_is_reported_not_hidden() -> None:
    summary, stopping = run_to_precision(MODEL, DISTRIBUTIONS, 1, 0.0005, max_samples=30_000)
    assert not stopping.reached and summary.samples == 30_000


def test_cli_target_se_json_and_table() -> None:
    result = cli.invoke(
        app, ["sie", "run", "paper-baseline", "--target-se", "0.005", "--seed", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["stopping"]["reached"] is True and record["stopping"]["target_se"] == 0.005
    assert record["samples"] == record["stopping"]["checkpoints"][-1]
    assert all(cell["standard_error"] < 0.005 for cell in record["cells"])
    table = cli.invoke(app, ["sie", "run", "paper-baseline", "--target-se", "0.002", "-n", "20000"])
    assert table.exit_code == 0 and "target not reached" in table.output


@pytest.mark.parametrize("value", ["0", "-0.1", "0.5", "nan", "inf", "1e-200", "9e-7"])
def test_cli_bad_target_se_is_one_line_exit_2(value: str) -> None:
    from tests.sie.test_cli import asara

    result = asara("sie", "run", "paper-baseline", "--target-se", value)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "target-se" in result.stderr


def test_cli_convergence_json() -> None:
    result = cli.invoke(app, ["sie", "convergence", "paper-baseline", "-n", "5000", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["samples"] == 5000 and set(record["outputs"]) == set(MODEL.output_names)
    last = record["outputs"]["p_3y_12mo"][-1]
    plain = sie.run("paper-baseline", 5000, 1)
    assert last["samples"] == 5000 and last["probability"] == plain.cells[0].estimate.probability
    assert {"samples", "probability", "standard_error"} == set(last)
