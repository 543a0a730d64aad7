"""`asara sie sweep` and its library: grids, common random numbers, the Parquet table, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from asara import __version__, sie
from asara.analysis.sweep import GridAxis, parse_grid, run_sweep
from asara.cli.main import app
from asara.errors import InputError
from asara.montecarlo.executors import ProcessExecutor, ThreadExecutor

ASARA = [sys.executable, "-m", "asara.cli.main"]
GRID = ["inputs.returns.high=3,4.5", "retraining=none,paper"]
runner = CliRunner()


def asara(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASARA, *args], capture_output=True, text=True, timeout=timeout)


def test_one_point_sweep_equals_sie_run_exactly() -> None:
    swept = run_sweep("paper-baseline", ["inputs.returns.high=4"], samples=5000, seed=7, chunk_size=2048)
    plain = sie.run(sie.load("paper-baseline", ["inputs.returns.high=4"]), 5000, seed=7, workers=1)
    assert swept.summaries[0].to_dict() == plain.to_dict()


def test_every_point_equals_its_own_run_with_the_same_seed() -> None:
    # Common random numbers: each point sees exactly the samples a plain run of its scenario sees.
    swept = run_sweep("paper-baseline", GRID, overrides=["horizon_months=60"], samples=3000, seed=2)
    assert [p.values for p in swept.points] == [(3, "none"), (3, "paper"), (4.5, "none"), (4.5, "paper")]
    for point, summary in zip(swept.points, swept.summaries, strict=True):
        settings = [
            "horizon_months=60",
            f"inputs.returns.high={point.texts[0]}",
            f"retraining={point.texts[1]}",
        ]
        assert summary.to_dict() == sie.run(sie.load("paper-baseline", settings), 3000, seed=2).to_dict()


def test_results_do_not_depend_on_executor_or_chunk_size() -> None:
    serial = run_sweep("paper-baseline", GRID, samples=4000, seed=3).to_dict()
    threads = run_sweep(
        "paper-baseline", GRID, samples=4000, seed=3, chunk_size=1024, executor=ThreadExecutor(2)
    ).to_dict()
    processes = run_sweep(
        "paper-baseline", GRID, samples=4000, seed=3, chunk_size=3000, executor=ProcessExecutor(2)
    ).to_dict()
    assert serial == threads == processes


def test_grid_values_split_on_top_level_commas_only() -> None:
    axes = parse_grid(["windows_months=[12, 4],[12,4,1]", 'name="a,b",c'])
    assert axes == (GridAxis("windows_months", ("[12, 4]", "[12,4,1]")), GridAxis("name", ('"a,b"', "c")))
    assert axes[0].values == ([12, 4], [12, 4, 1])


def test_parquet_table_has_a_row_per_point_and_the_metadata(tmp_path: Path) -> None:
    target = tmp_path / "sweep.parquet"
    result = run_sweep("paper-baseline", GRID, overrides=["horizon_months=60"], samples=2048, seed=5)
    result.write_parquet(target)
    table = pq.read_table(target)
    assert table.column_names == [
        "inputs.returns.high",
        "retraining",
        "p_3y_12mo",
        "p_3y_12mo_se",
        "p_3_33y_4mo",
        "p_3_33y_4mo_se",
        "p_10y_12mo",
        "p_10y_12mo_se",
        "p_10y_4mo",
        "p_10y_4mo_se",
        "samples",
        "seed",
        "overflowed_samples",
    ]
    rows = table.to_pylist()
    assert [(r["inputs.returns.high"], r["retraining"]) for r in rows] == [
        (3.0, "none"),
        (3.0, "paper"),
        (4.5, "none"),
        (4.5, "paper"),
    ]
    assert rows[3]["p_3y_12mo"] == result.summaries[3].cells[0].estimate.probability
    assert rows[3]["p_3y_12mo_se"] == result.summaries[3].cells[0].estimate.standard_error
    assert {(r["samples"], r["seed"]) for r in rows} == {(2048, 5)}
    metadata = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert metadata["asara.scenario_source"] == "paper-baseline"
    assert json.loads(metadata["asara.scenario"])["horizon_months"] == 60
    assert json.loads(metadata["asara.grid"]) == {
        "inputs.returns.high": ["3", "4.5"],
        "retraining": ["none", "paper"],
    }
    assert json.loads(metadata["asara.overrides"]) == ["horizon_months=60"]
    assert metadata["asara.seed"] == "5" and metadata["asara.version"] == __version__
    assert not list(tmp_path.glob("*.partial"))


def test_cli_json_has_the_documented_keys(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    args = ["sie", "sweep", "paper-baseline", "--grid", GRID[0], "--set", "horizon_months=60"]
    result = runner.invoke(
        app, [*args, "-n", "3000", "--seed", "4", "-w", "1", "--json", "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert {"model", "scenario", "grid", "overrides", "samples", "seed", "version", "points", "out"} <= set(
        record
    )
    assert record["grid"] == {"inputs.returns.high": [3, 4.5]} and record["seed"] == 4
    assert record["overrides"] == ["horizon_months=60"]
    assert [p["values"] for p in record["points"]] == [
        {"inputs.returns.high": 3},
        {"inputs.returns.high": 4.5},
    ]
    for point in record["points"]:
        assert {"values", "cells", "overflowed_samples"} <= set(point)
        assert [(c["years"], c["months"]) for c in point["cells"]] == [(3, 12), (3.33, 4), (10, 12), (10, 4)]
        assert all({"probability", "standard_error"} <= set(c) for c in point["cells"])
    assert pq.read_table(target).num_rows == 2


def test_cli_table_shows_each_point_run_on_local_processes() -> None:
    result = runner.invoke(
        app, ["sie", "sweep", "paper-baseline", "--grid", GRID[1], "-n", "2048", "-w", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "retraining" in result.output and "paper" in result.output and "±" in result.output
    assert "2 points x 2,048 samples" in result.output


def test_table_fits_an_80_column_terminal() -> None:
    from rich.console import Console

    from asara.cli.sie_sweep import print_sweep

    result = run_sweep(
        "paper-baseline", ["inputs.returns.high=3,4", "retraining=none,paper"], samples=1024, seed=1
    )
    terminal = Console(width=80, force_terminal=True, record=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("asara.cli.sie_sweep.Console", lambda **_: terminal)
        print_sweep(result)
    lines = terminal.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    # Nothing cropped: every estimate and standard error, and the overflow column, are there.
    for summary in result.summaries:
        for cell in summary.cells:
            assert f"{cell.estimate.probability:.4f}" in text
            assert f"± {cell.estimate.standard_error:.4f}" in text
    assert "…" not in text and "flowed" in text


def test_library_rejects_large_grids_before_running() -> None:
    grid = [
        "horizon_months=" + ",".join(map(str, range(1, 102))),
        "recent_doubling_months=" + ",".join(map(str, range(1, 101))),
    ]
    with pytest.raises(InputError, match="10,100 points"):
        run_sweep("paper-baseline", grid, samples=1024)


BIG_GRID = [
    "--grid",
    "horizon_months=" + ",".join(map(str, range(1, 102))),
    "--grid",
    "recent_doubling_months=" + ",".join(map(str, range(1, 101))),
]
BAD_INPUTS: dict[str, tuple[list[str], str]] = {
    "unknown key": (["--grid", "inputs.returns.bogus=1,2"], "inputs.returns.bogus: unknown key"),
    "unknown top-level key": (["--grid", "speedup=1,2"], "speedup: unknown key"),
    "no grid": ([], "at least one --grid"),
    "no equals sign": (["--grid", "retraining"], "expected key=v1,v2"),
    "no key": (["--grid", "=1,2"], "expected key=v1,v2"),
    "no values": (["--grid", "retraining="], "empty value"),
    "empty value": (["--grid", "inputs.returns.high=3,,4"], "empty value"),
    "repeated key": (["--grid", "retraining=none", "--grid", "retraining=paper"], "more than one --grid"),
    "too many points": (BIG_GRID, "pass --yes"),
    "invalid value": (["--grid", "software_share=0.5,2"], "software_share"),
    "invalid choice": (["--grid", "retraining=none,bogus"], "retraining"),
    "grid and set": (
        ["--grid", "inputs.returns.high=3,4", "--set", "inputs.returns.high=5"],
        "both a --grid key and a --set key",
    ),
    "bad dask scheme": (["--grid", "retraining=none", "--dask", "foo://host"], "dask"),
    "workers with dask": (["--grid", "retraining=none", "--dask", "tcp://127.0.0.1:1", "-w", "2"], "workers"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str) -> None:
    args, fragment = BAD_INPUTS[case]
    result = asara("sie", "sweep", "paper-baseline", "-n", "1024", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_unreachable_dask_scheduler_fails_fast_in_one_line() -> None:
    started = time.monotonic()
    result = asara(
        "sie",
        "sweep",
        "paper-baseline",
        "--grid",
        "retraining=none",
        "--dask",
        "tcp://127.0.0.1:1",
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach a Dask scheduler at tcp://127.0.0.1:1" in lines[0], result.stderr
    assert elapsed < 20
