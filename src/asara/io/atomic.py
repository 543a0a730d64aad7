"""Atomic writes: a reader (or an interrupted run) never sees a half-written file, and nothing that is
not a regular file is ever replaced.

``atomic_path`` is the one way asara writes a file: the content goes to a hidden ``.NAME.*.partial``
file beside the target and is renamed over it only when the block finishes without error. The target
must be absent or a regular file: a symlink, FIFO, device node, socket or directory given as an output
is refused (``InputError``, exit status 2) instead of being replaced. Partial files are removed on any
exception, including ``KeyboardInterrupt`` and the ``SystemExit`` that the CLI raises on SIGTERM and
SIGHUP.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from asara.errors import InputError

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file ("a FIFO (named pipe)", ...), else None.
    Symbolic links are reported as links, never followed."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:  # a name too long, a parent that is a file, no permission to look
        raise InputError(f"cannot write {path}: {error.strerror or error}", field="out") from None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def check_writable_target(target: Path, field: str = "out") -> None:
    """Refuse (``InputError``) a target that exists and is not a regular file: it is never replaced."""
    kind = special_kind(target)
    if kind is not None:
        raise InputError(
            f"cannot write {target}: it is {kind}, and asara only replaces regular files "
            "(give a new file name)",
            field=field,
        )


@contextlib.contextmanager
def atomic_path(target: Path, field: str = "out") -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it only if the block finishes without error."""
    check_writable_target(target, field)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as error:  # a file where a folder should be, no permission, a read-only disk, ...
        reason = error.strerror or str(error)
        raise InputError(f"cannot write {target}: {reason}", field=field) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # Checked again just before the rename: the target may have become a FIFO or link meanwhile.
        check_writable_target(target, field)
        # mkstemp makes the file private (0600); give it the mode any new file would get, or keep the
        # mode of the file it replaces.
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else _new_file_mode())
        os.replace(temporary, target)
    except OSError as error:  # a full disk, a quota, a folder removed under us
        raise InputError(f"cannot write {target}: {error.strerror or error}", field=field) from None
    finally:
        temporary.unlink(missing_ok=True)


def write_json(target: Path, data: Any) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (read in 1 MiB pieces: memory stays flat)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()
