"""``asara plot ...``: write one figure as PNG or SVG (chosen by the --out suffix).

Heavy imports (matplotlib, the models) happen inside the commands, so ``asara --help`` stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from asara.cli.common import SeedOption, out_option, samples_option
from asara.errors import InputError
from asara.io.atomic import check_writable_target

FORMATS = ("png", "svg")

plot_app = typer.Typer(
    help="Figures as PNG or SVG (the --out suffix picks the format).", no_args_is_help=True
)

OutOption = Annotated[Path, out_option("FILE.png or FILE.svg.", short=True)]
SamplesOption = Annotated[int, samples_option("Monte Carlo samples per scenario.")]


def _read_json(path: Path, field: str) -> Any:
    if not path.is_file():
        raise InputError(f"no such file: {path}", field=field)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not valid JSON: {error}", field=field) from None


def _check_suffix(out: Path) -> None:
    if out.suffix.lower().lstrip(".") not in FORMATS:
        raise InputError(f"the file name must end in .png or .svg (got {out.name!r})", field="out")
    check_writable_target(out)  # never write a figure into a FIFO, a device or through a link


@plot_app.command("cdf")
def cdf_command(
    scenarios: Annotated[list[str], typer.Argument(help="Preset names or TOML paths (one line each).")],
    out: OutOption,
    samples: SamplesOption = 200_000,
    seed: SeedOption = 0,
) -> None:
    """CDF of years of progress compressed into 12 and 4 months, with the Monte Carlo error band."""
    _check_suffix(out)
    from asara import sie
    from asara.report import plots

    summaries = [sie.run(s, samples, seed) for s in scenarios]
    typer.echo(str(plots.save(plots.compression_cdf(summaries), out)))


@plot_app.command("convergence")
def convergence_command(
    source: Annotated[
        str, typer.Argument(help="Preset name or TOML path, or JSON of `asara sie convergence --json`.")
    ],
    out: OutOption,
    samples: SamplesOption = 1_000_000,
    seed: SeedOption = 0,
) -> None:
    """Each cell's estimate against the number of samples, with its ±1.96 SE band."""
    _check_suffix(out)
    from asara.report import plots

    if source.endswith(".json"):
        record = _read_json(Path(source), "source")
        labels = None
    else:
        from asara import sie

        sie.check_run_arguments(samples, seed, None, 1)
        result = sie.convergence(source, samples, seed)
        record = result.to_dict()
        labels = sie.cell_titles(result.scenario)
    typer.echo(str(plots.save(plots.convergence_curves(record, labels), out)))


@plot_app.command("trajectories")
def trajectories_command(
    scenario: Annotated[str, typer.Argument(help="Preset name or TOML path.")],
    out: OutOption,
    count: Annotated[
        int, typer.Option("--count", help="How many sample runs (the run's first samples).")
    ] = 6,
    seed: SeedOption = 0,
) -> None:
    """Software doublings and r against months for sample runs; ceiling and horizon marked."""
    _check_suffix(out)
    from asara import sie
    from asara.report import plots

    typer.echo(str(plots.save(plots.trajectories(sie.load(scenario), count, seed), out)))


@plot_app.command("sensitivity")
def sensitivity_command(
    source: Annotated[
        str, typer.Argument(help="Preset name or TOML path, or JSON of `asara sie sensitivity --json`.")
    ],
    out: OutOption,
    samples: Annotated[int, samples_option("Sobol base points (N x (inputs + 2) model runs).")] = 4096,
    seed: SeedOption = 0,
) -> None:
    """Sobol indices (first order and total) with their intervals, from a live run or saved JSON."""
    _check_suffix(out)
    from asara.report import plots

    if source.endswith(".json"):
        data = _read_json(Path(source), "source")
        title = None
    else:
        from asara import sie
        from asara.cli.progress import LazyProgress

        with LazyProgress("sensitivity") as progress:
            result = sie.sensitivity(source, "sobol", samples, seed, on_progress=progress.update)
        data = result.to_dict()
        name = result.scenario.name
        title = f"{name}: Sobol' indices, N = {samples:,}, seed {seed} (bars: bootstrap 95% intervals)"
    typer.echo(str(plots.save(plots.sensitivity_bars(data, title=title), out)))


@plot_app.command("explain")
def explain_command(
    baseline: Annotated[
        str, typer.Argument(help="Scenario A (preset or TOML path), or a JSON file of `sie explain`.")
    ],
    out: OutOption,
    changed_argument: Annotated[
        str | None,
        typer.Argument(
            help="Scenario B, as in `asara sie explain A B` (omit when A is a JSON file).", show_default=False
        ),
    ] = None,
    changed_option: Annotated[
        str | None, typer.Option("--to", help="Scenario B (same as the second argument).")
    ] = None,
    samples: Annotated[int, samples_option("Samples per evaluated subset.")] = 50_000,
    seed: SeedOption = 0,
) -> None:
    """Waterfall of the Shapley attribution of B minus A, from a live run or saved JSON."""
    _check_suffix(out)
    from asara import sie
    from asara.report import plots

    if changed_argument is not None and changed_option is not None:
        raise InputError("give scenario B once: as the second argument or with --to", field="B")
    changed = changed_argument if changed_argument is not None else changed_option
    if changed is None:
        data = _read_json(Path(baseline), "baseline")
        title = None
    else:
        explanation = sie.explain(baseline, changed, samples, seed)
        data = explanation.to_dict()
        title = (
            f"{explanation.baseline.name} -> {explanation.changed.name}: Shapley attribution "
            f"({samples:,} samples per subset, seed {seed}; whiskers ±1.96 SE)"
        )
    typer.echo(str(plots.save(plots.explanation_waterfall(data, title=title), out)))


@plot_app.command("persona")
def persona_command(
    source: Annotated[
        str, typer.Argument(help="Persona preset or TOML path, or JSON of `asara persona run --json`.")
    ],
    out: OutOption,
) -> None:
    """Posterior shares against the number of documents (log axis), half-life marked."""
    _check_suffix(out)
    from asara.report import plots

    if source.endswith(".json"):
        record = _read_json(Path(source), "source")
    else:
        from asara import persona

        record = persona.run(source).to_dict()
    typer.echo(str(plots.save(plots.persona_curve(record), out)))
