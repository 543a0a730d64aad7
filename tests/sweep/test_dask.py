"""The Dask executor on a two-worker LocalCluster: task order, bounded in-flight work, worker environment,
and sweeps bit-identical to serial, thread and process runs."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from asara.analysis.sweep import run_sweep
from asara.cli.main import app
from asara.errors import InputError
from asara.montecarlo.executors import (
    MALLOC_TRIM_VARIABLE,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    ThreadExecutor,
    local_dask_cluster,
)

GRID = ["inputs.returns.high=3,4.5", "retraining=none,paper"]


@pytest.fixture(scope="module")
def scheduler_address() -> Iterator[str]:
    # Worker processes (not threads), so tasks and results really cross process boundaries.
    with local_dask_cluster(2, processes=True) as cluster:
        yield cluster.scheduler_address


def slow_identity(value: int) -> int:
    """Early tasks finish last, so results arriving in task order proves the executor reorders."""
    time.sleep(0.05 * (5 - value) if value < 5 else 0)
    return value


def malloc_trim_setting() -> str | None:
    return os.environ.get(MALLOC_TRIM_VARIABLE)


def test_results_come_in_task_order_with_bounded_in_flight(scheduler_address: str) -> None:
    pulled = []

    def tasks() -> Iterator[int]:
        for value in range(12):
            pulled.append(value)
            yield value

    with DaskExecutor(scheduler_address, in_flight=3) as executor:
        results = executor.map(slow_identity, tasks())
        assert next(results) == 0
        assert len(pulled) == 3  # the first result was awaited with only 3 tasks submitted
        assert [0, *results] == list(range(12))


def test_workers_run_without_malloc_trim_threshold(scheduler_address: str) -> None:
    with DaskExecutor(scheduler_address) as executor:
        settings = executor._connected().run(malloc_trim_setting)
    assert len(settings) == 2 and set(settings.values()) == {None}
    assert malloc_trim_setting() is None  # the nannies did not leak it into this process either


def test_sweep_is_bit_identical_on_every_executor(scheduler_address: str) -> None:
    def sweep(executor: Executor, chunk_size: int) -> dict[str, Any]:
        return run_sweep(
            "paper-baseline", GRID, samples=5000, seed=11, chunk_size=chunk_size, executor=executor
        ).to_dict()

    serial = sweep(SerialExecutor(), 65_536)
    assert sweep(ThreadExecutor(2), 2048) == serial
    assert sweep(ProcessExecutor(2), 1024) == serial
    assert sweep(DaskExecutor(scheduler_address), 1024) == serial


def test_cli_runs_the_sweep_on_the_cluster(scheduler_address: str) -> None:
    cli = CliRunner()
    args = ["sie", "sweep", "paper-baseline", "--grid", GRID[0], "-n", "3000", "--seed", "1", "--json"]
    on_dask = cli.invoke(app, [*args, "--dask", scheduler_address])
    assert on_dask.exit_code == 0, on_dask.output
    local = cli.invoke(app, [*args, "-w", "1"])
    assert json.loads(on_dask.output) == json.loads(local.output)


def test_unreachable_scheduler_is_an_input_error_within_the_timeout() -> None:
    started = time.monotonic()
    with (
        pytest.raises(InputError, match="cannot reach a Dask scheduler"),
        DaskExecutor("tcp://127.0.0.1:1", connect_timeout=1),
    ):
        pass
    assert time.monotonic() - started < 10


def test_a_scheduler_without_workers_is_an_input_error_not_a_hang() -> None:
    started = time.monotonic()
    with (
        local_dask_cluster(0, processes=False) as empty,
        pytest.raises(InputError, match="no workers joined"),
        DaskExecutor(empty.scheduler_address, connect_timeout=1),
    ):
        pass
    assert time.monotonic() - started < 15
