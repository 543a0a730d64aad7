"""The SIE model behind the generic :class:`asara.models.base.Model` interface."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from asara.models.base import Array, FloatArray, check_declarations, headline_names
from asara.models.registry import Output
from asara.models.sie.engine import (
    END_REASONS,
    INPUT_NAMES,
    PER_SAMPLE_OPTIONS,
    BatchResult,
    SieOptions,
    simulate,
)
from asara.models.sie.metrics import PUBLISHED_CELLS, Cell, successes

END_REASON_NAMES: tuple[str, ...] = tuple(END_REASONS[code] for code in range(len(END_REASONS)))
"""The ``end_reason`` category names, by code (0: horizon, 1: ceiling, 2: overflow)."""


def window_column(months: float) -> str:
    """Per-sample column name for a window, e.g. ``max_doublings_12mo``."""
    return f"max_doublings_{months:g}mo".replace(".", "_")


def window_output(months: float) -> Output:
    return Output(
        window_column(months),
        "count",
        f"most doublings inside {months:g} months",
        "doublings",
        f"The most software doublings completed inside any window shorter than {months:g} months.",
    )


def cell_output(cell: Cell) -> Output:
    return Output(
        cell.key,
        "indicator",
        cell.title,
        help=f"1 when at least {cell.years:g} years of AI progress (at the recent pace) happen inside some "
        f"window shorter than {cell.months:g} months after ASARA; its mean is the cell's probability.",
    )


@functools.lru_cache(maxsize=256)
def sie_outputs(windows_months: tuple[float, ...], cells: tuple[Cell, ...]) -> tuple[Output, ...]:
    """The SIE model's per-sample outputs, in the column order of ``samples.parquet``: the per-window
    counts, the doublings, when and why the run ended, then one success indicator per cell (a cell
    listed twice is one output)."""
    return (
        *(window_output(months) for months in windows_months),
        Output(
            "doublings",
            "count",
            "doublings before the run stopped",
            "doublings",
            "Software doublings completed before the run ended.",
        ),
        Output(
            "end_months",
            "continuous",
            "when the run ended",
            "months",
            "When the run's last doubling completed, in months on the run's clock.",
        ),
        Output(
            "end_reason",
            "category",
            "why the run ended",
            help="horizon: the horizon ran out; "
            "ceiling: the effective limit was reached; overflow: the next doubling time was beyond the "
            "float range.",
            categories=END_REASON_NAMES,
        ),
        *(cell_output(cell) for cell in dict.fromkeys(cells)),
    )


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
        check_declarations(self.outputs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return (*INPUT_NAMES, *self.uncertain_options)

    @property
    def outputs(self) -> tuple[Output, ...]:
        return sie_outputs(self.options.windows_months, self.cells)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The cells' success indicators."""
        return headline_names(self.outputs)

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
