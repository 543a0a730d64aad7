"""``asara sie ...``: run the SIE model, list presets, show one trajectory."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from asara.cli.common import (
    JsonOption,
    PlainSeedOption,
    ScenarioArgument,
    SeedOption,
    SetOption,
    WorkersOption,
    chunk_size_option,
    out_option,
    print_explanations,
    print_parameters,
    print_presets,
    samples_option,
)
from asara.cli.progress import LazyProgress
from asara.cli.sie_analysis import (
    convergence_command,
    explain_sample_command,
    sensitivity_command,
    tornado_command,
)
from asara.cli.sie_sweep import sweep_command
from asara.errors import InputError
from asara.io.atomic import check_writable_target, write_text
from asara.montecarlo.defaults import DEFAULT_CHUNK_SIZE

if TYPE_CHECKING:
    from asara.analysis.outputs import OutputSummary
    from asara.analysis.sie_summary import SieSummary

# The model, NumPy and the compiled kernels load inside the commands that run them: listing presets or
# asking for help takes a fraction of a second.

sie_app = typer.Typer(
    help="The software-intelligence-explosion model (Davidson & Houlden 2025).", no_args_is_help=True
)


def console() -> Console:
    return Console(highlight=False)


@sie_app.command("presets")
def presets_command(json_output: JsonOption = False) -> None:
    """List the shipped scenarios, one line each."""
    print_presets("sie", json_output)


@sie_app.command("run")
def run_command(
    scenario: ScenarioArgument,
    samples: Annotated[
        int | None,
        samples_option(
            "Number of Monte Carlo samples (default 100000); with --target-se, the most to draw "
            "(default 100000000).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = 0,
    target_se: Annotated[
        float | None,
        typer.Option(
            "--target-se",
            help="Keep drawing samples until every cell's standard error is below this (e.g. 0.001). "
            "The same seed stops at the same sample count.",
        ),
    ] = None,
    workers: WorkersOption = None,
    chunk_size: Annotated[
        int, chunk_size_option("Samples per chunk (memory per worker); results do not depend on it.")
    ] = DEFAULT_CHUNK_SIZE,
    overrides: SetOption = None,
    json_output: JsonOption = False,
    out: Annotated[Path | None, out_option("Write DIR/samples.parquet and DIR/run.json.")] = None,
) -> None:
    """Run a scenario and print each cell's probability with its standard error."""
    from asara import sie

    loaded = sie.load(scenario, overrides or [])
    started = time.perf_counter()
    with LazyProgress(f"{loaded.name}", enabled=not json_output) as progress:
        summary = sie.run(
            loaded,
            samples,
            seed,
            target_se=target_se,
            workers=workers,
            chunk_size=chunk_size,
            out_dir=out,
            on_progress=progress.update,
            command=["asara", *sys.argv[1:]],
        )
    elapsed = time.perf_counter() - started
    if json_output:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    print_summary(summary, elapsed)
    if summary.stopping is not None:
        print_stopping(summary)
    if out is not None:
        console().print(f"Wrote {out / 'samples.parquet'} and {out / 'run.json'}")


def print_stopping(summary: SieSummary) -> None:
    stopping = summary.stopping
    assert stopping is not None
    steps = " -> ".join(f"{n:,}" for n in stopping.checkpoints)
    if stopping.reached:
        console().print(
            f"every standard error is below {stopping.target_se:g} after {summary.samples:,} samples "
            f"(checkpoints {steps})"
        )
    else:
        console().print(
            f"[bold]target not reached[/bold]: standard errors are still at or above {stopping.target_se:g} "
            f"after the maximum of {stopping.max_samples:,} samples (raise --samples)"
        )


def _cell_table(summary: SieSummary) -> Table:
    table = Table(title=f"{summary.scenario.name}: P(at least X years of progress in at most T months)")
    table.add_column("years", justify="right")
    table.add_column("months", justify="right")
    table.add_column("doublings", justify="right")
    table.add_column("probability ± SE", justify="right", no_wrap=True)
    table.add_column("95% interval", justify="right", no_wrap=True)
    for cell in summary.cells:
        low, high = cell.estimate.wilson_interval()
        table.add_row(
            f">= {cell.cell.years:g}",
            f"<= {cell.cell.months:g}",
            str(cell.required_doublings),
            f"{cell.estimate.probability:.4f} ± {cell.estimate.standard_error:.4f}",
            f"[{low:.4f}, {high:.4f}]",
        )
    return table


