"""``sensitivity`` and ``tornado`` for every model: the same library calls and the same printing, each
model's CLI only says how to load its scenario and how to label its outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from asara.cli.common import samples_option, seed_option
from asara.cli.progress import LazyProgress
from asara.errors import InputError

if TYPE_CHECKING:  # the analysis modules load SALib and pandas: only when a command needs them
    from asara.analysis.sensitivity import SensitivityResult
    from asara.analysis.tornado import Tornado
    from asara.distributions import Distribution
    from asara.models.base import FloatArray, Model

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

MAX_SENSITIVITY_SAMPLES = 1 << 20
MAX_TORNADO_SAMPLES = 1_000_000


def sensitivity_json(result: SensitivityResult) -> dict[str, Any]:
    """``--json``: for each output, a list of one object per input (``null`` if the output is constant)."""
    return {
        name: None if records is None else [record.to_dict() for record in records]
        for name, records in result.outputs.items()
    }


def run_sensitivity(
    model: Model,
    distributions: Mapping[str, Distribution],
    copula: FloatArray | None,
    method: str,
    samples: int | None,
    seed: int,
    outputs: Sequence[str] | None = None,
    progress_label: str = "sensitivity",
    show_progress: bool = True,
    default_samples: tuple[int, int] = (4096, 200),
) -> SensitivityResult:
    """``default_samples``: Sobol base points and Morris trajectories when ``samples`` is None."""
    from asara.analysis.sensitivity import morris, sobol

    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    if method not in ("sobol", "morris"):
        raise InputError(f"must be 'sobol' or 'morris' (got {method!r})", field="method")
    count = samples if samples is not None else default_samples[0 if method == "sobol" else 1]
    if not 2 <= count <= MAX_SENSITIVITY_SAMPLES:
        raise InputError(f"must be between 2 and {MAX_SENSITIVITY_SAMPLES} (got {count})", field="samples")
    analyse: Callable[..., SensitivityResult] = sobol if method == "sobol" else morris
    with LazyProgress(progress_label, enabled=show_progress) as progress:
        return analyse(
            model, distributions, count, seed, outputs=outputs, copula=copula, on_progress=progress.update
        )


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
    if result.method == "sobol":
        out.print(
            "first order: the share of the output's variance an input explains alone; total: including "
            "its interactions with the others. Intervals: bootstrap, 95%."
        )
    else:
        out.print(
            "mu*: mean absolute change of the output when the input moves by half its probability range; "
            "sigma: how much that change depends on the other inputs (interactions, non-linearity)."
        )
    for note in result.notes:
        out.print(f"note: {note}")


def run_tornado(
    model: Model,
    distributions: Mapping[str, Distribution],
    copula: FloatArray | None,
    others: str,
    samples: int | None,
    seed: int | None,
    outputs: Sequence[str] | None = None,
    default_samples: int = 20_000,
) -> Tornado:
    """``samples`` and ``seed`` are None unless the user gave them: they only mean something when the
    others are drawn."""
    if others not in ("median", "sampled"):
        raise InputError(f"must be 'median' or 'sampled' (got {others!r})", field="others")
    for value, field in ((samples, "samples"), (seed, "seed")):
        if others == "median" and value is not None:
            raise InputError(
                "applies only with --others sampled (with the others at their medians each bar is one run)",
                field=field,
            )
    seed = 0 if seed is None else seed
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    samples = default_samples if samples is None else samples
    if not 2 <= samples <= MAX_TORNADO_SAMPLES:
        raise InputError(f"must be between 2 and {MAX_TORNADO_SAMPLES:,} (got {samples})", field="samples")
    from asara.analysis.tornado import tornado

    return tornado(
        model,
        distributions,
        others="median" if others == "median" else "sampled",
        samples=samples,
        seed=seed,
        outputs=outputs,
        copula=copula,
    )


def _yes_no(value: float) -> str:
    return "yes" if value >= 0.5 else "no"


def print_tornado(
    result: Tornado, title: str, labels: Mapping[str, str], indicators: Collection[str] = ()
) -> None:
    """``indicators``: 0/1 outputs (the SIE cells); with the others at their medians each bar end is
    one run that either reaches the cell or not, so they print as yes / no rather than as 0 / 1."""
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
            table.add_row(bar.input, f"{bar.low_value:.3g} -> {bar.high_value:.3g}", low, high, swing)
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
