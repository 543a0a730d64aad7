"""The SIE model in unusual environments: no JIT, no writable numba cache; and unbounded settings refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asara import sie
from asara.errors import InputError
from asara.scenarios.loader import list_presets

SRC = Path(sie.__file__).resolve().parent.parent

_PURE_PYTHON_RUNS = """
import json, sys
from asara import sie
from asara.scenarios.loader import list_presets
out = {}
for preset in list_presets("sie"):
    out[preset.name] = sie.run(preset.name, samples=int(sys.argv[1]), seed=5, workers=1).to_dict()
# Seed 0's first 3,000 samples include one whose doubling time leaves float range.
out["overflowing"] = sie.run("paper-baseline", samples=3000, seed=0, workers=1).to_dict()
print(json.dumps(out))
"""


def test_numba_disable_jit_gives_the_same_numbers_and_overflow_counts() -> None:
    samples = 300
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", _PURE_PYTHON_RUNS, str(samples)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    pure = json.loads(done.stdout)
    overflowed = 0
    for preset in list_presets("sie"):
        compiled = sie.run(preset.name, samples=samples, seed=5, workers=1).to_dict()
        assert pure[preset.name] == json.loads(json.dumps(compiled)), preset.name
        overflowed += compiled["overflowed_samples"]
    compiled = sie.run("paper-baseline", samples=3000, seed=0, workers=1).to_dict()
    assert pure["overflowing"] == json.loads(json.dumps(compiled))
    overflowed += compiled["overflowed_samples"]
    assert overflowed > 0  # the comparison covered samples whose doubling time leaves float range


def _read_only_copy(tmp_path: Path) -> Path:
    """A copy of the package where numba can cache nothing beside the sources."""
    root = tmp_path / "site"
    shutil.copytree(SRC / "asara", root / "asara", ignore=shutil.ignore_patterns("__pycache__"))
    for package in (root / "asara" / "models").glob("*/__init__.py"):
        (package.parent / "__pycache__").write_text("a file where numba wants a folder", encoding="utf-8")
    return root


def test_no_writable_numba_cache_still_runs_without_a_traceback(tmp_path: Path) -> None:
    """Nowhere to cache at all (sources, home and temporary folder unwritable): compiled every time."""
    temporary = "unwritable"
    root = _read_only_copy(tmp_path)
    home = tmp_path / "home-is-a-file"
    home.write_text("", encoding="utf-8")
    tmp = tmp_path / "tmp"
    if temporary == "writable":
        tmp.mkdir()
    else:
        tmp.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    for command in (["version"], ["sie", "run", "paper-baseline", "-n", "2000", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "asara.cli.main", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout)["samples"] == 2000
    if temporary == "writable":
        assert any(tmp.glob("asara-numba-cache-*/*"))  # the fallback cache was used


@pytest.mark.parametrize(
    "override",
    [
        "software_share=1e-6",
        "software_share=1e-300",
        'inputs.limit_years={kind="fixed",value=1e308}',
        'inputs.limit_years={kind="uniform",low=1,high=1e6}',
        "cells=[{years=1e308,months=12}]",
    ],
)
def test_unbounded_settings_are_refused_with_the_limit(override: str) -> None:
    with pytest.raises(InputError) as caught:
        sie.load("paper-baseline", [override])
    assert "10,000" in str(caught.value) or "at most" in str(caught.value)


def test_the_kernel_caps_a_run_whose_limit_is_infinite() -> None:
    from asara.models.sie import SieOptions, simulate
    from asara.models.sie.engine import MAX_CEILING_DOUBLINGS

    result = simulate(8.0, 1.5, float("inf"), 0.3, SieOptions(constant_r=True, horizon_months=1e300))
    assert result.doublings[0] == MAX_CEILING_DOUBLINGS


def test_the_cache_falls_back_to_a_private_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asara.io import numba_cache

    root = _read_only_copy(tmp_path) / "asara"
    home = tmp_path / "home-is-a-file"
    home.write_text("", encoding="utf-8")
    monkeypatch.setattr(numba_cache, "_SOURCE_ROOT", root)
    monkeypatch.setattr(numba_cache, "_reload_numba_config", lambda: None)
    monkeypatch.setattr(numba_cache.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    chosen = numba_cache.prepare_numba_cache()
    assert chosen is not None and Path(chosen).parent == tmp_path and Path(chosen).is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == chosen
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_cache.prepare_numba_cache() is None  # a writable folder the user chose is kept
