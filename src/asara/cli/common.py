"""Pieces every model's CLI shares."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from asara.scenarios.loader import list_presets

if TYPE_CHECKING:
    from asara.analysis.shapley import OutputExplanation


def print_presets(model: str, json_output: bool) -> None:
    """The shipped scenarios of ``model``: one line each, or a JSON list of {name, description}."""
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
