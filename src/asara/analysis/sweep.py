"""Parameter sweeps of the SIE model: one full Monte Carlo per point of a grid of scenario settings.

Every point runs with the same seed, so all points see the same input samples (common random numbers):
differences between points come from the settings, not from sampling noise. The chunks of all points
form one task stream, so every worker stays busy until the whole sweep is done; each point's result is
bit-identical to ``sie.run`` of that point's scenario, whichever executor ran the chunks.

>>> from asara.analysis.sweep import run_sweep
>>> result = run_sweep("paper-baseline", ["inputs.returns.high=3,4"], samples=2048, seed=1)
>>> [point.values for point in result.points]
[(3,), (4,)]
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from asara import __version__
from asara.analysis.sie_summary import SieSummary
from asara.errors import InputError
from asara.io.atomic import atomic_path
from asara.models.base import declared
from asara.models.registry import Output
from asara.montecarlo import runner
from asara.montecarlo.executors import Executor, SerialExecutor
from asara.montecarlo.runner import ChunkTask, RunSummary
from asara.scenarios.loader import apply_overrides, parse_value, read_document, validate_document
from asara.scenarios.sie import SieScenario
from asara.sie import check_run_arguments

MAX_POINTS_UNCONFIRMED = 10_000
"""Larger grids need an explicit confirmation (``--yes``): a typo in a grid can mean days of work."""


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid key=v1,v2,...``: a dotted scenario key and the values it takes, as typed."""

    key: str
    texts: tuple[str, ...]

    @property
    def values(self) -> tuple[Any, ...]:
        """The values as ``--set`` reads them (TOML syntax: numbers, booleans, ...; else strings)."""
        return tuple(parse_value(text) for text in self.texts)


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets, braces and quotes, so TOML arrays like [12,4] stay whole."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_grid(specs: Sequence[str]) -> tuple[GridAxis, ...]:
    """``key=v1,v2,...`` specs as axes; malformed specs raise a one-line InputError."""
    if not specs:
        raise InputError("give at least one --grid key=v1,v2,...", field="grid")
    axes: list[GridAxis] = []
    for spec in specs:
        key, sep, raw = spec.partition("=")
        key = key.strip()
        if not sep or not key or any(not part.strip() for part in key.split(".")):
            raise InputError(f"expected key=v1,v2,..., got {spec!r}", field="grid")
        texts = _split_values(raw)
        if any(not text for text in texts):
            raise InputError(f"empty value in {spec!r}", field=key)
        if len(set(texts)) != len(texts):
            raise InputError(f"a value is repeated in {spec!r}", field=key)
        if any(axis.key == key for axis in axes):
            raise InputError("the key appears in more than one --grid", field=key)
        for text in texts:
            value = parse_value(text)
            if isinstance(value, float) and math.isnan(value):
                raise InputError("NaN is not a valid value", field=key)
        axes.append(GridAxis(key, tuple(texts)))
    return tuple(axes)


