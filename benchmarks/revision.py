"""The ``src`` tree of an older git revision, for benchmarks that compare it side by side with this one."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sources_of(revision: str, folder: Path) -> Path:
    """Unpack ``revision``'s ``src`` into ``folder`` and return its path (put it first on PYTHONPATH)."""
    archive = folder / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"
