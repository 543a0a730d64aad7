"""Optional dependency groups: the numerical core installs alone (``pip install asara``); commands that
need more name the extra to install (``pip install 'asara[web]'``) in one line instead of a traceback."""

from __future__ import annotations

import importlib

from asara.errors import InputError

EXTRA_OF_MODULE: dict[str, str] = {
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
    "plotly": "web",
    "matplotlib": "plots",
    "dask": "dask",
    "distributed": "dask",
    "httpx": "corpus",
    "datasketch": "corpus",
}
"""Top-level module -> the extra of pyproject.toml that installs it."""


class MissingExtra(InputError):
    """An optional package this command needs is not installed."""


def missing_extra_message(module: str, extra: str) -> str:
    return f"this needs the optional package {module!r}: pip install 'asara[{extra}]' (or 'asara[all]')"


def extra_for(error: ModuleNotFoundError) -> MissingExtra | None:
    """The one-line error for ``error`` when it is a missing optional package, else None (a bug)."""
    root = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(root)
    return None if extra is None else MissingExtra(missing_extra_message(root, extra))


def require(*modules: str) -> None:
    """Raise ``MissingExtra`` unless every one of ``modules`` (top-level names) can be imported."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name is not None and error.name.split(".")[0] != module:
                raise  # the package is there but broken: not a missing extra
            raise MissingExtra(missing_extra_message(module, EXTRA_OF_MODULE[module])) from None