def grid_size(axes: Sequence[GridAxis]) -> int:
    return math.prod(len(axis.texts) for axis in axes)


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: a value for each axis (in axis order) and the scenario they make."""

    values: tuple[Any, ...]
    texts: tuple[str, ...]
    scenario: SieScenario


def build_points(
    scenario: str,
    axes: Sequence[GridAxis],
    overrides: Sequence[str] = (),
    *,
    allow_large: bool = False,
) -> tuple[SieScenario, tuple[SweepPoint, ...]]:
    """The base scenario (with ``overrides``) and every grid point's validated scenario.

    All points are built before anything runs, so a bad value fails at once, not hours into a sweep."""
    size = grid_size(axes)
    if size > MAX_POINTS_UNCONFIRMED and not allow_large:
        raise InputError(
            f"the grid has {size:,} points (more than {MAX_POINTS_UNCONFIRMED:,}); pass --yes to run it",
            field="grid",
        )
    set_keys = {override.partition("=")[0].strip() for override in overrides}
    for axis in axes:
        if axis.key in set_keys:
            raise InputError(
                "is both a --grid key and a --set key; the grid would override it", field=axis.key
            )
    # The file is read once; each point is the base document plus its settings, validated in full.
    base_document = apply_overrides(read_document("sie", scenario), overrides)
    base = validate_document(SieScenario, base_document)
    points = []
    for texts in itertools.product(*(axis.texts for axis in axes)):
        settings = [f"{axis.key}={text}" for axis, text in zip(axes, texts, strict=True)]
        try:
            point_scenario = validate_document(SieScenario, apply_overrides(base_document, settings))
        except InputError as error:
            raise InputError(
                f"{error.message} (grid point {' '.join(settings)})", field=error.field
            ) from None
        if [c.key for c in point_scenario.model().cells] != [c.key for c in base.model().cells]:
            raise InputError(
                f"every grid point must report the same cells (grid point {' '.join(settings)})",
                field="cells",
            )
        points.append(SweepPoint(tuple(parse_value(t) for t in texts), tuple(texts), point_scenario))
    return base, tuple(points)


@dataclass(frozen=True)
class SweepResult:
    """Each point's summary, in grid order (the last axis varies fastest)."""

    scenario: str
    """The base scenario as given (preset name or TOML path)."""
    base: SieScenario
    axes: tuple[GridAxis, ...]
    overrides: tuple[str, ...]
    samples: int
    seed: int
    points: tuple[SweepPoint, ...]
    summaries: tuple[SieSummary, ...]
    version: str = __version__

    def headline_outputs(self) -> tuple[Output, ...]:
        """The declared outputs the table shows, one estimate each: the model's headline outputs (for
        the SIE model, each cell's success indicator)."""
        model = self.base.model()
        return tuple(declared(model.outputs, name) for name in model.output_names)

    def estimates(self, name: str) -> list[tuple[float, float]]:
        """(estimate, standard error) of the headline output ``name`` at each point: a probability for
        an indicator, a mean for a continuous output."""
        rows = []
        for summary in self.summaries:
            found = summary.output(name)
            if found.estimate is not None:
                rows.append((found.estimate.probability, found.estimate.standard_error))
            else:
                mean, error = found.mean, found.standard_error
                rows.append((math.nan if mean is None else float(mean), math.nan if error is None else error))
        return rows

    def cell_columns(self) -> list[tuple[str, str]]:
        """(estimate column, standard-error column) for each headline output, e.g. ``p_3y_12mo``,
        ``p_3y_12mo_se``."""
        return [(output.name, f"{output.name}_se") for output in self.headline_outputs()]

    def to_table(self) -> pa.Table:
        """One row per point: a column per grid key, each headline output's estimate (each cell's
        probability) and standard error, then samples, seed and overflowed samples."""
        columns: dict[str, pa.Array] = {}
        for i, axis in enumerate(self.axes):
            values = [point.values[i] for point in self.points]
            columns[axis.key] = _column(values, [point.texts[i] for point in self.points])
        for output, (estimate, error) in zip(self.headline_outputs(), self.cell_columns(), strict=True):
            rows = self.estimates(output.name)
            columns[estimate] = pa.array([row[0] for row in rows], pa.float64())
            columns[error] = pa.array([row[1] for row in rows], pa.float64())
        columns["samples"] = pa.array([s.samples for s in self.summaries], pa.int64())
        columns["seed"] = pa.array([s.seed for s in self.summaries], pa.int64())
        columns["overflowed_samples"] = pa.array([s.overflowed_samples for s in self.summaries], pa.int64())
        return pa.table(columns)

    def metadata(self) -> dict[str, str]:
        """Parquet file metadata: enough to rerun the sweep."""
        return {
            "asara.model": "sie",
            "asara.scenario_source": self.scenario,
            "asara.scenario": json.dumps(self.base.to_document()),
            "asara.overrides": json.dumps(list(self.overrides)),
            "asara.grid": json.dumps({axis.key: list(axis.texts) for axis in self.axes}),
            "asara.samples": str(self.samples),
            "asara.seed": str(self.seed),
            "asara.version": self.version,
        }

    def write_parquet(self, target: Path) -> None:
        """Write the table with its metadata; the file appears only once complete."""
        if target.exists() and target.is_dir():
            raise InputError(f"{target} is a directory", field="out")
        table = self.to_table()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **self.metadata()})
        with atomic_path(target) as temporary:
            pq.write_table(table, temporary, compression="zstd")

    def to_dict(self) -> dict[str, Any]:
        """The JSON that ``asara sie sweep --json`` prints."""
        return {
            "model": "sie",
            "scenario": self.scenario,
            "grid": {axis.key: list(axis.values) for axis in self.axes},
            "overrides": list(self.overrides),
            "samples": self.samples,
            "seed": self.seed,
            "version": self.version,
            "points": [
                {
                    "values": {axis.key: value for axis, value in zip(self.axes, point.values, strict=True)},
                    "cells": [
                        {
                            "years": cell.cell.years,
                            "months": cell.cell.months,
                            "probability": cell.estimate.probability,
                            "standard_error": cell.estimate.standard_error,
                        }
                        for cell in summary.cells
                    ],
                    "overflowed_samples": summary.overflowed_samples,
                }
                for point, summary in zip(self.points, self.summaries, strict=True)
            ],
        }


