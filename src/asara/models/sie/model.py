"""The SIE model behind the generic :class:`asara.models.base.Model` interface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from asara.models.base import Array, FloatArray
from asara.models.sie.engine import INPUT_NAMES, PER_SAMPLE_OPTIONS, BatchResult, SieOptions, simulate
from asara.models.sie.metrics import PUBLISHED_CELLS, Cell, successes


def window_column(months: float) -> str:
    """Per-sample column name for a window, e.g. ``max_doublings_12mo``."""
    return f"max_doublings_{months:g}mo".replace(".", "_")


@dataclass(frozen=True)
class SieModel:
    """Inputs: speed-up, returns, distance to the limit, parallel penalty. Outputs: one success
    indicator per cell (its mean is the cell's probability), plus integer per-sample diagnostics."""

    options: SieOptions = field(default_factory=SieOptions)
    cells: tuple[Cell, ...] = PUBLISHED_CELLS
    uncertain_options: tuple[str, ...] = ()
    """Extension parameters (``PER_SAMPLE_OPTIONS`` names) that are inputs of their own."""

    def __post_init__(self) -> None:
        missing = {cell.months for cell in self.cells} - set(self.options.windows_months)
        if missing:
            raise ValueError(f"cells need windows {sorted(missing)} that the options do not keep")
        unknown = set(self.uncertain_options) - set(PER_SAMPLE_OPTIONS)
        if unknown:
            raise ValueError(f"options {sorted(unknown)} cannot vary per sample")

    @property
    def input_names(self) -> tuple[str, ...]:
        return (*INPUT_NAMES, *self.uncertain_options)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(cell.key for cell in self.cells)

    @property
    def count_names(self) -> tuple[str, ...]:
        """Non-negative integer outputs whose exact histograms the runner keeps."""
        return (*(window_column(m) for m in self.options.windows_months), "doublings", "end_reason")

    def run(self, inputs: Mapping[str, FloatArray]) -> BatchResult:
        speedup, returns, limit_years, penalty = (inputs[name] for name in INPUT_NAMES)
        per_sample = {name: inputs[name] for name in self.uncertain_options}
        return simulate(speedup, returns, limit_years, penalty, options=self.options, per_sample=per_sample)

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        result = self.run(inputs)
        outputs: dict[str, Array] = {}
        for cell in self.cells:
            hit = successes(result.window(cell.months), cell.years, self.options.software_share)
            outputs[cell.key] = hit.astype(np.float64)
        for months in self.options.windows_months:
            outputs[window_column(months)] = result.window(months)
        outputs["doublings"] = result.doublings
        outputs["end_reason"] = result.end_reason
        outputs["end_months"] = result.end_months
        return outputs
