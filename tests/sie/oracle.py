"""A slow, obviously correct per-sample loop written straight from the spec (docs/sie.md).

Kept apart from the package on purpose: it multiplies the doubling time step by step, as the spec
writes it, where the engine keeps the running sum of exponents, and it finds the largest window by
brute force over all pairs, where the engine uses an incremental rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class OracleRun:
    times: list[float]
    overflow: bool

    def max_doublings(self, window: float) -> int:
        """Largest m with times[i + m] - times[i] < window for some i (brute force)."""
        best = 0
        for i in range(len(self.times)):
            for j in range(i + 1, len(self.times)):
                if self.times[j] - self.times[i] < window:
                    best = max(best, j - i)
        return best


def ramp_speedup(shape: str, t: float, months: float, start: float, end: float) -> float:
    if t >= months:
        return end
    if shape == "linear":
        return start + (end - start) * t / months
    return start * (end / start) ** (t / months)


def oracle_run(
    f: float,
    r0: float,
    limit_years: float,
    p: float,
    *,
    software_share: float = 0.5,
    horizon_months: float = 48.0,
    recent_doubling_months: float = 3.0,
    constant_r: bool = False,
    retraining: str = "none",
    initial_doubling: str = "speedup",
    ramp: str = "none",
    ramp_months: float = 60.0,
    ramp_start_speedup: float = 0.1,
    horizon_includes_ramp: bool = False,
) -> OracleRun:
    n_ceiling = (4 / software_share) * limit_years
    k = 0.0 if constant_r else r0 / n_ceiling
    if ramp != "none":
        dt = recent_doubling_months / (1 + ramp_start_speedup)
        f_old = ramp_start_speedup
        total = horizon_months if horizon_includes_ramp else ramp_months + horizon_months
    else:
        dt = recent_doubling_months / (f if initial_doubling == "speedup" else 1 + f)
        total = horizon_months
    t, n, r = 0.0, 0, r0
    times = [0.0]
    overflow = False
    while t < total and n < n_ceiling and r > 0:
        if math.isinf(dt):
            overflow = True
            break
        t += dt
        n += 1
        r -= k
        times.append(t)
        if r > 0:
            x = p * (1 / r - 1)
            if retraining == "paper":
                x = x / (1 + abs(x))
            elif retraining == "reference":
                x = x / abs(x + 1)
            try:
                dt *= 2**x
            except OverflowError:
                dt = math.inf
        if ramp != "none":
            f_new = ramp_speedup(ramp, t, ramp_months, ramp_start_speedup, f)
            dt *= (1 + f_old) / (1 + f_new)
            f_old = f_new
    return OracleRun(times, overflow)
