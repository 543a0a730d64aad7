"""The SIE recursion: one step per software doubling, compiled once, shared by every code path.

The model (``docs/sie.md``): after ASARA the doubling time of software is multiplied, at each doubling,
by ``2 ** x`` with ``x = p * (1/r - 1)``, where the returns ``r`` fall linearly from ``r0`` to 0 over the
``N`` doublings that separate ASARA from the effective limit. We keep ``log2`` of the doubling time as a
running sum of the exponents (the closed form of the recursion), so a doubling time that leaves float
range is detected exactly and never becomes ``0 * inf``.

``_run_one`` is the single implementation of the recursion. ``simulate`` calls it for every sample
(vectorized over samples, compiled with numba; a finished sample costs nothing more), and
``trajectory`` calls it for one sample with recording buffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numba
import numpy as np
from numpy.typing import NDArray

from asara.models.base import FloatArray

INPUT_NAMES: tuple[str, ...] = ("speedup", "returns", "limit_years", "parallel_penalty")

Retraining = Literal["none", "paper", "reference"]
RampShape = Literal["none", "linear", "exponential"]
InitialDoubling = Literal["speedup", "pace"]

END_HORIZON = 0  # the horizon ran out
END_CEILING = 1  # the effective limit was reached (all N doublings done, or r reached 0)
END_OVERFLOW = 2  # the next doubling time is beyond float range: progress stopped for good
END_REASONS: dict[int, str] = {END_HORIZON: "horizon", END_CEILING: "ceiling", END_OVERFLOW: "overflow"}

_RETRAINING_CODES: dict[str, int] = {"none": 0, "paper": 1, "reference": 2}
_RAMP_CODES: dict[str, int] = {"none": 0, "linear": 1, "exponential": 2}


@dataclass(frozen=True)
class SieOptions:
    """Everything about a run that is not an uncertain input. Defaults are the paper's baseline."""

    software_share: float = 0.5
    """s: share of recent AI progress that came from software; a year of progress is 4/s doublings."""
    horizon_months: float = 48.0
    """Simulated time after ASARA (after the end of the ramp, when there is one)."""
    recent_doubling_months: float = 3.0
    """Software doubling time before ASARA."""
    constant_r: bool = False
    """Returns stay at r0 until the ceiling instead of falling linearly to 0."""
    retraining: Retraining = "none"
    """Retraining cost: 'paper' damps the exponent to x/(1+|x|); 'reference' uses x/|x+1|."""
    initial_doubling: InitialDoubling = "speedup"
    """First doubling time after ASARA: 3/f ('speedup', the paper's Monte Carlo) or 3/(1+f) ('pace')."""
    ramp: RampShape = "none"
    """Gradual boost: the speed-up ramps from ``ramp_start_speedup`` to f before ASARA."""
    ramp_months: float = 60.0
    ramp_start_speedup: float = 0.1
    horizon_includes_ramp: bool = False
    """If true (the reference code), the horizon counts from the start of the ramp, not from ASARA."""
    windows_months: tuple[float, ...] = field(default=(12.0, 4.0))
    """Window lengths T (months) for which the largest number of doublings inside the window is kept."""

    @property
    def doublings_per_year(self) -> float:
        return 4.0 / self.software_share

    @property
    def total_months(self) -> float:
        """Simulated time from the start of the run (the ramp's start, if any) to the end."""
        if self.ramp != "none" and not self.horizon_includes_ramp:
            return self.ramp_months + self.horizon_months
        return self.horizon_months


@dataclass(frozen=True)
class BatchResult:
    """Per-sample results of :func:`simulate` (arrays of one value per sample)."""

    windows_months: tuple[float, ...]
    max_doublings: NDArray[np.int64]
    """Shape (samples, windows): most doublings completed inside any window shorter than T months."""
    doublings: NDArray[np.int64]
    """Doublings completed before the run ended."""
    end_months: FloatArray
    """Time of the last completed doubling."""
    end_reason: NDArray[np.int8]
    """END_HORIZON, END_CEILING or END_OVERFLOW."""
    final_returns: FloatArray
    """r after the last completed doubling."""

    def window(self, months: float) -> NDArray[np.int64]:
        """Max doublings inside windows shorter than ``months`` (which must be one of the run's windows)."""
        return self.max_doublings[:, self.windows_months.index(months)]


