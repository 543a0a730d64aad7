"""Where numba may keep its compiled kernels: a read-only install must still run, without a traceback.

numba caches compiled functions (``cache=True``) beside their source, else in ``~/.cache/numba``; when
neither is writable (a read-only install used by an account without a writable home) it raises at
import. :func:`prepare_numba_cache` runs before numba is imported and, only in that case, points
``NUMBA_CACHE_DIR`` at a private folder in the temporary directory. :func:`njit` is numba's decorator
that falls back to no caching at all if even that fails: the kernels then compile on every start.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

FunctionT = TypeVar("FunctionT", bound=Callable[..., Any])
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _user_wide() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "numba"


def prepare_numba_cache() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a writable private folder when numba would find no writable cache
    location; returns the folder it chose (None: numba's own choice works, nothing changed)."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen and _writable(Path(chosen)):
        return None
    # numba caches beside each kernel's source: every model package must have a writable __pycache__.
    models = _SOURCE_ROOT / "models"
    in_tree = [p.parent / "__pycache__" for p in models.glob("*/__init__.py")]
    if not chosen and (all(_writable(folder) for folder in in_tree) or _writable(_user_wide())):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else 0
    fallback = Path(tempfile.gettempdir()) / f"asara-numba-cache-{uid}"
    if _writable(fallback) and fallback.stat().st_uid == uid:
        os.environ["NUMBA_CACHE_DIR"] = str(fallback)
        _reload_numba_config()
        return str(fallback)
    return None


def _reload_numba_config() -> None:
    import sys

    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: make it read the variable again
        config.reload_config()


def njit(**options: Any) -> Callable[[FunctionT], FunctionT]:
    """``numba.njit(cache=True, **options)``, or without the cache when numba finds nowhere to put it."""
    import numba

    def decorate(function: FunctionT) -> FunctionT:
        try:
            compiled: FunctionT = numba.njit(cache=True, **options)(function)
        except RuntimeError as error:
            if "cannot cache" not in str(error):
                raise
            compiled = numba.njit(cache=False, **options)(function)
        return compiled

    return decorate
