"""Pieces every model's CLI shares: the common options (declared once here) and common printing.

Imported by ``asara --help`` and ``asara version`` (through ``report`` and ``web``): nothing heavy at
the top."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asara.models.sie.parameters import set_help as sie_set_help

if TYPE_CHECKING:
    from asara.analysis.shapley import OutputExplanation
    from asara.models.registry import Parameter

# Every command's shared options are declared here, once. The aliases are the common form; the factories
# take the few per-command differences (help text, short flag) while each command keeps its own default
# in its signature, e.g. ``samples: Annotated[int, samples_option("Samples in the run.")] = 1_000_000``.

SEED_HELP = "Seed: the same seed gives the same numbers."
JSON_HELP = "Print one JSON object on stdout."
WORKERS_HELP = "Parallel workers (default: one per core)."
SET_HELP = "Override one scenario value by dotted key, e.g. inputs.returns.high=5."
SCENARIO_HELP = "Preset name (see `asara {model} presets`) or TOML path."


def seed_option(help: str | None = SEED_HELP, *, short: bool = True, show_default: bool = True) -> Any:
    """``--seed`` / ``-s``."""
    names = ("--seed", "-s") if short else ("--seed",)
    return typer.Option(*names, help=help, show_default=show_default)


def samples_option(help: str, *, show_default: bool = True) -> Any:
    """``--samples`` / ``-n``: what a sample is differs per command, so the help text is always given."""
    return typer.Option("--samples", "-n", help=help, show_default=show_default)


def out_option(help: str, *, short: bool = False) -> Any:
    """``--out`` (``-o`` too where the output is one file the command exists to write)."""
    names = ("--out", "-o") if short else ("--out",)
    return typer.Option(*names, help=help)


def workers_option(help: str = WORKERS_HELP, *, short: bool = True) -> Any:
    """``--workers`` / ``-w``."""
    names = ("--workers", "-w") if short else ("--workers",)
    return typer.Option(*names, help=help)


def json_option(help: str = JSON_HELP) -> Any:
    """``--json``."""
    return typer.Option("--json", help=help)


def set_option(help: str = SET_HELP) -> Any:
    """``--set KEY=VALUE`` (repeatable)."""
    return typer.Option("--set", help=help)


def chunk_size_option(help: str) -> Any:
    """``--chunk-size``."""
    return typer.Option("--chunk-size", help=help)


def dask_option(help: str) -> Any:
    """``--dask ADDRESS``."""
    return typer.Option("--dask", metavar="ADDRESS", help=help)


def scenario_argument(model: str, help: str | None = None) -> Any:
    """The scenario argument: a preset of ``model`` or a TOML path."""
    return typer.Argument(help=help or SCENARIO_HELP.format(model=model))


SeedOption = Annotated[int, seed_option()]
PlainSeedOption = Annotated[int, seed_option(None)]
"""``--seed`` without a help line (the analyses whose seed needs no explaining)."""
JsonOption = Annotated[bool, json_option()]
WorkersOption = Annotated[int | None, workers_option()]
# The SIE model's forms; the persona commands pass their own example and preset list to the factories.
SetOption = Annotated[list[str] | None, set_option(sie_set_help())]
"""``--set`` for the SIE commands: its help lists every declared setting."""
ScenarioArgument = Annotated[str, scenario_argument("sie")]


def print_parameters(parameters: Sequence[Parameter], title: str, json_output: bool, markdown: bool) -> None:
    """Every command ``parameters``: the declarations as JSON, as the docs' Markdown table, or two lines a
    setting (the keys alone are up to 38 characters wide, and the listing must read at 80 columns)."""
    import shutil
    import textwrap

    from asara.errors import InputError
    from asara.models.registry import markdown_table

    if json_output and markdown:
        raise InputError("give --json or --markdown, not both", field="markdown")
    if json_output:
        typer.echo(json.dumps([p.to_dict() for p in parameters], indent=2))
        return
    if markdown:
        typer.echo(markdown_table(parameters), nl=False)
        return
    width = max(40, min(shutil.get_terminal_size().columns, 100))
    indent = " " * 4
    typer.echo(f"{title}; --json or --markdown: with help text")
    for p in parameters:
        kind = p.type if p.type != "choice" else " | ".join(p.choices)
        facts = [kind, f"neutral {p.neutral_text() or 'unset'}"]
        if p.bounds_text():
            facts.append(f"range {p.bounds_text()}" + (f" {p.unit}" if p.unit else ""))
        if p.type == "distribution":
            facts.append("always uncertain")
        elif p.uncertain:
            facts.append("may be a distribution")
        typer.echo(p.key)
        text = f"{p.label}: {'; '.join(facts)}"
        typer.echo(textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent))


def print_presets(model: str, json_output: bool) -> None:
    """The shipped scenarios of ``model``: one line each, or a JSON list of {name, description}."""
    from asara.scenarios.loader import list_presets

    presets = list_presets(model)
    if json_output:
        typer.echo(json.dumps([{"name": p.name, "description": p.description} for p in presets], indent=2))
        return
    width = max(len(p.name) for p in presets)
    for preset in presets:
        typer.echo(f"{preset.name:<{width}}  {preset.description}")


def print_explanations(
    baseline: str,
    changed: str,
    changes: Sequence[str],
    explanations: Sequence[OutputExplanation],
    labels: Mapping[str, str],
    samples: int,
    seed: int,
    json_output: bool,
) -> None:
    """The output of every model's ``explain`` command: JSON, or one table per output."""
    from rich.console import Console
    from rich.table import Table

    if json_output:
        typer.echo(json.dumps({e.output: e.to_dict() for e in explanations}, indent=2))
        return
    out = Console(highlight=False)
    if not changes:
        out.print(f"{baseline} and {changed} make the same assumptions: nothing to explain.")
        return
    for explanation in explanations:
        table = Table(
            title=f"{labels.get(explanation.output, explanation.output)}: {explanation.baseline:.4f} -> "
            f"{explanation.changed:.4f} (change {explanation.total_change:+.4f})",
            min_width=72,
        )
        table.add_column("changed assumption")
        table.add_column("contribution ± SE", justify="right", no_wrap=True)
        for attribution in sorted(explanation.attributions, key=lambda a: -abs(a.value)):
            table.add_row(attribution.change, f"{attribution.value:+.4f} ± {attribution.standard_error:.4f}")
        out.print(table)
    out.print(f"samples {samples:,} per subset | seed {seed} | {2 ** len(changes)} subsets evaluated")