def _column(values: Sequence[Any], texts: Sequence[str]) -> pa.Array:
    """Integers as int64, numbers as float64, booleans as bool, strings as strings; a mix of kinds (or
    arrays and tables) as the values' text as typed."""
    if all(isinstance(v, bool) for v in values):
        return pa.array(values, pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.array(values, pa.int64())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.array([float(v) for v in values], pa.float64())
    if all(isinstance(v, str) for v in values):
        return pa.array(values, pa.string())
    return pa.array(texts, pa.string())


def _tasks(points: Sequence[SweepPoint], samples: int, seed: int, chunk_size: int) -> Iterator[ChunkTask]:
    for point in points:
        scenario = point.scenario
        yield from runner.chunk_tasks(
            scenario.model(),
            scenario.distributions(),
            samples,
            seed,
            chunk_size,
            copula=scenario.copula(),
        )


def run_sweep(
    scenario: str,
    grid: Sequence[str],
    *,
    overrides: Sequence[str] = (),
    samples: int = 100_000,
    seed: int = 0,
    chunk_size: int = runner.DEFAULT_CHUNK_SIZE,
    executor: Executor | None = None,
    allow_large: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every point of ``grid`` (``key=v1,v2,...`` specs) on ``scenario`` (preset or TOML path) with
    ``overrides`` (``key=value``) applied to all points. Serial unless an executor is given."""
    check_run_arguments(samples, seed, None, chunk_size)
    axes = parse_grid(grid)
    base, points = build_points(scenario, axes, overrides, allow_large=allow_large)
    executor = executor or SerialExecutor()
    total = samples * len(points)
    summaries: list[SieSummary] = []
    current: RunSummary | None = None
    done = 0
    # Results arrive in task order: point 0's chunks, then point 1's, ... so one open summary suffices.
    for chunk in executor.map(runner.run_chunk, _tasks(points, samples, seed, chunk_size)):
        point = points[len(summaries)]
        if current is None:
            current = RunSummary.of(point.scenario.model(), samples, seed)
        current.add(chunk)
        done += chunk.stop - chunk.start
        if chunk.stop == samples:
            summaries.append(SieSummary.from_run(point.scenario, current))
            current = None
        if on_progress is not None:
            on_progress(done, total)
    return SweepResult(scenario, base, axes, tuple(overrides), samples, seed, points, tuple(summaries))
