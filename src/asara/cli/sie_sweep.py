"""``asara sie sweep``: one Monte Carlo per point of a grid of scenario settings, as one table."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from asara.cli.common import (
    JsonOption,
    ScenarioArgument,
    chunk_size_option,
    dask_option,
    out_option,
    samples_option,
    seed_option,
    set_option,
    workers_option,
)
from asara.cli.progress import LazyProgress
from asara.errors import InputError
from asara.io.atomic import check_writable_target
from asara.montecarlo.defaults import DEFAULT_CHUNK_SIZE

if TYPE_CHECKING:
    from asara.analysis.sweep import SweepResult


def sweep_command(
    scenario: ScenarioArgument,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="A dotted scenario key and its values, e.g. inputs.returns.high=3,4,5 (repeat for more "
            "keys; the sweep runs every combination).",
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        set_option("Override one scenario value for every point, e.g. horizon_months=60."),
    ] = None,
    samples: Annotated[int, samples_option("Monte Carlo samples per point.")] = 100_000,
    seed: Annotated[int, seed_option("Seed for every point (common random numbers).")] = 0,
    workers: Annotated[int | None, workers_option("Local worker processes (default: one per core).")] = None,
    dask: Annotated[str | None, dask_option("Run on the Dask cluster at this scheduler address.")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Run grids of more than 10,000 points without stopping.")
    ] = False,
    out: Annotated[
        Path | None, out_option("Write the table (one row per point) to this Parquet file.")
    ] = None,
    chunk_size: Annotated[
        int, chunk_size_option("Samples per chunk; results do not depend on it.")
    ] = DEFAULT_CHUNK_SIZE,
    json_output: JsonOption = False,
) -> None:
    """Run the scenario at every point of a grid (same seed everywhere) and tabulate each cell."""
    from asara import sie

    sie.check_run_arguments(samples, seed, workers, chunk_size)
    if out is not None and out.is_dir():
        raise InputError(f"{out} is a directory; give a file name such as sweep.parquet", field="out")
    if out is not None:
        check_writable_target(out)  # before the sweep runs, not after
    started = time.perf_counter()
    with LazyProgress(f"sweep {scenario}", enabled=not json_output) as progress:
        result = sie.sweep(
            scenario,
            grid or [],
            samples,
            seed,
            overrides=overrides or [],
            workers=workers,
            dask_address=dask,
            chunk_size=chunk_size,
            allow_large=yes,
            on_progress=progress.update,
        )
    elapsed = time.perf_counter() - started
    if out is not None:
        result.write_parquet(out)
    if json_output:
        record = result.to_dict()
        if out is not None:
            record["out"] = str(out)
        typer.echo(json.dumps(record, indent=2))
        return
    print_sweep(result, elapsed)
    if out is not None:
        Console(highlight=False).print(f"Wrote {out}")


def _sweep_table(result: SweepResult, stacked: bool) -> Table:
    """``stacked``: each estimate over its standard error, for terminals too narrow for one line."""
    table = Table(title=f"{result.base.name}: P(at least X years of progress in at most T months) per point")
    for i, axis in enumerate(result.axes):
        header = axis.key.replace(".", ".\n") if stacked else axis.key
        width = max(*(len(line) for line in header.splitlines()), *(len(p.texts[i]) for p in result.points))
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    outputs = result.headline_outputs()
    for output in outputs:
        quantity = "probability" if output.kind == "indicator" else "mean"
        if stacked:  # the label in lines no wider than an estimate ("± 0.0123")
            label = "\n".join(textwrap.wrap(output.label, 8, break_long_words=False))
            header = label + ("\nP ± SE" if quantity == "probability" else "\nmean ± SE")
        else:
            header = f"{output.label}\n{quantity} ± SE"
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("over-\nflowed" if stacked else "overflowed", justify="right", no_wrap=True)
    separator = "\n" if stacked else " "
    columns = [result.estimates(output.name) for output in outputs]
    for k, (point, summary) in enumerate(zip(result.points, result.summaries, strict=True)):
        estimates = [f"{column[k][0]:.4f}{separator}± {column[k][1]:.4f}" for column in columns]
        table.add_row(*point.texts, *estimates, f"{summary.overflowed_samples:,}")
    return table


def print_sweep(result: SweepResult, elapsed: float | None = None) -> None:
    timing = f" in {elapsed:.2f} s" if elapsed is not None else ""
    out = Console(highlight=False)
    table = _sweep_table(result, stacked=False)
    needed = out.measure(table, options=out.options.update_width(100_000)).maximum
    if not out.is_terminal:  # a file or pipe has no width to respect: never squeeze the columns
        out = Console(highlight=False, width=max(out.width, needed))
    elif needed > out.width:
        table = _sweep_table(result, stacked=True)
    out.print(table)
    out.print(
        f"{len(result.points):,} points x {result.samples:,} samples{timing} | seed {result.seed} "
        f"(the same samples at every point) | asara {result.version}"
    )
