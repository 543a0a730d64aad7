"""Shared helpers for the corpus tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asara.cli.main import app, main

runner = CliRunner()


def corpus(*args: str) -> str:
    """Run `asara corpus ARGS`, expecting success; returns stdout (warnings go to stderr)."""
    result = runner.invoke(app, ["corpus", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def corpus_json(*args: str) -> Any:
    return json.loads(corpus(*args, "--json"))


def assert_one_line_exit_2(args: list[str], fragment: str, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(sys, "argv", ["asara", "corpus", *args])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    assert done.value.code == 2, (captured.out, captured.err)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("asara: error: ") and fragment in lines[0], lines[0]


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