def print_summary(summary: SieSummary, elapsed: float | None = None) -> None:
    out = console()
    out.print(_cell_table(summary))
    reasons = ", ".join(f"{label} {count:,}" for label, count in summary.end_reasons.items())
    timing = f" in {elapsed:.2f} s" if elapsed is not None else ""
    out.print(
        f"samples {summary.samples:,}{timing} | seed {summary.seed} | asara {summary.version}\n"
        f"runs ended by: {reasons}\noverflowed samples: {summary.overflowed_samples:,}"
    )
    cells = {cell.cell.key for cell in summary.cells}
    for found in summary.outputs:
        if found.output.name not in cells:
            # Declared outputs print themselves: one line each, never wrapped, labels never read as markup.
            out.print(output_line(found), markup=False, soft_wrap=True)


def output_line(found: OutputSummary) -> str:
    """One declared output besides the cells, e.g. ``doublings completed (doublings): mean 51.2; ...``."""
    return f"{found.heading()}: {found.describe()}"


@sie_app.command("trajectory")
def trajectory_command(
    scenario: ScenarioArgument,
    speedup: Annotated[float, typer.Option("--speedup", help="Initial speed-up f.")],
    returns: Annotated[float, typer.Option("--returns", help="Returns to software R&D r0.")],
    limit_years: Annotated[float, typer.Option("--limit-years", help="Distance to the limit (years).")],
    parallel_penalty: Annotated[float, typer.Option("--parallel-penalty", help="Parallel penalty p.")],
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """One run: every doubling time, r along the way, and the compression it reaches."""
    from asara import sie

    run = sie.trajectory(scenario, speedup, returns, limit_years, parallel_penalty, overrides=overrides or [])
    if json_output:
        typer.echo(json.dumps(run.to_dict(), indent=2))
        return
    loaded, path, compression = run.scenario, run.path, run.compression
    table = Table(
        title=f"{loaded.name}: f={speedup:g}, r0={returns:g}, limit={limit_years:g} y, p={parallel_penalty:g}"
    )
    for column in ("doubling", "completed at (months)", "doubling time (months)", "r after"):
        table.add_column(column, justify="right")
    for i in range(1, len(path.times)):
        table.add_row(
            str(i), f"{path.times[i]:.4g}", f"{path.doubling_months[i]:.4g}", f"{path.returns[i]:.4g}"
        )
    out = console()
    out.print(table)
    out.print(
        f"{len(path.times) - 1} doublings of {path.ceiling_doublings:g} to the ceiling; "
        f"stopped by: {path.end_reason}"
    )
    for months, reached in compression.items():
        out.print(
            f"most progress inside {months} months: "
            f"{reached['doublings']} doublings = {reached['years']:g} years"
        )


@sie_app.command("summary")
def summary_command(
    run_dir: Annotated[Path, typer.Argument(help="A directory written by `asara sie run --out`.")],
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write a Markdown report here.")
    ] = None,
) -> None:
    """Print the results stored in a run directory (and optionally write them as Markdown)."""
    from asara.io.runfolder import verify_files

    record_path = run_dir / "run.json"
    if not record_path.is_file():
        raise InputError(f"no run.json in {run_dir}", field="run_dir")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{record_path} is not valid JSON: {error}", field="run_dir") from None
    except (OSError, RecursionError, ValueError) as error:
        raise InputError(f"cannot read {record_path}: {error}", field="run_dir") from None
    if not isinstance(record, dict):
        raise InputError(f"{record_path} is not a run record (expected a JSON object)", field="run_dir")
    # The summary needs only run.json, but never beside samples from another run.
    verify_files(run_dir, record, allow_missing=True)
    try:
        text = markdown_report(record)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        problem = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise InputError(
            f"{record_path} is not a run record written by `asara sie run --out` ({problem})",
            field="run_dir",
        ) from None
    if markdown is not None:
        check_writable_target(markdown, field="markdown")
    typer.echo(text)
    if markdown is not None:
        write_text(markdown, text)


