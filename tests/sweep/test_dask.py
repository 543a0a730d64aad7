"""The Dask executor on a two-worker LocalCluster: task order, bounded in-flight work, worker environment,
sweeps bit-identical to serial, thread and process runs, and one-line errors for addresses where no
scheduler answers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from asara.analysis.sweep import run_sweep
from asara.cli.main import app
from asara.errors import InputError
from asara.montecarlo.dask import MALLOC_TRIM_VARIABLE, DaskExecutor, local_dask_cluster
from asara.montecarlo.executors import Executor, ProcessExecutor, SerialExecutor, ThreadExecutor

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


# What a TCP listener that is not a Dask scheduler sends back: read as Dask's frame count, the first eight
# bytes of an HTTP reply ask for exabytes (MemoryError inside distributed); silence used to hang forever.
NOT_DASK = {"http reply": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "silence": b""}


@contextlib.contextmanager
def not_a_scheduler(answer: bytes) -> Iterator[str]:
    """A local TCP server that accepts every connection, sends ``answer`` and keeps it open."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            if answer:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for connection in accepted:
            connection.close()


@pytest.mark.parametrize("answer", list(NOT_DASK.values()), ids=list(NOT_DASK))
def test_a_listener_that_is_not_dask_is_an_input_error_within_the_timeout(answer: bytes) -> None:
    with not_a_scheduler(answer) as address:
        started = time.monotonic()
        with (
            pytest.raises(InputError, match=f"not a Dask scheduler at {address}"),
            DaskExecutor(address, connect_timeout=1),
        ):
            pass
        assert time.monotonic() - started < 5


def test_a_worker_address_is_named_as_such(scheduler_address: str) -> None:
    with DaskExecutor(scheduler_address) as executor:
        worker = next(iter(executor._connected().scheduler_info()["workers"]))
    with pytest.raises(InputError, match=f"not a Dask scheduler at {worker}: it is a Dask Worker"):
        DaskExecutor(worker, connect_timeout=1).worker_threads()


@pytest.mark.parametrize("answer", list(NOT_DASK.values()), ids=list(NOT_DASK))
def test_cli_fails_in_one_line_on_a_listener_that_is_not_dask(answer: bytes) -> None:
    command = [sys.executable, "-m", "asara.cli.main", "sie", "sweep", "paper-baseline", "-n", "100"]
    with not_a_scheduler(answer) as address:
        started = time.monotonic()
        result = subprocess.run(
            [*command, "--grid", "inputs.returns.high=3,4", "--dask", address],
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"not a Dask scheduler at {address}" in lines[0], result.stderr
    assert elapsed < 20  # the default connect timeout is 5 s


def test_the_executors_module_still_offers_the_dask_executor() -> None:
    from asara.montecarlo import executors

    assert executors.DaskExecutor is DaskExecutor and executors.local_dask_cluster is local_dask_cluster
    with pytest.raises(AttributeError):
        _ = executors.NoSuchExecutor
