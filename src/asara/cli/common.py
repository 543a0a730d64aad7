"""Pieces every model's CLI shares."""

from __future__ import annotations

import json

import typer

from asara.scenarios.loader import list_presets


def print_presets(model: str, json_output: bool) -> None:
    """The shipped scenarios of ``model``: one line each, or a JSON list of {name, description}."""
    presets = list_presets(model)
    if json_output:
        typer.echo(json.dumps([{"name": p.name, "description": p.description} for p in presets], indent=2))
        return
    width = max(len(p.name) for p in presets)
    for preset in presets:
        typer.echo(f"{preset.name:<{width}}  {preset.description}")
