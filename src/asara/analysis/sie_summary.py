"""The SIE run summary: each cell's probability with its error, end reasons, and the CDF of years
of progress compressed into each window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from asara import __version__
from asara.analysis.outputs import OutputSummary, summarize_outputs
from asara.models.sie import Cell, required_doublings
from asara.models.sie.metrics import years_compressed
from asara.models.sie.model import window_column
from asara.montecarlo.precision import Stopping
from asara.montecarlo.runner import RunSummary
from asara.montecarlo.stats import Proportion
from asara.scenarios.sie import SieScenario


@dataclass(frozen=True)
class CellResult:
    cell: Cell
    required_doublings: int
    estimate: Proportion

    def to_dict(self) -> dict[str, Any]:
        low, high = self.estimate.wilson_interval()
        return {
            "years": self.cell.years,
            "months": self.cell.months,
            "required_doublings": self.required_doublings,
            "probability": self.estimate.probability,
            "standard_error": self.estimate.standard_error,
            "wilson_95": [low, high],
            "successes": self.estimate.successes,
        }


@dataclass(frozen=True)
class CompressionPoint:
    """P(at least ``years`` of progress inside some window shorter than the window length)."""

    doublings: int
    years: float
    estimate: Proportion


@dataclass(frozen=True)
class SieSummary:
    scenario: SieScenario
    seed: int
    samples: int
    cells: tuple[CellResult, ...]
    end_reasons: dict[str, int]
    compression: dict[float, tuple[CompressionPoint, ...]]
    """For each window (months): the survival curve of years compressed into it."""
    version: str = __version__
    stopping: Stopping | None = None
    """How the run stopped, when it ran to a target standard error."""
    outputs: tuple[OutputSummary, ...] = ()
    """Every output the model declares, summarized by its kind."""

    def output(self, name: str) -> OutputSummary:
        """The summary of the declared output ``name``."""
        for output in self.outputs:
            if output.output.name == name:
                return output
        raise KeyError(f"no output {name!r} in this summary")

    @property
    def overflowed_samples(self) -> int:
        return self.end_reasons.get("overflow", 0)

    @classmethod
    def from_run(cls, scenario: SieScenario, run: RunSummary, stopping: Stopping | None = None) -> SieSummary:
        options = scenario.options()
        s = options.software_share
        model = scenario.model()
        cells = tuple(
            CellResult(cell, required_doublings(cell.years, s), run.proportion(cell.key))
            for cell in model.cells
        )
        outputs = summarize_outputs(model.outputs, run)
        end_reasons = next(o for o in outputs if o.output.name == "end_reason").category_counts()
        compression: dict[float, tuple[CompressionPoint, ...]] = {}
        for months in options.windows_months:
            histogram = run.counts[window_column(months)]
            # survival[m] = samples whose max doublings in the window is at least m
            survival = np.cumsum(histogram[::-1])[::-1]
            doublings = np.arange(1, survival.size)
            years = years_compressed(doublings, s)
            compression[months] = tuple(
                CompressionPoint(int(m), float(y), Proportion(int(survival[m]), run.samples))
                for m, y in zip(doublings, years, strict=True)
            )
        return cls(
            scenario,
            run.seed,
            run.samples,
            cells,
            end_reasons,
            compression,
            stopping=stopping,
            outputs=outputs,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON that ``asara sie run --json`` prints."""
        record: dict[str, Any] = {
            "model": "sie",
            "scenario": self.scenario.name,
            "seed": self.seed,
            "samples": self.samples,
            "version": self.version,
            "cells": [cell.to_dict() for cell in self.cells],
            "overflowed_samples": self.overflowed_samples,
            "end_reasons": self.end_reasons,
            "years_compressed": {
                f"{months:g}": [
                    {
                        "years": point.years,
                        "doublings": point.doublings,
                        "probability": point.estimate.probability,
                        "standard_error": point.estimate.standard_error,
                    }
                    for point in points
                ]
                for months, points in self.compression.items()
            },
        }
        if self.stopping is not None:
            record["stopping"] = self.stopping.to_dict()
        record["outputs"] = [output.to_dict() for output in self.outputs]
        return record
