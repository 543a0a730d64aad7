"""``sensitivity`` and ``tornado`` for every model: the same options and the same printing (each model's
entry point, ``asara.sie`` or ``asara.persona``, runs the analysis)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from asara.cli.common import samples_option, seed_option

if TYPE_CHECKING:  # the analysis modules load the models: only when a command needs them
    from asara.analysis.sensitivity import SensitivityResult
    from asara.analysis.tornado import Tornado

MethodOption = Annotated[
    str, typer.Option("--method", help="sobol (variance shares with intervals) or morris (cheap screening).")
]
SensitivitySamplesOption = Annotated[
    int | None,
    samples_option(
        "Sobol: base points N (rounded up to a power of two; N x (inputs + 2) model runs) "
        "(default 4096; persona 512). Morris: trajectories (default 200; persona 50).",
        show_default=False,
    ),
]
OthersOption = Annotated[
    str,
    typer.Option(
        "--others",
        help="median: the other inputs at their medians (one run per bar); sampled: the other inputs "
        "drawn from their distributions (probabilities with standard errors).",
    ),
]

TornadoSamplesOption = Annotated[
    int | None,
    samples_option(
        "With --others sampled: samples per bar end (default 20,000; persona 2,000).",
        show_default=False,
    ),
]
TornadoSeedOption = Annotated[
    int | None,
    seed_option("With --others sampled: the seed (default 0).", show_default=False),
]


def print_sensitivity(result: SensitivityResult, title: str, labels: Mapping[str, str]) -> None:
    from asara.analysis.sensitivity import MorrisEffect, SobolIndex

    out = Console(highlight=False)
    for name, records in result.outputs.items():
        label = labels.get(name, name)
        mean = result.output_means.get(name)
        heading = f"{title}: {label}" + (f" (design mean {mean:.4g})" if mean is not None else "")
        if records is None:
            out.print(f"{heading}: does not vary, so no input explains any of it")
            continue
        table = Table(title=heading, min_width=72)
        table.add_column("input")
        if result.method == "sobol":
            table.add_column("first order [95% CI]", justify="right", no_wrap=True)
            table.add_column("total [95% CI]", justify="right", no_wrap=True)
            sobol_records = [r for r in records if isinstance(r, SobolIndex)]
            for index in sorted(sobol_records, key=lambda r: -r.total):
                table.add_row(
                    index.input,
                    f"{index.first:.3f} [{index.first_ci[0]:.3f}, {index.first_ci[1]:.3f}]",
                    f"{index.total:.3f} [{index.total_ci[0]:.3f}, {index.total_ci[1]:.3f}]",
                )
        else:
            table.add_column("mu* [95% CI]", justify="right", no_wrap=True)
            table.add_column("mu", justify="right")
            table.add_column("sigma", justify="right")
            morris_records = [r for r in records if isinstance(r, MorrisEffect)]
            for effect in sorted(morris_records, key=lambda r: -r.mu_star):
                table.add_row(
                    effect.input,
                    f"{effect.mu_star:.3f} [{effect.mu_star_ci[0]:.3f}, {effect.mu_star_ci[1]:.3f}]",
                    f"{effect.mu:+.3f}",
                    f"{effect.sigma:.3f}",
                )
        out.print(table)
    footer = f"{result.method}: {result.evaluations:,} model runs | seed {result.seed}"
    if result.fixed_inputs:
        footer += f" | fixed, so left out: {', '.join(result.fixed_inputs)}"
    out.print(footer)
    tables = any(records is not None for records in result.outputs.values())  # else no legend is needed
    if tables and result.method == "sobol":
        out.print(
            "first order: the share of the output's variance an input explains alone; total: including "
            "its interactions with the others. Intervals: bootstrap, 95%."
        )
    elif tables:
        out.print(
            "mu*: mean absolute change of the output when the input moves by half its probability range; "
            "sigma: how much that change depends on the other inputs (interactions, non-linearity)."
        )
    for note in result.notes:
        out.print(f"note: {note}")


def _yes_no(value: float) -> str:
    return "yes" if value >= 0.5 else "no"


def print_tornado(
    result: Tornado,
    title: str,
    labels: Mapping[str, str],
    indicators: Collection[str] = (),
    units: Mapping[str, str] | None = None,
) -> None:
    """``indicators``: 0/1 outputs (the SIE cells); with the others at their medians each bar end is
    one run that either reaches the cell or not, so they print as yes / no rather than as 0 / 1.
    ``units``: each input's declared unit, printed after its p10 -> p90 range."""
    units = units or {}
    out = Console(highlight=False)
    sampled = result.others == "sampled"
    for name, bars in result.bars.items():
        label = labels.get(name, name)
        base = result.base[name]
        yes_no = not sampled and name in indicators
        caption = f"all inputs at their medians: {_yes_no(base)}" if yes_no else f"base {base:.4g}"
        table = Table(title=f"{title}: {label} ({caption})", min_width=72)
        for column in ("input", "p10 -> p90"):
            table.add_column(column, no_wrap=True)
        table.add_column("at p10", justify="right", no_wrap=True)
        table.add_column("at p90", justify="right", no_wrap=True)
        table.add_column("swing", justify="right", no_wrap=True)
        for bar in bars:
            if sampled:
                low, high = f"{bar.output_at_low:.4f}", f"{bar.output_at_high:.4f}"
                swing = f"{bar.swing:+.4f} ± {bar.swing_standard_error:.4f}"
            elif yes_no:
                low, high = _yes_no(bar.output_at_low), _yes_no(bar.output_at_high)
                swing = "flips" if low != high else "-"
            else:
                low, high, swing = (
                    f"{bar.output_at_low:.4g}",
                    f"{bar.output_at_high:.4g}",
                    f"{bar.swing:+.4g}",
                )
            unit = f" {units[bar.input]}" if units.get(bar.input) else ""
            span = f"{bar.low_value:.3g} -> {bar.high_value:.3g}{unit}"
            table.add_row(bar.input, span, low, high, swing)
        out.print(table)
    if sampled:
        out.print(
            f"each input pinned at its 10th / 90th percentile, the others drawn ({result.samples:,} samples, "
            f"seed {result.seed}, the same draws for every bar); ± is the swing's standard error"
        )
    else:
        out.print("each input at its 10th / 90th percentile, the others at their medians (one run per bar)")


def echo_json(record: Any) -> None:
    typer.echo(json.dumps(record, indent=2))
