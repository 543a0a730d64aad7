"""How each estimate settles as samples accumulate: the running probability and its standard error at
sample counts that double, read from one run's per-block sums (no extra sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from asara.montecarlo.runner import RunSummary
from asara.montecarlo.sampling import BLOCK_SIZE
from asara.montecarlo.stats import Proportion


@dataclass(frozen=True)
class ConvergencePoint:
    samples: int
    estimate: Proportion

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "probability": self.estimate.probability,
            "standard_error": self.estimate.standard_error,
        }


def checkpoints(samples: int) -> list[int]:
    """Whole blocks doubling from one block, then the run's own size."""
    points = []
    n = BLOCK_SIZE
    while n < samples:
        points.append(n)
        n *= 2
    return [*points, samples]


def convergence(run: RunSummary, outputs: tuple[str, ...] | None = None) -> dict[str, list[ConvergencePoint]]:
    """For each 0/1 output, the estimate after the first n samples for each checkpoint n."""
    names = outputs if outputs is not None else run.output_names
    per_block = np.concatenate(run.block_sums, axis=0)
    if per_block.shape[0] * BLOCK_SIZE < run.samples:
        raise ValueError("the run's per-block sums do not cover its samples")
    # Sums of 0/1 values are whole numbers, exact in float64 far beyond any run's size.
    running = np.cumsum(per_block, axis=0)
    result: dict[str, list[ConvergencePoint]] = {}
    for name in names:
        j = run.column(name)
        points = []
        for n in checkpoints(run.samples):
            blocks = -(-n // BLOCK_SIZE)
            points.append(ConvergencePoint(n, Proportion(round(float(running[blocks - 1, j])), n)))
        result[name] = points
    return result
