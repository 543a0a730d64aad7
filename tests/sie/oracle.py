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


def ramp_speedup(shape: str, t: float, months: float, start: float, end: float, lead: float = 0.0) -> float:
    if shape == "step":
        return start if t < lead else end
    if t >= months:
        return end
    if shape == "linear":
        return start + (end - start) * t / months
    u = t / months
    if shape == "logistic":
        logistic = lambda v: 1 / (1 + math.exp(-10 * (v - 0.5)))  # noqa: E731
        u = (logistic(u) - logistic(0)) / (logistic(1) - logistic(0))
    return start * (end / start) ** u


def log2_research(labour: float, compute: float, share: float, sigma: float) -> float:
    """log2 of R = [a L^rho + (1 - a) C^rho]^(1/rho), normalized to 1 at ASARA (Cobb-Douglas at sigma 1)."""
    if sigma == 1:
        return share * labour + (1 - share) * compute
    rho = (sigma - 1) / sigma

    def power(v: float) -> float:  # IEEE semantics: past float range is inf, not an exception
        return 2**v if v < 1024 else math.inf

    return math.log2(share * power(rho * labour) + (1 - share) * power(rho * compute)) / rho


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
    ramp_lead_months: float | None = None,
    retraining_fraction: float = 1.0,
    training_months: float = 3.0,
    compute_growth_per_year: float = 1.0,
    compute_growth_halving_years: float = math.inf,
    labour_share: float = 0.5,
    compute_labour_exponent: float = 0.0,
    substitution_elasticity: float = 1.0,
    data_share: float = 0.0,
    data_returns: float = 1.0,
    data_stock_years: float = math.inf,
) -> OracleRun:
    """The spec's loop. The extensions (docs/extensions.md) enter as: compute growing after ASARA at
    ln(growth)/12 per month, decaying with the halving time; a CES research input of labour
    (software x compute^(1+gamma)) and compute; a retraining damping 1 + phi * training / 3; and, with a
    data share d, algorithms and data progressing at their own paces, software being their composite."""
    n_ceiling = (4 / software_share) * limit_years
    k = 0.0 if constant_r else r0 / n_ceiling
    lead = 0.0
    if ramp != "none":
        lead = ramp_months if ramp_lead_months is None else ramp_lead_months
        dt = recent_doubling_months / (1 + ramp_start_speedup)
        f_old = ramp_start_speedup
        total = horizon_months if horizon_includes_ramp else lead + horizon_months
    else:
        dt = recent_doubling_months / (f if initial_doubling == "speedup" else 1 + f)
        total = horizon_months
    t, n, r = 0.0, 0, r0
    times = [0.0]
    overflow = False
    compute = 0.0
    rate = math.log(compute_growth_per_year) / 12
    decay = (
        0.0 if math.isinf(compute_growth_halving_years) else math.log(2) / (12 * compute_growth_halving_years)
    )
    pace_algorithms = pace_data = 1 / dt  # doublings per month, used with a data share
    data_done = 0.0
    data_ceiling = (4 / software_share) * data_stock_years
    r_data = data_returns
    while t < total and n < n_ceiling and r > 0:
        if math.isinf(dt):
            overflow = True
            break
        t_before = t
        t += dt
        n += 1
        r -= k
        times.append(t)
        # compute doublings during this doubling (compute grows only after ASARA)
        a, b = max(t_before, lead) - lead, max(t, lead) - lead
        if rate == 0 or b <= a:
            step_compute = 0.0
        elif decay == 0:
            step_compute = rate * (b - a) / math.log(2)
        else:
            step_compute = rate / decay * (math.exp(-decay * a) - math.exp(-decay * b)) / math.log(2)
        algorithm_doublings = pace_algorithms * dt if data_share else 1.0
        data_step = pace_data * dt if (data_share and r_data > 0) else 0.0
        if r > 0:
            extended = compute_growth_per_year != 1 or substitution_elasticity != 1 or data_share != 0
            if not extended:
                x = p * (1 / r - 1)
            else:
                research = log2_research(
                    n + (1 + compute_labour_exponent) * (compute + step_compute),
                    compute + step_compute,
                    labour_share,
                    substitution_elasticity,
                ) - log2_research(
                    n - 1 + (1 + compute_labour_exponent) * compute,
                    compute,
                    labour_share,
                    substitution_elasticity,
                )
                x = p / r * algorithm_doublings - p / labour_share * research
            if retraining == "paper":
                x = x / (1 + retraining_fraction * training_months / recent_doubling_months * abs(x))
            elif retraining == "reference":
                x = x / abs(x + 1)
            if data_share:
                pace_algorithms *= 2**-x if -x < 1024 else math.inf
            else:
                try:
                    dt *= 2**x
                except OverflowError:
                    dt = math.inf
        compute += step_compute
        if data_share and r_data > 0:
            data_done += data_step
            r_data = data_returns - (data_returns / data_ceiling) * data_done
            if r_data > 0:
                change = p - p / r_data * data_step
                pace_data *= 2**change if change < 1024 else math.inf
        if ramp != "none":
            f_new = ramp_speedup(ramp, t, ramp_months, ramp_start_speedup, f, lead)
            dt *= (1 + f_old) / (1 + f_new)
            pace_algorithms *= (1 + f_new) / (1 + f_old)
            pace_data *= (1 + f_new) / (1 + f_old)
            f_old = f_new
        if data_share:
            pace = (1 - data_share) * pace_algorithms + (data_share * pace_data if r_data > 0 else 0.0)
            dt = 1 / pace if pace > 0 else math.inf
    return OracleRun(times, overflow)
