"""Estimates with their Monte Carlo error."""

from __future__ import annotations

import math
from dataclasses import dataclass

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """A probability estimated from ``successes`` out of ``trials`` independent samples."""

    successes: int
    trials: int

    @property
    def probability(self) -> float:
        return self.successes / self.trials if self.trials else math.nan

    @property
    def standard_error(self) -> float:
        """Binomial standard error sqrt(p (1 - p) / n)."""
        p = self.probability
        return math.sqrt(p * (1.0 - p) / self.trials) if self.trials else math.nan

    def wilson_interval(self, z: float = _Z95) -> tuple[float, float]:
        """Wilson score interval (95% by default); sound even when p is 0 or 1."""
        n = self.trials
        if n == 0:
            return (math.nan, math.nan)
        p = self.probability
        denominator = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / denominator
        return (max(0.0, centre - half), min(1.0, centre + half))
