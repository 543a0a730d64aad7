"""The `asara sie` commands as a user runs them: output, files, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from asara.cli.main import app
from asara.scenarios.loader import list_presets

ASARA = [sys.executable, "-m", "asara.cli.main"]
runner = CliRunner()


def asara(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASARA, *args], capture_output=True, text=True, timeout=300)


def test_run_json_has_the_documented_keys() -> None:
    result = runner.invoke(
        app, ["sie", "run", "paper-baseline", "--samples", "5000", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert {"scenario", "seed", "samples", "version", "cells"} <= record.keys()
    assert record["scenario"] == "paper-baseline" and record["seed"] == 3 and record["samples"] == 5000
    assert [(c["years"], c["months"]) for c in record["cells"]] == [(3, 12), (3.33, 4), (10, 12), (10, 4)]
    for cell in record["cells"]:
        assert {"years", "months", "probability", "standard_error"} <= cell.keys()
        assert 0 < cell["standard_error"] < 0.01


def test_run_table_shows_errors_seed_and_version() -> None:
    result = runner.invoke(app, ["sie", "run", "paper-baseline", "-n", "3000", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "±" in result.output and "seed 4" in result.output and "overflowed samples" in result.output


def test_set_overrides_change_the_run() -> None:
    base = runner.invoke(app, ["sie", "run", "paper-baseline", "-n", "4000", "--json"])
    changed = runner.invoke(
        app,
        [
            "sie",
            "run",
            "paper-baseline",
            "-n",
            "4000",
            "--json",
            "--set",
            "inputs.returns.high=5",
            "--set",
            "horizon_months=120",
            "--set",
            "software_share=0.3",
        ],
    )
    assert changed.exit_code == 0, changed.output
    a, b = json.loads(base.output), json.loads(changed.output)
    assert a["cells"][0]["probability"] != b["cells"][0]["probability"]
    assert b["cells"][0]["required_doublings"] == 40


def test_out_writes_parquet_and_run_json(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["sie", "run", "paper-baseline", "-n", "3000", "--chunk-size", "1000", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "samples.parquet")
    assert table.num_rows == 3000
    for column in (
        "speedup",
        "returns",
        "limit_years",
        "parallel_penalty",
        "max_doublings_12mo",
        "max_doublings_4mo",
    ):
        assert column in table.column_names
    record = json.loads((out / "run.json").read_text())
    assert record["scenario_definition"]["inputs"]["speedup"]["kind"] == "log-uniform"
    successes = (table.column("max_doublings_12mo").to_numpy() >= 24).sum()
    assert record["cells"][0]["successes"] == successes
    assert not list(out.glob("*.partial"))


def test_presets_listed_one_line_each() -> None:
    result = runner.invoke(app, ["sie", "presets"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(list_presets("sie")) >= 6
    names = {line.split()[0] for line in lines}
    assert {
        "paper-baseline",
        "paper-retraining",
        "paper-gradual-boost",
        "paper-constant-r",
        "reference-retraining",
        "reference-gradual-boost",
    } <= names


@pytest.mark.parametrize("preset", [p.name for p in list_presets("sie")])
def test_every_preset_runs(preset: str) -> None:
    result = runner.invoke(app, ["sie", "run", preset, "-n", "2000", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scenario"] == preset


def test_trajectory_prints_doublings_and_compression() -> None:
    args = ["--speedup", "8", "--returns", "1.2", "--limit-years", "11", "--parallel-penalty", "0.3"]
    result = runner.invoke(app, ["sie", "trajectory", "paper-baseline", *args])
    assert result.exit_code == 0, result.output
    assert "most progress inside 12 months: 34 doublings = 4.25 years" in result.output
    record = json.loads(runner.invoke(app, ["sie", "trajectory", "paper-baseline", *args, "--json"]).output)
    assert record["times_months"][1] == 0.375 and record["end_reason"] == "horizon"


def test_scenario_file_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('software_share = 0.5\n[inputs.speedup]\nkind = "fixed"\nvalue = 8\n')
    result = runner.invoke(app, ["sie", "run", str(path), "-n", "1000", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scenario"] == "mine"


BAD_INPUTS = {
    "zero samples": (["sie", "run", "paper-baseline", "--samples", "0"], "samples"),
    "negative samples": (["sie", "run", "paper-baseline", "--samples", "-5"], "samples"),
    "unknown preset": (["sie", "run", "no-such-preset"], "unknown preset"),
    "missing file": (["sie", "run", "nowhere/missing.toml"], "no such file"),
    "unknown key": (["sie", "run", "paper-baseline", "--set", "colour=red"], "colour: unknown key"),
    "low above high": (
        ["sie", "run", "paper-baseline", "--set", "inputs.returns.low=5"],
        "must not exceed high",
    ),
    "share above one": (["sie", "run", "paper-baseline", "--set", "software_share=1.2"], "software_share"),
    "share zero": (["sie", "run", "paper-baseline", "--set", "software_share=0"], "software_share"),
    "negative speed-up": (
        ["sie", "run", "paper-baseline", "--set", "inputs.speedup.low=-2"],
        "inputs.speedup",
    ),
    "zero speed-up": (
        ["sie", "run", "paper-baseline", "--set", "inputs.speedup.low=0"],
        "inputs.speedup.low",
    ),
    "zero limit": (
        ["sie", "run", "paper-baseline", "--set", "inputs.limit_years.low=0"],
        "inputs.limit_years",
    ),
    "nan": (["sie", "run", "paper-baseline", "--set", "inputs.returns.high=nan"], "NaN"),
    "nan trajectory": (
        [
            "sie",
            "trajectory",
            "paper-baseline",
            "--speedup",
            "nan",
            "--returns",
            "1",
            "--limit-years",
            "1",
            "--parallel-penalty",
            "0.3",
        ],
        "speedup",
    ),
    "bad option value": (["sie", "run", "paper-baseline", "--samples", "many"], "samples"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str) -> None:
    args, fragment = BAD_INPUTS[case]
    result = asara(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_malformed_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("software_share = = 0.5\n")
    result = asara("sie", "run", str(path))
    assert result.returncode == 2 and "malformed TOML" in result.stderr


def test_out_refuses_fifos_and_links_with_exit_2(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.parquet"
    link.symlink_to(tmp_path / "target.parquet")
    grid = ["sie", "sweep", "paper-baseline", "--grid", "inputs.returns.high=3,4", "-n", "100", "--out"]
    for target in (fifo, link):
        done = asara(*grid, str(target))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "only replaces regular files" in done.stderr
    assert fifo.exists() and not fifo.is_file()
    assert link.is_symlink() and not (tmp_path / "target.parquet").exists()


def test_summary_detects_samples_from_another_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for seed, folder in ((1, first), (2, second)):
        done = asara("sie", "run", "paper-baseline", "-n", "600", "--seed", str(seed), "--out", str(folder))
        assert done.returncode == 0, done.stderr
    assert asara("sie", "summary", str(first)).returncode == 0
    (first / "samples.parquet").write_bytes((second / "samples.parquet").read_bytes())
    done = asara("sie", "summary", str(first))
    assert done.returncode == 2 and "does not match" in done.stderr
    (first / "run.json").write_text('{"scenario": "x"}', encoding="utf-8")
    done = asara("sie", "summary", str(first))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def _declared_lines(record: dict[str, object]) -> list[str]:
    """The line `sie run` prints for each declared output besides the cells, from its --json record."""
    from asara.analysis.outputs import OutputSummary

    assert isinstance(record["outputs"], list) and isinstance(record["cells"], list)
    cells = {f"p_{c['years']:g}y_{c['months']:g}mo".replace(".", "_") for c in record["cells"]}
    found = [OutputSummary.from_dict(o) for o in record["outputs"] if o["name"] not in cells]
    return [f"{o.heading()}: {o.describe()}" for o in found]


def test_run_text_ends_with_one_line_per_declared_output() -> None:
    args = ["sie", "run", "paper-baseline", "-n", "3000", "--seed", "4"]
    text = runner.invoke(app, args)
    record = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    expected = _declared_lines(record)
    # Every output but the four cells: three counts, end_months, end_reason.
    assert [line.split(":")[0] for line in expected] == [
        "most doublings inside 12 months (doublings)",
        "most doublings inside 4 months (doublings)",
        "doublings before the run stopped (doublings)",
        "when the run ended (months)",
        "why the run ended",
    ]
    overflowed = next(i for i, line in enumerate(lines) if line.startswith("overflowed samples: "))
    assert lines[overflowed + 1 :] == expected
    assert lines[overflowed - 1].startswith("runs ended by: horizon ")


def test_run_text_in_an_ascii_terminal() -> None:
    import os

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    args = [*ASARA, "sie", "run", "paper-baseline", "-n", "2000", "--seed", "1", "--workers", "1"]
    done = subprocess.run(args, capture_output=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("ascii")
    record = json.loads(asara("sie", "run", "paper-baseline", "-n", "2000", "--seed", "1", "--json").stdout)
    # At this seed the end times have a finite standard error: the ± becomes +/-.
    expected = [line.replace("±", "+/-") for line in _declared_lines(record)]
    assert any("+/-" in line for line in expected)
    assert text.splitlines()[-len(expected) :] == expected


def test_summary_lists_the_declared_outputs_and_reads_older_records(tmp_path: Path) -> None:
    out = tmp_path / "run"
    ran = runner.invoke(app, ["sie", "run", "paper-baseline", "-n", "3000", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    record = json.loads((out / "run.json").read_text())
    summary = runner.invoke(app, ["sie", "summary", str(out)])
    assert summary.exit_code == 0, summary.output
    before, _, after = summary.output.partition("## Per-sample outputs\n")
    rows = [f"| {line.replace(': ', ' | ', 1)} |" for line in _declared_lines(record)]
    assert after.splitlines()[3:-1] == rows
    assert before.rstrip("\n").endswith(f"Overflowed samples: {record['overflowed_samples']:,}.")
    # A record written before outputs were declared: the same text as then, without the new section.
    del record["outputs"]
    (out / "run.json").write_text(json.dumps(record))
    older = runner.invoke(app, ["sie", "summary", str(out)])
    assert older.exit_code == 0, older.output
    assert older.output == before.rstrip("\n") + "\n\n"
