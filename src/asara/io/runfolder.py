"""A folder of output files replaced as one unit: data files first, the manifest last, with hashes.

A run that writes several files into one folder (``samples.parquet`` + ``run.json``; a corpus and its
manifest) must never leave a mix of two runs behind, whatever moment a signal or a crash lands at:

1. every data file is written to a hidden partial file in the folder (the old files stay untouched, so
   an interrupted run loses nothing);
2. on commit, the old manifest is removed first, then each data file is renamed into place, then the
   new manifest is written (atomically) carrying the SHA-256 of each data file under ``"files"``.

So a folder either has a manifest whose hashes match its data files, or no manifest, or (after a crash
in the few microseconds between the renames) a manifest whose hashes do not match, which
:func:`verify_files` reports. Readers call :func:`verify_files` before trusting the data files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from asara.errors import InputError
from asara.io.atomic import check_writable_target, sha256_file, write_json

FILES_KEY = "files"
"""Manifest key: ``{file name: {"sha256": hex digest, "bytes": size}}`` for each data file."""


class RunFolder:
    """Partial data files for one folder, committed together with their manifest."""

    def __init__(self, directory: Path, manifest: str, field: str) -> None:
        self.directory = directory
        self.manifest = manifest
        self.field = field
        self._partials: dict[str, Path] = {}
        self.committed = False

    def partial(self, name: str) -> Path:
        """A new hidden file in the folder that becomes ``name`` on :meth:`commit`."""
        if name in self._partials or name == self.manifest or Path(name).name != name:
            raise ValueError(f"{name!r} is not a new plain file name in this folder")
        check_writable_target(self.directory / name, self.field)
        try:
            handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=self.directory)
        except OSError as error:
            raise InputError(
                f"cannot write in {self.directory}: {error.strerror or error}", self.field
            ) from None
        os.close(handle)
        self._partials[name] = Path(path)
        return Path(path)

    def commit(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Move the data files into place and write the manifest (``record`` plus their hashes) last.
        Returns the manifest as written."""
        targets = [self.directory / name for name in (*self._partials, self.manifest)]
        for target in targets:
            check_writable_target(target, self.field)
        files = {
            name: {"sha256": sha256_file(path), "bytes": path.stat().st_size}
            for name, path in self._partials.items()
        }
        manifest = {**record, FILES_KEY: files}
        mode = _new_file_mode()
        try:
            # The old manifest goes first: from here on the folder never claims that old and new
            # files belong together.
            (self.directory / self.manifest).unlink(missing_ok=True)
            for name, path in self._partials.items():
                os.chmod(path, mode)
                os.replace(path, self.directory / name)
        except OSError as error:
            raise InputError(
                f"cannot write in {self.directory}: {error.strerror or error}", self.field
            ) from None
        self._partials.clear()
        write_json(self.directory / self.manifest, manifest)
        self.committed = True
        return manifest

    def discard(self) -> None:
        for path in self._partials.values():
            path.unlink(missing_ok=True)
        self._partials.clear()


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def run_folder(directory: Path, manifest: str = "run.json", field: str = "out") -> Iterator[RunFolder]:
    """A :class:`RunFolder` for ``directory`` (created if absent). Partial files are removed if the block
    ends by any exception (an error, Ctrl-C, or the SystemExit the CLI raises on SIGTERM/SIGHUP)."""
    kind_problem = None
    try:
        if directory.is_symlink() and not directory.is_dir():
            kind_problem = "is a broken symbolic link"
        elif directory.exists() and not directory.is_dir():
            kind_problem = "exists and is not a directory"
        if kind_problem is None:
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot write {directory}: {error.strerror or error}", field) from None
    if kind_problem is not None:
        raise InputError(f"{directory} {kind_problem}", field)
    check_writable_target(directory / manifest, field)  # fail before the run, not after it
    folder = RunFolder(directory, manifest, field)
    try:
        yield folder
    finally:
        folder.discard()


def verify_files(
    directory: Path, record: Mapping[str, Any], field: str = "run_dir", allow_missing: bool = False
) -> None:
    """Check that the data files a manifest lists are the ones in ``directory`` (InputError if not).
    Manifests written before hashes were recorded (no ``"files"`` key) pass unchecked; with
    ``allow_missing``, so do files that are absent (a reader that needs only the manifest)."""
    files = record.get(FILES_KEY)
    if files is None:
        return
    if not isinstance(files, dict):
        raise InputError(f"malformed manifest: {FILES_KEY!r} is not an object", field)
    for name, entry in files.items():
        path = directory / str(name)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(expected, str):
            raise InputError(f"malformed manifest: no sha256 for {name}", field)
        if not path.is_file():
            if allow_missing and not path.is_symlink() and not path.exists():
                continue
            raise InputError(f"{path} is missing (the run that wrote this folder did not finish?)", field)
        if sha256_file(path) != expected:
            raise InputError(
                f"{path} does not match the manifest's SHA-256: it was written by another run or "
                "changed since (an interrupted run?); run again",
                field,
            )
