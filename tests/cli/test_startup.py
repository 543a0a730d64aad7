"""Light commands (``--help``, ``version``, ``sie presets``) load none of the heavy libraries: start-up
stays a fraction of a second (benchmarks/ measures the time; this checks the cause, deterministically)."""

from __future__ import annotations

import importlib
import json

import pytest
from typer.testing import CliRunner

from asara.cli.main import SUBCOMMAND_GROUPS, app
from tests.fresh_python import fresh_python

HEAVY = {
    "numpy", "numba", "scipy", "pyarrow", "pandas", "fastapi", "uvicorn", "plotly", "dask", "distributed",
    "matplotlib", "httpx", "datasketch", "SALib",
}  # fmt: skip


def modules_loaded_by(*args: str) -> set[str]:
    code = (
        "import atexit, json, sys\n"
        "roots = lambda: sorted({m.split('.')[0] for m in sys.modules})\n"
        "atexit.register(lambda: print(json.dumps(roots()), file=sys.stderr))\n"
        "sys.argv = ['asara', *sys.argv[1:]]\n"
        "from asara.cli.main import main\n"
        "main()\n"
    )
    result = fresh_python(code, *args)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["version"], ["sie", "presets"], ["sie", "--help"]])
def test_light_commands_load_no_heavy_library(args: list[str]) -> None:
    assert modules_loaded_by(*args) & HEAVY == set()


def test_a_real_run_still_loads_the_engine() -> None:
    # The oracle for the check above: the same probe sees the heavy libraries when a command uses them.
    assert {"numpy", "numba"} <= modules_loaded_by("sie", "run", "paper-baseline", "-n", "1000", "--json")


def test_listed_group_help_is_each_group_s_own() -> None:
    for name, (location, text) in SUBCOMMAND_GROUPS.items():
        module, attribute = location.split(":")
        assert getattr(importlib.import_module(module), attribute).info.help == text, name


def test_top_level_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    positions = [
        result.output.index(f" {name} ") for name in ("report", "web", "version", *SUBCOMMAND_GROUPS)
    ]
    assert positions == sorted(positions)


def test_default_chunk_size_is_the_runner_s() -> None:
    from asara.montecarlo import defaults, runner

    assert defaults.DEFAULT_CHUNK_SIZE == runner.DEFAULT_CHUNK_SIZE
