"""The software-intelligence-explosion model of Davidson & Houlden (2025). See ``docs/sie.md``.

The engine compiles with numba (about a second): it loads only when one of its names is asked for, so
that reading the declarations (:mod:`asara.models.sie.parameters`), e.g. for ``--help``, does not pay
for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asara.models.sie.engine import (
        END_CEILING,
        END_HORIZON,
        END_OVERFLOW,
        END_REASONS,
        INPUT_NAMES,
        BatchResult,
        RampShape,
        Retraining,
        SieOptions,
        Trajectory,
        simulate,
        trajectory,
    )
    from asara.models.sie.metrics import PUBLISHED_CELLS, Cell, required_doublings
    from asara.models.sie.model import SieModel

_HOMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "END_CEILING",
            "END_HORIZON",
            "END_OVERFLOW",
            "END_REASONS",
            "INPUT_NAMES",
            "BatchResult",
            "RampShape",
            "Retraining",
            "SieOptions",
            "Trajectory",
            "simulate",
            "trajectory",
        ),
        "engine",
    ),
    **dict.fromkeys(("PUBLISHED_CELLS", "Cell", "required_doublings"), "metrics"),
    "SieModel": "model",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "END_CEILING",
    "END_HORIZON",
    "END_OVERFLOW",
    "END_REASONS",
    "INPUT_NAMES",
    "PUBLISHED_CELLS",
    "BatchResult",
    "Cell",
    "RampShape",
    "Retraining",
    "SieModel",
    "SieOptions",
    "Trajectory",
    "required_doublings",
    "simulate",
    "trajectory",
]
