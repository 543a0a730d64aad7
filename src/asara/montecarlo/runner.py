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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from asara.distributions import Distribution
from asara.models.base import FloatArray, Model, histogram_names, summed_names
from asara.montecarlo.defaults import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE  # re-exported
from asara.montecarlo.executors import Executor, SerialExecutor
from asara.montecarlo.sampling import BLOCK_SIZE, sample_inputs
from asara.montecarlo.stats import Proportion

MAX_CHUNK_SIZE = 4_194_304
"""Larger chunks are split: a chunk's arrays (inputs and outputs, a few hundred bytes per sample) stay
around a gigabyte at most whatever ``--chunk-size`` says. Results never depend on the chunking."""


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
    """(blocks, summed outputs): sum of each indicator and continuous output over each block."""
    counts: dict[str, NDArray[np.int64]]
    """Exact histogram of each count and category output."""
    samples: dict[str, NDArray[Any]] | None = None
    """Per-sample inputs and outputs, when the task asked to keep them."""
    square_sums: NDArray[np.float64] | None = None
    """(blocks, continuous outputs): sum of squares of each continuous output over each block."""


def continuous_names(model: Model) -> tuple[str, ...]:
    return tuple(o.name for o in model.outputs if o.kind == "continuous")


def block_sums(
    outputs: Mapping[str, Any], names: tuple[str, ...], samples: int, square: bool = False
) -> NDArray[np.float64]:
    """(blocks, names): the sum of each output (or of its squares) over each block of the first
    ``samples`` samples: whole blocks of ``BLOCK_SIZE``, then the rest. Each block is one row of a
    reshaped array, summed on its own (NumPy's pairwise sum of the row, as when it is summed alone)."""
    whole, rest = divmod(samples, BLOCK_SIZE)
    sums = np.empty((whole + (rest > 0), len(names)))
    # A continuous output near the float range (a run that overflowed) may sum, or square, to infinity:
    # its mean or error is then undefined and reported as such, not warned about.
    with np.errstate(over="ignore"):
        for j, name in enumerate(names):
            values = np.ascontiguousarray(outputs[name], dtype=np.float64)[:samples]
            if square:
                values = values * values
            if whole:
                sums[:whole, j] = values[: whole * BLOCK_SIZE].reshape(whole, BLOCK_SIZE).sum(axis=1)
            if rest:
                sums[whole, j] = values[whole * BLOCK_SIZE :].sum()
    return sums


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Sample, evaluate and reduce one chunk."""
    model = task.model
    inputs = sample_inputs(
        task.distributions, model.input_names, task.seed, task.start, task.stop, task.copula
    )
    outputs = model.evaluate(inputs)
    # Blocks run from the chunk's start, which chunk_tasks puts on a block edge: the edges are then
    # absolute (multiples of BLOCK_SIZE), so a block's sum never depends on the chunking.
    samples = task.stop - task.start
    declared = model.outputs
    sums = block_sums(outputs, summed_names(declared), samples)
    square_sums = block_sums(outputs, continuous_names(model), samples, square=True)
    counts = {
        name: np.bincount(np.asarray(outputs[name], dtype=np.int64)) for name in histogram_names(declared)
    }
    kept = {**inputs, **outputs} if task.keep_samples else None
    return ChunkResult(task.start, task.stop, sums, counts, kept, square_sums)


@dataclass
class RunSummary:
    """What a run keeps: exact per-output sums and integer histograms, never per-sample arrays."""

    samples: int
    seed: int
    output_names: tuple[str, ...]
    """The model's headline outputs."""
    block_sums: list[NDArray[np.float64]] = field(default_factory=list)
    counts: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    summed_names: tuple[str, ...] = ()
    """The columns of ``block_sums``: every indicator and continuous output (default: ``output_names``)."""
    continuous_names: tuple[str, ...] = ()
    """The columns of ``square_sums``."""
    square_sums: list[NDArray[np.float64]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.summed_names:
            self.summed_names = self.output_names

    @classmethod
    def of(cls, model: Model, samples: int, seed: int) -> RunSummary:
        """An empty summary of a run of ``model``, keeping every declared output."""
        return cls(
            samples,
            seed,
            model.output_names,
            summed_names=summed_names(model.outputs),
            continuous_names=continuous_names(model),
        )

    def add(self, chunk: ChunkResult) -> None:
        self.block_sums.append(chunk.block_sums)
        if chunk.square_sums is not None and self.continuous_names:
            self.square_sums.append(chunk.square_sums)
        for name, histogram in chunk.counts.items():
            self.counts[name] = _add_histograms(self.counts.get(name), histogram)

    def column(self, name: str) -> int:
        """The column of ``block_sums`` that holds the output ``name``."""
        return self.summed_names.index(name)

    def total(self, name: str) -> float:
        j = self.column(name)
        return math.fsum(float(v) for sums in self.block_sums for v in sums[:, j])

    def mean(self, name: str) -> float:
        return self.total(name) / self.samples

    def mean_and_error(self, name: str) -> tuple[float, float]:
        """For a continuous output: its mean and the mean's standard error (NaN from one sample)."""
        j = self.continuous_names.index(name)
        squares = math.fsum(float(v) for sums in self.square_sums for v in sums[:, j])
        mean = self.mean(name)
        n = self.samples
        if n < 2 or not math.isfinite(squares):
            return mean, math.nan
        variance = max(0.0, (squares - n * mean * mean) / (n - 1))
        return mean, math.sqrt(variance / n)

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
    summary = RunSummary.of(model, samples, seed)
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
