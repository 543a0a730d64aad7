"""Shared helpers for the corpus tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from asara.cli.main import app
from tests.error_line import one_error_line

runner = CliRunner()


def corpus(*args: str) -> str:
    """Run `asara corpus ARGS`, expecting success; returns stdout (warnings go to stderr)."""
    result = runner.invoke(app, ["corpus", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def corpus_json(*args: str) -> Any:
    return json.loads(corpus(*args, "--json"))


def assert_one_line_exit_2(args: list[str], fragment: str, monkeypatch: Any, capsys: Any) -> None:
    line = one_error_line(["corpus", *args], monkeypatch, capsys)
    assert fragment in line, line


def spec_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


MINIMAL_SPEC = """
name = "tiny"
[[kinds]]
name = "story"
genre = { fiction = 1 }
"""
