"""``asara sie sensitivity``, ``tornado``, ``convergence`` and ``explain-sample``: which inputs drive the
results, how estimates settle, and why one run came out as it did."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from asara.cli.common import (
    JsonOption,
    PlainSeedOption,
    ScenarioArgument,
    SetOption,
    samples_option,
    seed_option,
)
from asara.cli.progress import LazyProgress
from asara.cli.sensitivity import (
    MethodOption,
    OthersOption,
    SensitivitySamplesOption,
    TornadoSamplesOption,
    TornadoSeedOption,
    echo_json,
    print_sensitivity,
    print_tornado,
)
from asara.errors import InputError


def convergence_command(
    scenario: ScenarioArgument,
    samples: Annotated[int, samples_option("Samples in the run.")] = 1_000_000,
    seed: PlainSeedOption = 0,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Each cell's probability and standard error after 1,024, 2,048, 4,096, ... samples of one run."""
    from asara import sie

    result = sie.convergence(scenario, samples, seed, overrides=overrides or [])
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    curves, labels = result.outputs, result.labels
    table = Table(title=f"{result.scenario.name}: estimate ± standard error after n samples (seed {seed})")
    table.add_column("samples", justify="right", no_wrap=True)
    for name in curves:
        table.add_column(labels[name].replace(" in ", "\nin "), justify="right", no_wrap=True)
    first = next(iter(curves.values()))
    for i, point in enumerate(first):
        row = [f"{point.samples:,}"]
        for points in curves.values():
            estimate = points[i].estimate
            row.append(f"{estimate.probability:.4f}±{estimate.standard_error:.4f}")
        table.add_row(*row)
    Console(highlight=False).print(table)


def _parse_values(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, separator, text = item.partition("=")
        if not separator or not name.strip():
            raise InputError(f"expected NAME=VALUE (got {item!r})", field="input")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            raise InputError(f"{text!r} is not a number", field=f"input.{name.strip()}") from None
    return values


def explain_sample_command(
    scenario: ScenarioArgument,
    sample: Annotated[
        int | None, typer.Option("--sample", help="Index of the sample in a run with --seed.")
    ] = None,
    seed: Annotated[int, seed_option("Seed of the run the sample comes from.")] = 0,
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            help="Set an input, e.g. --input returns=0.8 (with --sample: on top of the sample's values; "
            "without: give every input).",
        ),
    ] = None,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Why one run did or did not reach each cell: its r path, when r fell below 1, what stopped it,
    and what each input moved alone to its median would have given."""
    from asara import sie

    loaded = sie.load(scenario, overrides or [])
    explanation = sie.explain_sample(loaded, sample, seed, _parse_values(values or []))
    record = explanation.to_dict()
    if json_output:
        typer.echo(json.dumps(record, indent=2))
        return
    _print_explanation(record)


def _print_explanation(record: dict[str, Any]) -> None:
    out = Console(highlight=False)
    origin = (
        f"sample {record['sample']} of seed {record['seed']}" if record["sample"] is not None else "given"
    )
    inputs = ", ".join(f"{name} {value:.4g}" for name, value in record["inputs"].items())
    out.print(f"[bold]{record['scenario']}[/bold], {origin}: {inputs}")
    path = record["returns_path"]
    times = record["times_months"]
    marks = sorted({0, *range(0, len(path), max(1, len(path) // 8)), len(path) - 1})
    steps = ", ".join(f"#{i} {times[i]:.3g} mo r={path[i]:.3g}" for i in marks)
    clock = (
        f" (months since the ramp began; ASARA arrives at month {record['asara_months']:.3g})"
        if record["asara_months"]
        else " (months after ASARA)"
    )
    out.print(f"r along the run (doubling, month, r){clock}: {steps}")
    below = record["r_below_one"]
    if below is None:
        out.print("r stayed at or above 1 for the whole run.")
    elif below["after_doubling"] == 0:
        out.print(f"r started below 1 (r0 = {path[0]:.3g}): the run never accelerated on its own.")
    else:
        out.print(
            f"r fell below 1 after doubling {below['after_doubling']} ({below['months']:.3g} months): "
            "from there each doubling takes longer than the last."
        )
    stops = {
        "ceiling": "it reached the effective limit of software",
        "horizon": f"it ran out of time (the simulation horizon, month {record['horizon_end_months']:.3g})",
        "overflow": "its next doubling would take longer than any representable time (r almost 0 just "
        "below the limit), so progress stopped for good",
    }
    out.print(
        f"{record['doublings']} doublings of {record['ceiling_doublings']:.4g} to the limit; "
        f"stopped because {stops.get(record['end_reason'], record['end_reason'])}."
    )
    table = Table(title="cells: reached? and which input, moved alone to its median, would flip it")
    table.add_column("cell", no_wrap=True)
    for column in ("doublings needed", "most in window", "outcome", "flipped by"):
        table.add_column(column)
    for cell in record["cells"]:
        table.add_row(
            f">= {cell['years']:g} y in <= {cell['months']:g} mo",
            str(cell["required_doublings"]),
            str(cell["reached_doublings"]),
            "yes" if cell["success"] else "no",
            ", ".join(cell["pivotal_inputs"]) or "none alone",
        )
    out.print(table)
    what_if = Table(title="years of progress compressed into each window, with one input at its median")
    what_if.add_column("input")
    what_if.add_column("sample -> median", justify="right")
    windows = list(record["years_compressed"])
    for months in windows:
        what_if.add_column(f"in {months} mo", justify="right")
    what_if.add_row("(the sample)", "", *(f"{record['years_compressed'][m]:g}" for m in windows))
    for c in record["counterfactuals"]:
        what_if.add_row(
            c["input"],
            f"{c['value']:.4g} -> {c['median']:.4g}",
            *(f"{c['years_compressed'][m]:g}" for m in windows),
        )
    what_if.add_row(
        "(all at medians)", "", *(f"{record['all_medians']['years_compressed'][m]:g}" for m in windows)
    )
    out.print(what_if)


def sensitivity_command(
    scenario: ScenarioArgument,
    method: MethodOption = "sobol",
    samples: SensitivitySamplesOption = None,
    seed: PlainSeedOption = 0,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Which uncertain input drives each cell: Sobol' first-order and total indices with bootstrap 95%
    intervals, or Morris screening."""
    from asara import sie

    loaded = sie.load(scenario, overrides or [])
    with LazyProgress(f"{loaded.name} {method}", enabled=not json_output) as progress:
        result = sie.sensitivity(loaded, method, samples, seed, on_progress=progress.update)
    if json_output:
        echo_json(result.to_dict())
        return
    print_sensitivity(result.result, loaded.name, sie.output_labels(loaded))


def tornado_command(
    scenario: ScenarioArgument,
    others: OthersOption = "median",
    samples: TornadoSamplesOption = None,
    seed: TornadoSeedOption = None,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Each input at its 10th and 90th percentile, one at a time: the cells and the doublings inside
    each window, bars sorted by swing."""
    from asara import sie

    result = sie.tornado(scenario, others, samples, seed, overrides=overrides or [])
    if json_output:
        echo_json(result.to_dict())
        return
    print_tornado(
        result.result, result.scenario.name, sie.output_labels(result.scenario), indicators=result.indicators
    )
