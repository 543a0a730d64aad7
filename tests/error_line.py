"""The project's error contract, checked in one place: a bad command exits 2 with one line on stderr."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from asara.cli.main import main


def one_error_line(argv: list[str], monkeypatch: Any, capsys: Any) -> str:
    """Run ``asara ARGV``; assert it exits 2 with exactly one ``asara: error: ...`` line; return the line."""
    monkeypatch.setattr(sys, "argv", ["asara", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    assert done.value.code == 2, (captured.out, captured.err)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("asara: error: "), lines[0]
    return str(lines[0])
