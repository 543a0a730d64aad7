"""The chunked Monte Carlo runner, for any model meeting :class:`asara.models.base.Model`.

A run is a sequence of chunks of whole sample blocks (see :mod:`asara.montecarlo.sampling`). Each chunk
samples its inputs, evaluates the model and reduces the outputs to per-block sums and exact integer
histograms, so memory stays flat however many samples a run has. Executors may run chunks anywhere
and in any order; the results are folded in sample order, with sums that do not depend on grouping
(``math.fsum`` of per-block sums), so the numbers are bit-identical for any chunk size or worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from asara.distributions import Distribution
from asara.models.base import FloatArray, Model
from asara.montecarlo.defaults import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE  # re-exported
from asara.montecarlo.executors import Executor, SerialExecutor
from asara.montecarlo.sampling import BLOCK_SIZE, sample_inputs
from asara.montecarlo.stats import Proportion

MAX_CHUNK_SIZE = 4_194_304
"""Larger chunks are split: a chunk's arrays (inputs and outputs, a few hundred bytes per sample) stay
around a gigabyte at most whatever ``--chunk-size`` says. Results never depend on the chunking."""


class CountingModel(Model, Protocol):
    """A model that also names non-negative integer outputs whose exact histograms a run keeps."""

    @property
    def count_names(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class ChunkTask:
    """Samples ``start`` to ``stop`` of a run (a picklable unit of work for any executor)."""

    model: Model
    distributions: Mapping[str, Distribution]
    seed: int
    start: int
    stop: int
    keep_samples: bool = False
    copula: FloatArray | None = None
    """Factor of a Gaussian copula over the inputs (None: independent inputs)."""


@dataclass
class ChunkResult:
    start: int
    stop: int
    block_sums: NDArray[np.float64]
    """(blocks, outputs): sum of each output over each block of the chunk."""
    counts: dict[str, NDArray[np.int64]]
    samples: dict[str, NDArray[Any]] | None = None
    """Per-sample inputs and outputs, when the task asked to keep them."""


def count_names(model: Model) -> tuple[str, ...]:
    names: tuple[str, ...] = getattr(model, "count_names", ())
    return names


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Sample, evaluate and reduce one chunk."""
    model = task.model
    inputs = sample_inputs(
        task.distributions, model.input_names, task.seed, task.start, task.stop, task.copula
    )
    outputs = model.evaluate(inputs)
    # Block edges are absolute (multiples of BLOCK_SIZE), so a block's sum never depends on chunking.
    edges = [*range(task.start, task.stop, BLOCK_SIZE), task.stop]
    block_sums = np.empty((len(edges) - 1, len(model.output_names)))
    for j, name in enumerate(model.output_names):
        values = np.asarray(outputs[name], dtype=np.float64)
        for b in range(len(edges) - 1):
            block_sums[b, j] = values[edges[b] - task.start : edges[b + 1] - task.start].sum()
    counts = {name: np.bincount(np.asarray(outputs[name], dtype=np.int64)) for name in count_names(model)}
    samples = {**inputs, **outputs} if task.keep_samples else None
    return ChunkResult(task.start, task.stop, block_sums, counts, samples)


@dataclass
class RunSummary:
    """What a run keeps: exact per-output sums and integer histograms, never per-sample arrays."""

    samples: int
    seed: int
    output_names: tuple[str, ...]
    block_sums: list[NDArray[np.float64]] = field(default_factory=list)
    counts: dict[str, NDArray[np.int64]] = field(default_factory=dict)

    def add(self, chunk: ChunkResult) -> None:
        self.block_sums.append(chunk.block_sums)
        for name, histogram in chunk.counts.items():
            self.counts[name] = _add_histograms(self.counts.get(name), histogram)

    def total(self, name: str) -> float:
        j = self.output_names.index(name)
        return math.fsum(float(v) for sums in self.block_sums for v in sums[:, j])

    def mean(self, name: str) -> float:
        return self.total(name) / self.samples

    def proportion(self, name: str) -> Proportion:
        """For a 0/1 output: its successes out of the run's samples."""
        return Proportion(round(self.total(name)), self.samples)


def _add_histograms(a: NDArray[np.int64] | None, b: NDArray[np.int64]) -> NDArray[np.int64]:
    if a is None:
        return b.copy()
    size = max(a.size, b.size)
    total = np.zeros(size, dtype=np.int64)
    total[: a.size] += a
    total[: b.size] += b
    return total


def chunk_tasks(
    model: Model,
    distributions: Mapping[str, Distribution],
    samples: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    keep_samples: bool = False,
    first: int = 0,
    copula: FloatArray | None = None,
) -> Iterator[ChunkTask]:
    """Tasks covering samples ``first`` to ``samples``; chunk edges are rounded to whole blocks."""
    step = max(1, math.ceil(min(chunk_size, MAX_CHUNK_SIZE) / BLOCK_SIZE)) * BLOCK_SIZE
    for start in range(first, samples, step):
        yield ChunkTask(model, distributions, seed, start, min(start + step, samples), keep_samples, copula)


def run(
    model: Model,
    distributions: Mapping[str, Distribution],
    samples: int,
    seed: int,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: Executor | None = None,
    keep_samples: bool = False,
    copula: FloatArray | None = None,
    on_chunk: Callable[[ChunkResult], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run ``samples`` samples of ``model`` with inputs drawn from ``distributions``."""
    if samples <= 0:
        raise ValueError("samples must be positive")
    missing = [name for name in model.input_names if name not in distributions]
    if missing:
        raise ValueError(f"no distribution for inputs {missing}")
    executor = executor or SerialExecutor()
    summary = RunSummary(samples, seed, model.output_names)
    tasks = chunk_tasks(model, distributions, samples, seed, chunk_size, keep_samples, copula=copula)
    done = 0
    for chunk in executor.map(run_chunk, tasks):
        summary.add(chunk)
        if on_chunk is not None:
            on_chunk(chunk)
        done += chunk.stop - chunk.start
        if on_progress is not None:
            on_progress(done, samples)
    return summary