@dataclass(frozen=True)
class Trajectory:
    """One run, step by step: ``times[i]`` is when doubling i completed (``times[0] = 0``)."""

    times: FloatArray
    returns: FloatArray
    """r in force after each doubling (``returns[0] = r0``)."""
    doubling_months: FloatArray
    """Length of the doubling that ended at ``times[i]`` (``doubling_months[0]`` is NaN)."""
    max_doublings: dict[float, int]
    end_reason: str
    ceiling_doublings: float
    """N: doublings between ASARA and the effective limit."""


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ramp_speedup(shape: int, t: float, ramp_months: float, start: float, end: float) -> float:
    if t >= ramp_months:
        return end
    if shape == 1:
        return start + (end - start) * (t / ramp_months)
    grown: float = start * (end / start) ** (t / ramp_months)
    return grown


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _run_one(
    speedup: float,
    r0: float,
    limit_years: float,
    penalty: float,
    software_share: float,
    total_months: float,
    recent_doubling: float,
    constant_r: bool,
    retraining: int,
    initial_pace: bool,
    ramp: int,
    ramp_months: float,
    ramp_start: float,
    windows: NDArray[np.float64],
    times: NDArray[np.float64],
    best: NDArray[np.int64],
    record: bool,
    r_path: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, float, int, float]:
    """Run one sample. Returns (times, r_path, doublings, end time, end reason, final r).

    ``times`` (and ``r_path`` when ``record``) are scratch buffers; they are grown when too short and
    the possibly new buffers are returned. ``best`` receives the max doublings per window.
    """
    n_windows = windows.shape[0]
    ceiling = (4.0 / software_share) * limit_years
    k = 0.0 if constant_r else r0 / ceiling
    if ramp != 0:
        pace = 1.0 + ramp_start
        log2_dt = math.log2(recent_doubling / pace)
    elif initial_pace:
        log2_dt = math.log2(recent_doubling / (1.0 + speedup))
    else:
        log2_dt = math.log2(recent_doubling / speedup)
    dt = math.exp2(log2_dt)
    f_old = ramp_start
    t = 0.0
    n = 0
    r = r0
    times[0] = 0.0
    if record:
        r_path[0] = r0
    for w in range(n_windows):
        best[w] = 0
    reason = 0
    while True:
        if not t < total_months:
            reason = 0
            break
        if not (n < ceiling and r > 0.0):
            reason = 1
            break
        if not dt < math.inf:
            reason = 2
            break
        t += dt
        n += 1
        r -= k
        if n >= times.shape[0]:
            grown = np.empty(2 * times.shape[0])
            grown[: times.shape[0]] = times
            times = grown
            if record:
                grown_r = np.empty(2 * r_path.shape[0])
                grown_r[: r_path.shape[0]] = r_path
                r_path = grown_r
        times[n] = t
        if record:
            r_path[n] = r
        # The longest run of doublings inside a window that ends at doubling n is at most one longer
        # than the best so far, so one comparison per window decides whether the best grows.
        for w in range(n_windows):
            if t - times[n - best[w] - 1] < windows[w]:
                best[w] += 1
        if r > 0.0:
            x = penalty * (1.0 / r - 1.0)
            if retraining == 1:
                x = x / (1.0 + abs(x))
            elif retraining == 2:
                x = x / abs(x + 1.0)
            log2_dt += x
        if ramp != 0:
            f_new = _ramp_speedup(ramp, t, ramp_months, ramp_start, speedup)
            log2_dt += math.log2((1.0 + f_old) / (1.0 + f_new))
            f_old = f_new
        dt = math.exp2(log2_dt)
    return times, r_path, n, t, reason, r


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _simulate_batch(
    speedup: NDArray[np.float64],
    r0: NDArray[np.float64],
    limit_years: NDArray[np.float64],
    penalty: NDArray[np.float64],
    software_share: float,
    total_months: float,
    recent_doubling: float,
    constant_r: bool,
    retraining: int,
    initial_pace: bool,
    ramp: int,
    ramp_months: float,
    ramp_start: float,
    windows: NDArray[np.float64],
    out_best: NDArray[np.int64],
    out_doublings: NDArray[np.int64],
    out_end: NDArray[np.float64],
    out_reason: NDArray[np.int8],
    out_r: NDArray[np.float64],
) -> None:
    times = np.empty(256)
    r_path = np.empty(1)
    best = np.zeros(windows.shape[0], dtype=np.int64)
    for s in range(speedup.shape[0]):
        times, r_path, n, t, reason, r = _run_one(
            speedup[s],
            r0[s],
            limit_years[s],
            penalty[s],
            software_share,
            total_months,
            recent_doubling,
            constant_r,
            retraining,
            initial_pace,
            ramp,
            ramp_months,
            ramp_start,
            windows,
            times,
            best,
            False,
            r_path,
        )
        out_best[s, :] = best
        out_doublings[s] = n
        out_end[s] = t
        out_reason[s] = reason
        out_r[s] = r


