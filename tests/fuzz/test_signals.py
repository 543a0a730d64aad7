"""SIGINT, SIGTERM and SIGHUP sent to a running command: exit 128+N with one line, no partial files,
no worker processes left, within 2 seconds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from asara import sie
from asara.io.runfolder import verify_files

ASARA = [sys.executable, "-m", "asara.cli.main"]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(command: list[str], **options: Any) -> subprocess.Popen[str]:
    """The command with SIGINT at its default: a test runner started in the background of a
    non-interactive shell (as CI may be) ignores SIGINT, and its children would inherit that and, as they
    should, keep ignoring it."""
    return subprocess.Popen(command, preexec_fn=_default_sigint, **options)


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the command never reached the moment to signal it")
        time.sleep(0.02)


def _signal_and_wait(
    process: subprocess.Popen[str], number: int, group: bool = False
) -> tuple[int, str, float, list[int]]:
    """Send ``number`` to the process (or, ``group``, to its whole process group, as a terminal's
    Ctrl-C does) and wait for it to end."""
    children = psutil.Process(process.pid).children(recursive=True)
    sent = time.monotonic()
    if group:
        os.killpg(process.pid, number)
    else:
        process.send_signal(number)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        # kill whatever is left, workers included (they may hold the pipes open), so the test fails
        # instead of hanging
        for leftover in [*children, psutil.Process(process.pid)]:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        process.communicate(timeout=10)
        raise AssertionError("the command did not stop within 10 s of the signal") from None
    elapsed = time.monotonic() - sent
    time.sleep(0.3)
    alive = [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    return process.returncode, stderr, elapsed, alive


def _partials(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".partial")] if folder.exists() else []


@pytest.mark.parametrize("number", SIGNALS, ids=lambda n: signal.Signals(n).name)
def test_run_with_out_stops_cleanly_and_keeps_the_previous_run(tmp_path: Path, number: int) -> None:
    out = tmp_path / "run"
    sie.run("paper-baseline", samples=500, out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    process = _spawn(
        [*ASARA, "sie", "run", "paper-baseline", "-n", "50000000", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: bool(_partials(out)))  # the moment: samples are being written
    time.sleep(0.3)
    status, stderr, elapsed, alive = _signal_and_wait(process, number)
    assert status == 128 + number
    assert len(stderr.strip().splitlines()) == 1, stderr
    if number == signal.SIGINT:
        assert stderr.strip() == "asara: interrupted"
    assert elapsed < 2.0
    assert not alive and not _partials(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old pair, untouched


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=lambda n: signal.Signals(n).name)
def test_sweep_stops_its_worker_processes(tmp_path: Path, number: int) -> None:
    out = tmp_path / "sweep.parquet"
    command = [*ASARA, "sie", "sweep", "paper-baseline", "--grid", "inputs.returns.high=3,4,5,6"]
    process = _spawn(
        [*command, "-n", "20000000", "--workers", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which a Ctrl-C reaches as a whole
    )
    # The moment: worker processes exist and are computing.
    _wait_for(lambda: len(psutil.Process(process.pid).children(recursive=True)) >= 3)
    time.sleep(1.0)
    # Ctrl-C reaches every process of the terminal's group; SIGTERM usually comes to the parent alone.
    status, stderr, elapsed, alive = _signal_and_wait(process, number, group=number == signal.SIGINT)
    assert status == 128 + number and len(stderr.strip().splitlines()) == 1, stderr
    assert elapsed < 2.0 and not alive
    assert not out.exists() and not _partials(tmp_path)


def test_sigint_before_work_starts_is_exit_130() -> None:
    process = _spawn(
        [*ASARA, "sie", "run", "paper-baseline", "-n", "50000000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3)  # still loading numpy, numba, typer
    status, stderr, _, _ = _signal_and_wait(process, signal.SIGINT)
    assert status == 130 and stderr.strip() == "asara: interrupted", stderr


@pytest.mark.skipif(os.environ.get("CI_NO_SIGNALS") == "1", reason="signals disabled")
def test_sigkill_between_runs_leaves_no_mismatched_pair(tmp_path: Path) -> None:
    """Even SIGKILL (no cleanup at all) cannot leave new samples beside an old run.json that claims
    them: run.json is removed before the new samples are moved in, and it names their hash."""
    out = tmp_path / "run"
    sie.run("paper-baseline", samples=500, out_dir=out)
    process = _spawn(
        [*ASARA, "sie", "run", "paper-baseline", "-n", "50000000", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: bool(_partials(out)))
    process.kill()
    process.wait(10)
    for partial in _partials(out):  # what SIGKILL leaves: hidden partial files only
        (out / partial).unlink()
    verify_files(out, json.loads((out / "run.json").read_text(encoding="utf-8")))


def test_sigkill_on_a_sweep_leaves_no_worker_computing(tmp_path: Path) -> None:
    command = [*ASARA, "sie", "sweep", "paper-baseline", "--grid", "inputs.returns.high=3,4,5,6"]
    process = _spawn(
        [*command, "-n", "20000000", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _wait_for(lambda: len(psutil.Process(process.pid).children(recursive=True)) >= 3)
    time.sleep(0.5)
    workers = psutil.Process(process.pid).children(recursive=True)
    process.kill()  # no handler runs: the workers must notice on their own
    process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers
    ):
        time.sleep(0.05)
    left = [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    for worker in left:
        with contextlib.suppress(psutil.Error):
            psutil.Process(worker).kill()
    assert not left, left
