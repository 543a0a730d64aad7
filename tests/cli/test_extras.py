"""The numerical core works without the optional extras, and a command that needs one names it in one line.

Each check runs asara in a child process in which the optional packages cannot be imported (a
``sys.meta_path`` finder refuses them), as in an environment where only ``pip install asara`` ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from asara.extras import EXTRA_OF_MODULE

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = {blocked!r}


class RefuseOptional(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, RefuseOptional())
"""

CORE_ONLY = BLOCKER.format(blocked=sorted({*EXTRA_OF_MODULE, "pandas", "SALib"}))  # SALib: a test oracle only


def run_core_only(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-c", CORE_ONLY + code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def asara_core_only(*args: str) -> subprocess.CompletedProcess[str]:
    code = "\nsys.argv = ['asara', *sys.argv[1:]]\nfrom asara.cli.main import main\nmain()\n"
    return run_core_only(code, *args)


def test_the_blocker_really_blocks() -> None:
    result = run_core_only("import matplotlib")
    assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr


def test_library_runs_the_sie_model_without_extras() -> None:
    code = """
from asara import sie
summary = sie.run(sie.load("paper-baseline"), 3000, 1)
print(summary.cells[0].estimate.probability)
"""
    result = run_core_only(code)
    assert result.returncode == 0, result.stderr
    assert 0 <= float(result.stdout) <= 1


def test_cli_runs_and_writes_a_run_folder_without_extras(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = asara_core_only(
        "sie", "run", "paper-baseline", "-n", "3000", "--seed", "1", "--json", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "cells" in json.loads(result.stdout)
    assert (out / "samples.parquet").is_file() and (out / "run.json").is_file()
    for args in (["--help"], ["version"], ["sie", "presets"], ["sie", "--help"], ["persona", "presets"]):
        light = asara_core_only(*args)
        assert light.returncode == 0, (args, light.stderr)


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["plot", "cdf", "paper-baseline", "--out", "{tmp}/cdf.png", "-n", "1000"], "plots"),
        (["report", "paper-baseline", "--samples", "1000", "--out", "{tmp}/report.html"], "plots"),
        (["web", "--port", "65535"], "web"),
        (
            [
                "sie",
                "sweep",
                "paper-baseline",
                "--grid",
                "inputs.returns.high=3,4",
                "--dask",
                "tcp://127.0.0.1:1",
            ],
            "dask",
        ),
    ],
    ids=["plot", "report", "web", "dask"],
)
def test_a_command_without_its_extra_names_it_in_one_line(
    tmp_path: Path, args: list[str], extra: str
) -> None:
    result = asara_core_only(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'asara[{extra}]'" in lines[0], result.stderr


def test_corpus_dedupe_without_its_extra_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "asara.cli.main",
            "corpus",
            "new",
            str(folder),
            "--spec",
            "production-stories",
            "--documents",
            "20",
            "--seed",
            "1",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=300,
    )
    result = asara_core_only("corpus", "dedupe", str(folder))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "asara[corpus]" in result.stderr


def test_every_optional_module_is_in_the_extra_the_message_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    core = " ".join(project["dependencies"]).lower()
    distributions = {"SALib": "salib", "distributed": "dask[distributed]", "starlette": "fastapi"}
    for module, extra in EXTRA_OF_MODULE.items():
        requirement = distributions.get(module, module).lower()
        assert any(item.lower().startswith(requirement) for item in extras[extra]), (module, extra)
        assert requirement.split("[")[0] not in core, f"{module} is optional but a core dependency"
    assert extras["all"] == [f"asara[{','.join(name for name in extras if name not in ('dev', 'all'))}]"]