def _as_inputs(*values: FloatArray | float) -> list[NDArray[np.float64]]:
    """Equally long contiguous 1-D float arrays; scalars are broadcast."""
    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in values))
    if arrays[0].ndim != 1:
        raise ValueError("inputs must be scalars or 1-D arrays")
    return [np.ascontiguousarray(a) for a in arrays]


def _check_options(options: SieOptions) -> None:
    if not 0.0 < options.software_share <= 1.0:
        raise ValueError(f"software_share must be in (0, 1], got {options.software_share}")
    if not options.windows_months or min(options.windows_months) <= 0:
        raise ValueError("windows_months must be non-empty and positive")


def simulate(
    speedup: FloatArray,
    returns: FloatArray,
    limit_years: FloatArray,
    parallel_penalty: FloatArray,
    options: SieOptions | None = None,
) -> BatchResult:
    """Run the model for every sample; the four inputs are equally long 1-D arrays (or scalars)."""
    options = options or SieOptions()
    _check_options(options)
    try:
        arrays = _as_inputs(speedup, returns, limit_years, parallel_penalty)
    except ValueError as error:
        raise ValueError(f"inputs must be equally long 1-D arrays or scalars ({error})") from None
    size = arrays[0].size
    windows = np.asarray(options.windows_months, dtype=np.float64)
    best = np.zeros((size, windows.size), dtype=np.int64)
    doublings = np.zeros(size, dtype=np.int64)
    end = np.zeros(size)
    reason = np.zeros(size, dtype=np.int8)
    final_r = np.zeros(size)
    _simulate_batch(
        arrays[0],
        arrays[1],
        arrays[2],
        arrays[3],
        options.software_share,
        options.total_months,
        options.recent_doubling_months,
        options.constant_r,
        _RETRAINING_CODES[options.retraining],
        options.initial_doubling == "pace",
        _RAMP_CODES[options.ramp],
        options.ramp_months,
        options.ramp_start_speedup,
        windows,
        best,
        doublings,
        end,
        reason,
        final_r,
    )
    return BatchResult(options.windows_months, best, doublings, end, reason, final_r)


def trajectory(
    speedup: float,
    returns: float,
    limit_years: float,
    parallel_penalty: float,
    options: SieOptions | None = None,
) -> Trajectory:
    """One run with its full path: doubling times, r after each doubling, and why it stopped."""
    options = options or SieOptions()
    _check_options(options)
    windows = np.asarray(options.windows_months, dtype=np.float64)
    best = np.zeros(windows.size, dtype=np.int64)
    times, r_path, n, _, reason, _ = _run_one(
        float(speedup),
        float(returns),
        float(limit_years),
        float(parallel_penalty),
        options.software_share,
        options.total_months,
        options.recent_doubling_months,
        options.constant_r,
        _RETRAINING_CODES[options.retraining],
        options.initial_doubling == "pace",
        _RAMP_CODES[options.ramp],
        options.ramp_months,
        options.ramp_start_speedup,
        windows,
        np.empty(256),
        best,
        True,
        np.empty(256),
    )
    times = times[: n + 1].copy()
    doubling_months = np.concatenate(([math.nan], np.diff(times)))
    return Trajectory(
        times=times,
        returns=r_path[: n + 1].copy(),
        doubling_months=doubling_months,
        max_doublings={w: int(b) for w, b in zip(options.windows_months, best, strict=True)},
        end_reason=END_REASONS[reason],
        ceiling_doublings=options.doublings_per_year * float(limit_years),
    )