def markdown_report(record: dict[str, Any]) -> str:
    lines = [
        f"# SIE run: {record['scenario']}",
        "",
        f"{record['samples']:,} samples, seed {record['seed']}, asara {record['version']}, "
        f"{record.get('created', '')}",
        "",
        "| at least | in at most | doublings needed | probability | standard error | 95% Wilson |",
        "|---|---|---|---|---|---|",
    ]
    for cell in record["cells"]:
        low, high = cell["wilson_95"]
        lines.append(
            f"| {cell['years']:g} years | {cell['months']:g} months | {cell['required_doublings']} | "
            f"{cell['probability']:.4f} | {cell['standard_error']:.4f} | [{low:.4f}, {high:.4f}] |"
        )
    reasons = ", ".join(f"{k}: {v:,}" for k, v in record["end_reasons"].items())
    lines += ["", f"Runs ended by {reasons}. Overflowed samples: {record['overflowed_samples']:,}.", ""]
    others = _recorded_outputs(record)
    if others:
        lines += ["## Per-sample outputs", "", "| output | over the samples |", "|---|---|"]
        for found in others:
            heading, text = (part.replace("|", "\\|") for part in (found.heading(), found.describe()))
            lines.append(f"| {heading} | {text} |")
        lines.append("")
    return "\n".join(lines)


def _recorded_outputs(record: dict[str, Any]) -> list[OutputSummary]:
    """The declared outputs of a run record besides the cells (none from a record written before outputs
    were declared)."""
    from asara.analysis.outputs import OutputSummary
    from asara.models.sie.metrics import Cell

    cells = {Cell(cell["years"], cell["months"]).key for cell in record["cells"]}
    found = (OutputSummary.from_dict(output) for output in record.get("outputs", []))
    return [output for output in found if output.output.name not in cells]


@sie_app.command("extensions")
def extensions_command(json_output: JsonOption = False) -> None:
    """List the model's optional extensions, each with its settings and its neutral setting as --set
    arguments."""
    from asara.scenarios.sie_extensions import EXTENSIONS

    if json_output:
        typer.echo(json.dumps([e.to_dict() for e in EXTENSIONS], indent=2))
        return
    table = Table(title="SIE extensions (all off by default)")
    for column in ("name", "what it adds", "settings", "neutral setting", "preset"):
        table.add_column(column)
    for extension in EXTENSIONS:
        neutral = " ".join(f"--set {item}" for item in extension.neutral)
        settings = "\n".join(extension.parameters)
        table.add_row(extension.name, extension.description, settings, neutral, extension.preset)
    console().print(table)


@sie_app.command("parameters")
def parameters_command(
    json_output: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown table of the docs (docs/sie.md).")
    ] = False,
) -> None:
    """List every setting of the model: scenario key, type, neutral value, range, unit, whether it may be
    uncertain, and what it means. Each can be changed with --set key=value or in a scenario file."""
    from asara.models.sie.parameters import PARAMETERS

    print_parameters(PARAMETERS, "SIE settings (neutral: the paper's model)", json_output, markdown)


@sie_app.command("explain")
def explain_command(
    baseline: Annotated[str, typer.Argument(help="Scenario A (preset or TOML path).")],
    changed: Annotated[str, typer.Argument(help="Scenario B (preset or TOML path).")],
    samples: Annotated[int, samples_option("Samples per evaluated subset.")] = 50_000,
    seed: PlainSeedOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Attribute the change from A to B in each cell to each changed assumption (exact Shapley values,
    common random numbers, standard errors); the attributions add up to the total change."""
    from asara import sie

    result = sie.explain(baseline, changed, samples, seed)
    print_explanations(
        baseline, changed, result.changes, result.explanations, result.labels, samples, seed, json_output
    )


sie_app.command("sensitivity")(sensitivity_command)
sie_app.command("tornado")(tornado_command)
sie_app.command("convergence")(convergence_command)
sie_app.command("explain-sample")(explain_sample_command)
sie_app.command("sweep")(sweep_command)
