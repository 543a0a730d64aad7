"""Explain one SIE run: its r path, when r fell below 1, what stopped it, which cells it reached, and
which inputs pushed it over (or kept it under) each cell's threshold."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from asara.analysis.counterfactual import Counterfactuals, counterfactuals
from asara.errors import InputError
from asara.models.sie import Trajectory, trajectory
from asara.models.sie.metrics import required_doublings, years_compressed
from asara.models.sie.model import window_column
from asara.montecarlo.sampling import sample_inputs
from asara.scenarios.sie import SieScenario


@dataclass(frozen=True)
class CellVerdict:
    key: str
    label: str
    years: float
    months: float
    required_doublings: int
    reached_doublings: int
    success: bool
    pivotal_inputs: tuple[str, ...]
    """Inputs that, moved alone to their median, flip this cell's outcome."""


@dataclass(frozen=True)
class SampleExplanation:
    scenario: str
    sample: int | None
    seed: int | None
    path: Trajectory
    what_if: Counterfactuals
    cells: tuple[CellVerdict, ...]
    software_share: float

    @property
    def r_below_one(self) -> tuple[int, float] | None:
        """The first doubling after which r < 1, and when it completed (months); None if r stayed >= 1."""
        for i, r in enumerate(self.path.returns):
            if r < 1.0:
                return i, float(self.path.times[i])
        return None

    def to_dict(self) -> dict[str, Any]:
        below = self.r_below_one
        s = self.software_share
        return {
            "scenario": self.scenario,
            "sample": self.sample,
            "seed": self.seed,
            "inputs": self.what_if.inputs,
            "doublings": len(self.path.times) - 1,
            "ceiling_doublings": self.path.ceiling_doublings,
            "end_reason": self.path.end_reason,
            "asara_months": self.path.asara_months,
            "horizon_end_months": self.path.total_months,
            "r_below_one": None if below is None else {"after_doubling": below[0], "months": below[1]},
            "times_months": self.path.times.tolist(),
            "returns_path": self.path.returns.tolist(),
            "years_compressed": {
                f"{months:g}": years_compressed(doublings, s)
                for months, doublings in self.path.max_doublings.items()
            },
            "cells": [
                {
                    "cell": cell.key,
                    "years": cell.years,
                    "months": cell.months,
                    "required_doublings": cell.required_doublings,
                    "reached_doublings": cell.reached_doublings,
                    "success": cell.success,
                    "pivotal_inputs": list(cell.pivotal_inputs),
                }
                for cell in self.cells
            ],
            "counterfactuals": [
                {
                    "input": c.input,
                    "value": c.value,
                    "median": c.median,
                    "years_compressed": _years(c.outputs, self.path.max_doublings, s),
                    "cells": {cell.key: bool(c.outputs[cell.key]) for cell in self.cells},
                }
                for c in self.what_if.moved
            ],
            "all_medians": {
                "years_compressed": _years(self.what_if.all_medians, self.path.max_doublings, s),
                "cells": {cell.key: bool(self.what_if.all_medians[cell.key]) for cell in self.cells},
            },
        }


def _years(outputs: Mapping[str, float], windows: Mapping[float, int], share: float) -> dict[str, float]:
    return {f"{m:g}": years_compressed(outputs[window_column(m)], share) for m in windows}


def sample_values(scenario: SieScenario, sample: int, seed: int) -> dict[str, float]:
    """The inputs of sample ``sample`` of a run with ``seed`` (exactly as `sie run` draws them)."""
    model = scenario.model()
    drawn = sample_inputs(
        scenario.distributions(), model.input_names, seed, sample, sample + 1, scenario.copula()
    )
    return {name: float(values[0]) for name, values in drawn.items()}


def explain_sample(
    scenario: SieScenario,
    sample: int | None = None,
    seed: int | None = None,
    values: Mapping[str, float] | None = None,
) -> SampleExplanation:
    """Explain sample ``sample`` of the run with ``seed``; ``values`` sets inputs by name (all of them
    when no sample is given, else on top of the sample's own)."""
    model = scenario.model()
    values = dict(values or {})
    unknown = sorted(set(values) - set(model.input_names))
    if unknown:
        raise InputError(
            f"unknown input {unknown[0]!r}; this scenario's inputs are {', '.join(model.input_names)}",
            field="input",
        )
    for name, value in values.items():
        if not math.isfinite(value) or value <= 0:
            raise InputError(f"must be a positive finite number (got {value})", field=f"input.{name}")
    if sample is not None:
        if sample < 0 or seed is None or seed < 0:
            raise InputError("sample and seed must be non-negative integers", field="sample")
        inputs = {**sample_values(scenario, sample, seed), **values}
    else:
        missing = [name for name in model.input_names if name not in values]
        if missing:
            raise InputError(
                f"give --sample, or a value for every input (missing: {', '.join(missing)})", field="input"
            )
        inputs = values
    what_if = counterfactuals(model, scenario.distributions(), inputs)
    options = scenario.options()
    core = [inputs[name] for name in ("speedup", "returns", "limit_years", "parallel_penalty")]
    per_sample = {name: inputs[name] for name in model.uncertain_options}
    path = trajectory(core[0], core[1], core[2], core[3], options, per_sample)
    s = options.software_share
    cells = []
    for cell in model.cells:
        success = bool(what_if.outputs[cell.key])
        pivotal = tuple(c.input for c in what_if.moved if bool(c.outputs[cell.key]) != success)
        cells.append(
            CellVerdict(
                cell.key,
                cell.label,
                cell.years,
                cell.months,
                required_doublings(cell.years, s),
                int(what_if.outputs[window_column(cell.months)]),
                success,
                pivotal,
            )
        )
    return SampleExplanation(scenario.name, sample, seed, path, what_if, tuple(cells), s)


def sample_paths(
    scenario: SieScenario, count: int, seed: int
) -> Iterator[tuple[dict[str, float], Trajectory]]:
    """The first ``count`` samples of a run seeded ``seed`` (the inputs that run draws), each with its full
    path from :func:`asara.models.sie.trajectory`, one at a time."""
    model = scenario.model()
    drawn = sample_inputs(scenario.distributions(), model.input_names, seed, 0, count, scenario.copula())
    options = scenario.options()
    extra = model.input_names[4:]
    for i in range(count):
        inputs = {name: float(drawn[name][i]) for name in model.input_names}
        path = trajectory(
            inputs["speedup"],
            inputs["returns"],
            inputs["limit_years"],
            inputs["parallel_penalty"],
            options,
            per_sample={name: inputs[name] for name in extra},
        )
        yield inputs, path
