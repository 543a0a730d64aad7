"""The software-intelligence-explosion model of Davidson & Houlden (2025). See ``docs/sie.md``."""

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
