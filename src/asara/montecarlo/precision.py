"""Run until every probability is known to a target standard error.

The run grows through checkpoints. Each checkpoint is a whole number of sample blocks and is computed
only from the samples before it, so the same seed stops at the same sample count whatever the chunk
size, the executor or the number of workers. Samples are only ever added, never dropped or redrawn.

The stopping test uses a deliberately cautious standard error, computed from ``(x + 2) / (n + 4)``
instead of ``x / n``: it is never smaller than the binomial standard error that is reported, and it does
not call a probability settled after a few thousand samples that happened to contain no success.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from asara.distributions import Distribution
from asara.models.base import FloatArray, Model
from asara.montecarlo.executors import Executor, SerialExecutor
from asara.montecarlo.runner import DEFAULT_CHUNK_SIZE, ChunkResult, RunSummary, chunk_tasks, run_chunk
from asara.montecarlo.sampling import BLOCK_SIZE

DEFAULT_FIRST_CHECKPOINT = 16 * BLOCK_SIZE
MAX_GROWTH = 8
"""A checkpoint is at most this many times the previous one: early estimates of rare events are rough."""


@dataclass(frozen=True)
class Stopping:
    """How a run with a target standard error ended."""

    target_se: float
    reached: bool
    checkpoints: tuple[int, ...]
    max_samples: int

    def to_dict(self) -> dict[str, object]:
        return {
            "target_se": self.target_se,
            "reached": self.reached,
            "checkpoints": list(self.checkpoints),
            "max_samples": self.max_samples,
        }


def cautious_standard_error(successes: float, samples: int) -> float:
    p = (successes + 2.0) / (samples + 4.0)
    return math.sqrt(p * (1.0 - p) / samples)


def samples_needed(successes: float, samples: int, target_se: float) -> int:
    """Sample count at which the cautious standard error at today's estimate would meet the target."""
    p = (successes + 2.0) / (samples + 4.0)
    return math.ceil(p * (1.0 - p) / target_se**2)


def next_checkpoint(summary: RunSummary, outputs: Sequence[str], target_se: float, max_samples: int) -> int:
    """The next sample count to reach, or the current one when every output meets the target."""
    done = summary.samples
    needed = max(samples_needed(summary.total(name), done, target_se) for name in outputs)
    if all(cautious_standard_error(summary.total(name), done) < target_se for name in outputs):
        return done
    # Aim a little past the estimate so that a noisy estimate rarely needs one more small step.
    aim = min(max(math.ceil(1.05 * needed), done + BLOCK_SIZE), MAX_GROWTH * done, max_samples)
    return min(math.ceil(aim / BLOCK_SIZE) * BLOCK_SIZE, max_samples)


def run_to_precision(
    model: Model,
    distributions: Mapping[str, Distribution],
    seed: int,
    target_se: float,
    *,
    outputs: Sequence[str] | None = None,
    max_samples: int,
    first_checkpoint: int = DEFAULT_FIRST_CHECKPOINT,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executor: Executor | None = None,
    keep_samples: bool = False,
    copula: FloatArray | None = None,
    on_chunk: Callable[[ChunkResult], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[RunSummary, Stopping]:
    """Draw samples until the standard error of every 0/1 output in ``outputs`` (default: all of the
    model's outputs) is below ``target_se``, or ``max_samples`` is reached."""
    if not 0.0 < target_se < 0.5:
        raise ValueError("target_se must be between 0 and 0.5")
    if max_samples <= 0:
        raise ValueError("max_samples must be positive")
    names = tuple(outputs) if outputs is not None else model.output_names
    executor = executor or SerialExecutor()
    summary = RunSummary.of(model, 0, seed)
    checkpoints: list[int] = []
    goal = min(math.ceil(first_checkpoint / BLOCK_SIZE) * BLOCK_SIZE, max_samples)
    while goal > summary.samples:
        checkpoints.append(goal)
        tasks = chunk_tasks(
            model, distributions, goal, seed, chunk_size, keep_samples, first=summary.samples, copula=copula
        )
        for chunk in executor.map(run_chunk, tasks):
            summary.add(chunk)
            summary.samples = chunk.stop
            if on_chunk is not None:
                on_chunk(chunk)
            if on_progress is not None:
                on_progress(chunk.stop, goal)
        goal = next_checkpoint(summary, names, target_se, max_samples)
    reached = all(summary.proportion(name).standard_error < target_se for name in names) and all(
        cautious_standard_error(summary.total(name), summary.samples) < target_se for name in names
    )
    return summary, Stopping(target_se, reached, tuple(checkpoints), max_samples)
