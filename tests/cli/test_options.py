"""The options every command shares are declared once, in ``asara.cli.common``, and every command that
takes them gets them from there (each with its own default and, where it differs, its own help text)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from asara.cli.main import SUBCOMMAND_GROUPS, app

CLI = Path(__file__).resolve().parents[2] / "src" / "asara" / "cli"
SHARED = ("--seed", "--samples", "--out", "--workers", "--json", "--set", "--chunk-size", "--dask")


@pytest.mark.parametrize("flag", SHARED)
def test_shared_options_are_declared_only_in_common(flag: str) -> None:
    option_call = re.compile(rf"typer\.Option\([^)]*\"{flag}\"", re.DOTALL)
    sources = {path.name: path.read_text(encoding="utf-8") for path in CLI.glob("*.py")}
    elsewhere = [name for name, text in sources.items() if option_call.search(text)]
    assert elsewhere in ([], ["common.py"])
    assert f'"{flag}"' in sources["common.py"]


def _commands() -> dict[str, Any]:
    root: Any = typer.main.get_command(app)
    for name in SUBCOMMAND_GROUPS:
        root.load(name)
    found: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [("asara", root)]
    while stack:
        path, command = stack.pop()
        if hasattr(command, "commands"):
            stack.extend((f"{path} {name}", sub) for name, sub in command.commands.items())
        else:
            found[path] = command
    return found


def test_the_shared_options_keep_their_names_everywhere() -> None:
    """--seed is -s and --samples is -n wherever they appear (corpus new's --seed has no short form, as
    before); --json is a flag."""
    commands = _commands()
    assert len(commands) > 30
    for path, command in commands.items():
        for parameter in command.params:
            names = set(parameter.opts) | set(parameter.secondary_opts)
            if "--seed" in names and path != "asara corpus new":
                assert names == {"--seed", "-s"}, path
            if "--samples" in names:
                assert names == {"--samples", "-n"}, path
            if "--json" in names:
                assert names == {"--json"} and parameter.is_flag, path
