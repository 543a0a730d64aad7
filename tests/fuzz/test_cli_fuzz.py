"""Hypothesis over the CLI's arguments and scenario files: every run ends with exit 0 (and valid output)
or exit 2 with exactly one line on stderr; never a traceback, never exit 1, never a hang.

The commands run in this process (``main()`` with a patched ``sys.argv``): a subprocess per example
would spend its time importing. Sample counts stay small so each example takes milliseconds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from asara.cli.main import main
from tests.fuzz.budget import examples

SCENARIO_KEYS = [
    "name",
    "description",
    "software_share",
    "horizon_months",
    "recent_doubling_months",
    "constant_r",
    "retraining",
    "initial_doubling",
    "windows_months",
    "cells",
    "inputs.limit_years",
    "inputs.returns.high",
    "inputs.speedup",
    "ramp.shape",
    "ramp.months",
    "compute.growth_per_year",
    "compute.halving_years",
    "data.share",
    "data.stock_years",
    "bottlenecks.substitution_elasticity",
    "correlations",
]

NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1e-300, 1e-6, 0.5, 1, 3, 48, 1e6, 1e26, 1e308, -1, 2**63, 10**400]),
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["48", "yes", "true", "inf", "nan"]
)
TOML_VALUES = st.one_of(
    NUMBERS.map(lambda v: repr(v) if not isinstance(v, float) else str(v).replace("nan", "nan")),
    TEXT,
    TEXT.map(lambda t: json.dumps(t)),
    st.sampled_from(
        [
            "true",
            "[1, 2]",
            "[]",
            '{kind="fixed", value=1e308}',
            '{kind="uniform", low=1, high=1e6}',
            '{kind="log-uniform", low=0.4, high=3.6}',
            '{kind="lognormal", low=1, high=2}',
            "[{years=1e308, months=12}]",
            "[{years=3, months=-1}]",
            "[" * 40 + "]" * 40,
        ]
    ),
)


@st.composite
def overrides(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(0, 3))
    out = []
    for _ in range(count):
        key = draw(st.sampled_from(SCENARIO_KEYS) | st.text(min_size=0, max_size=12))
        out += ["--set", f"{key}={draw(TOML_VALUES)}"]
    return out


SCENARIOS = (
    st.sampled_from(["paper-baseline", "paper-gradual-boost", "extension-data", "extension-ramp"]) | TEXT
)
SMALL_SAMPLES = st.one_of(
    st.integers(min_value=1, max_value=1500).map(str),
    st.sampled_from(["0", "-5", "1e3", "abc", "", str(10**11), str(10**40)]),
)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    scenario = draw(SCENARIOS)
    kind = draw(st.sampled_from(["run", "trajectory", "sweep", "presets", "extensions", "explain-sample"]))
    args: list[str] = ["sie", kind]
    if kind in ("presets", "extensions"):
        return args + draw(st.sampled_from([[], ["--json"], ["--bogus"]]))
    args.append(scenario)
    if kind == "trajectory":
        for option in ("--speedup", "--returns", "--limit-years", "--parallel-penalty"):
            args += [option, draw(NUMBERS.map(str) | TEXT)]
    elif kind == "explain-sample":
        args += ["--sample", draw(st.integers(-5, 2000).map(str))]
    else:
        args += ["--samples", draw(SMALL_SAMPLES), "--seed", draw(st.integers(-3, 2**70).map(str))]
        if draw(st.booleans()):
            args += ["--workers", draw(st.sampled_from(["1", "2", "0", str(10**10), "x"]))]
        if kind == "run" and draw(st.booleans()):
            args += ["--target-se", draw(st.sampled_from(["0.2", "0.49", "0", "1e-300", "nan", "0.5"]))]
        if kind == "sweep":
            args += [
                "--grid",
                draw(st.sampled_from(["inputs.returns.high=3,4", "horizon_months=12,1e308", "x=1"])),
            ]
    args += draw(overrides())
    if draw(st.booleans()):
        args.append("--json")
    return args


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["asara", *args])
    status: Any = 0
    try:
        main()
    except SystemExit as done:
        status = done.code or 0
    captured = capsys.readouterr()
    return int(status), captured.out, captured.err


def check_outcome(args: list[str], status: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out, (args, err)
    assert status in (0, 2), (args, status, err)
    if status == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("asara: error: "), (args, err)
    elif "--json" in args and out.strip():
        json.loads(out)


@given(args=command_lines())
@settings(settings.get_profile("asara-fuzz"), max_examples=examples(60))
def test_fuzzed_command_lines_exit_0_or_2_in_one_line(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restore_signals: None,
) -> None:
    status, out, err = run_cli(args, capsys, monkeypatch)
    check_outcome(args, status, out, err)


DOCUMENT_VALUES = st.recursive(
    st.one_of(NUMBERS.filter(lambda v: not isinstance(v, int) or abs(v) < 2**63), TEXT, st.booleans()),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)


@st.composite
def scenario_documents(draw: st.DrawFn) -> dict[str, Any]:
    from asara.scenarios.loader import read_document

    document = read_document(
        "sie", draw(st.sampled_from(["paper-baseline", "extension-data", "extension-ramp"]))
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SCENARIO_KEYS)).split(".")
        node = document
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[path[-1]] = draw(DOCUMENT_VALUES)
    return document


@given(document=scenario_documents())
@settings(settings.get_profile("asara-fuzz"), max_examples=examples(40))
def test_fuzzed_scenario_files_exit_0_or_2_in_one_line(
    document: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restore_signals: None,
) -> None:
    path = Path(tmp_path_factory.mktemp("scenario")) / "fuzzed.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    args = ["sie", "run", str(path), "--samples", "300", "--json"]
    status, out, err = run_cli(args, capsys, monkeypatch)
    check_outcome(args, status, out, err)


HOSTILE_ARGUMENTS = [
    ["sie", "run", "a" * 5000],
    ["sie", "run", "paper-baseline", "-n", "10", "--set", ".".join(["a"] * 2000) + "=1"],
    ["sie", "run", "paper-baseline", "-n", "10", "--set", "a=" + "[" * 2000 + "]" * 2000],
    ["sie", "run", "paper-baseline", "-n", "10", "--set", "description=\udcff"],
    ["sie", "run", "paper-baseline", "-n", "1000", "--set", "software_share=1e-6"],
    ["sie", "run", "paper-baseline", "-n", "1000", "--set", "software_share=1e-300"],
    ["sie", "run", "paper-baseline", "-n", "10", "--set", 'horizon_months="48"'],
    ["sie", "run", "paper-baseline", "-n", "10", "--set", "constant_r=yes"],
    ["sie", "run", "paper-gradual-boost", "--samples", "1", "--target-se", "0.49"],
    [
        "sie",
        "trajectory",
        "paper-baseline",
        "--speedup",
        "8",
        "--returns",
        "1.2",
        "--limit-years",
        "1e26",
        "--parallel-penalty",
        "0.3",
    ],
    [
        "sie",
        "sweep",
        "paper-baseline",
        "--grid",
        "inputs.returns.high=3,4",
        "-n",
        "100",
        "--workers",
        str(10**10),
    ],
]


@pytest.mark.parametrize("args", HOSTILE_ARGUMENTS, ids=lambda a: " ".join(a)[:60])
def test_the_reported_inputs_get_exit_2_or_a_bounded_answer(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restore_signals: None,
) -> None:
    status, out, err = run_cli(args, capsys, monkeypatch)
    check_outcome(args, status, out, err)
    if "--workers" not in args:
        assert status == 2, (args, out)


def test_malformed_run_json_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, restore_signals: None
) -> None:
    for text in ('{"scenario": 1}', "[]", '{"cells": "x"}', "\xff", "{" * 5000 + "}" * 5000):
        (tmp_path / "run.json").write_bytes(text.encode("utf-8", "surrogateescape"))
        status, out, err = run_cli(["sie", "summary", str(tmp_path)], capsys, monkeypatch)
        check_outcome(["sie", "summary"], status, out, err)
        assert status == 2


def _shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )


CLI = f"{sys.executable} -m asara.cli.main"


def test_closed_stdout_is_one_line_and_exit_2() -> None:
    done = _shell(f"{CLI} version >&-")
    assert done.returncode == 2 and done.stderr.strip() == "asara: error: standard output is closed"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout_is_one_line_and_exit_2() -> None:
    done = _shell(f"{CLI} sie presets > /dev/full")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "No space left" in done.stderr


def test_ascii_only_output_is_plain_ascii() -> None:
    done = _shell(f"{CLI} sie run paper-baseline -n 1000", PYTHONIOENCODING="ascii")
    assert done.returncode == 0, done.stderr
    done.stdout.encode("ascii")
    assert "+/-" in done.stdout


def test_workers_are_capped_by_cores_and_tasks() -> None:
    from asara.montecarlo.executors import WORKERS_PER_CORE, ProcessExecutor, capped_workers, default_workers

    assert capped_workers(10**10) == WORKERS_PER_CORE * default_workers()
    assert capped_workers(16, tasks=2) == 2
    assert list(ProcessExecutor(16).map(abs, [-1, -2])) == [1, 2]  # two tasks: at most two processes
