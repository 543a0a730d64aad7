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

import hashlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from asara.io.numba_cache import njit, prepare_numba_cache
from asara.models.base import FloatArray
from asara.models.sie.metrics import doublings_per_year
from asara.models.sie.parameters import (
    COLUMNS,
    CORE_INPUTS,
    OPTION_INPUTS,
    PARAMETERS_BY_INPUT,
    PARAMETERS_BY_KEY,
)

prepare_numba_cache()

INPUT_NAMES: tuple[str, ...] = CORE_INPUTS
"""The paper's four uncertain inputs, in parameter-column order."""

Retraining = Literal["none", "paper", "reference"]
RampShape = Literal["none", "step", "linear", "exponential", "logistic"]
InitialDoubling = Literal["speedup", "pace"]

END_HORIZON = 0  # the horizon ran out
END_CEILING = 1  # the effective limit was reached (all N doublings done, or r reached 0)
END_OVERFLOW = 2  # the next doubling time is beyond float range: progress stopped for good
END_REASONS: dict[int, str] = {END_HORIZON: "horizon", END_CEILING: "ceiling", END_OVERFLOW: "overflow"}

RETRAIN_NONE, RETRAIN_PAPER, RETRAIN_REFERENCE = 0, 1, 2
_RETRAINING_CODES: dict[str, int] = {
    "none": RETRAIN_NONE,
    "paper": RETRAIN_PAPER,
    "reference": RETRAIN_REFERENCE,
}
RAMP_NONE, RAMP_LINEAR, RAMP_EXPONENTIAL, RAMP_LOGISTIC, RAMP_STEP = 0, 1, 2, 3, 4
_RAMP_CODES: dict[str, int] = {
    "none": RAMP_NONE,
    "linear": RAMP_LINEAR,
    "exponential": RAMP_EXPONENTIAL,
    "logistic": RAMP_LOGISTIC,
    "step": RAMP_STEP,
}

# Columns of the per-sample parameter matrix the kernel reads, from the declarations
# (``parameters.COLUMNS``): the paper's four inputs, then every extension parameter, each either fixed by
# the options or sampled per sample. numba compiles these module globals into the kernel as constants.
P_SPEEDUP = COLUMNS["speedup"]
P_RETURNS = COLUMNS["returns"]
P_LIMIT = COLUMNS["limit_years"]
P_PENALTY = COLUMNS["parallel_penalty"]
P_RAMP_MONTHS = COLUMNS["ramp_months"]
P_RAMP_LEAD = COLUMNS["ramp_lead_months"]
P_RAMP_START = COLUMNS["ramp_start_speedup"]
P_COMPUTE_GROWTH = COLUMNS["compute_growth_per_year"]
P_COMPUTE_HALVING = COLUMNS["compute_growth_halving_years"]
P_LABOUR_SHARE = COLUMNS["labour_share"]
P_COMPUTE_LABOUR = COLUMNS["compute_labour_exponent"]
P_ELASTICITY = COLUMNS["substitution_elasticity"]
P_RETRAIN_FRACTION = COLUMNS["retraining_fraction"]
P_TRAINING_MONTHS = COLUMNS["training_months"]
P_DATA_SHARE = COLUMNS["data_share"]
P_DATA_RETURNS = COLUMNS["data_returns"]
P_DATA_STOCK = COLUMNS["data_stock_years"]
N_PARAMETERS = len(COLUMNS)

PER_SAMPLE_OPTIONS: dict[str, int] = {name: COLUMNS[name] for name in OPTION_INPUTS}
"""Numeric options that may also be uncertain: per-sample arrays passed to :func:`simulate` override them."""

COLUMN_LAYOUT = int.from_bytes(hashlib.sha256(repr(sorted(COLUMNS.items())).encode()).digest()[:7], "big")
"""A fingerprint of the column numbers, compiled into the kernels with them (``_refresh_stale_kernels``)."""

# Integer flags and float settings shared by all samples of a batch.
F_CONSTANT_R, F_RETRAINING, F_INITIAL_PACE, F_RAMP, F_HORIZON_INCLUDES_RAMP = 0, 1, 2, 3, 4
N_FLAGS = 5
S_SHARE, S_HORIZON, S_RECENT = 0, 1, 2
N_SETTINGS = 3


def _neutral(key: str) -> Any:
    return PARAMETERS_BY_KEY[key].neutral


OPTION_DEFAULTS: dict[str, float | None] = {name: PARAMETERS_BY_INPUT[name].neutral for name in OPTION_INPUTS}
"""Each extension setting that may be uncertain (``PER_SAMPLE_OPTIONS``), at its declared neutral value."""
_OPTION_INDEX: dict[str, int] = {name: index for index, name in enumerate(OPTION_INPUTS)}


@dataclass(frozen=True, init=False)
class SieOptions:
    """Everything about a run that is not one of the four uncertain inputs. Defaults are the paper's
    baseline; every extension's default is its neutral setting, under which results are bit-identical
    to the paper model (the kernel skips the extension's code entirely). What each setting means is
    declared in :mod:`asara.models.sie.parameters`.

    The paper's settings and the switches are fields; the extension settings that may be uncertain
    (``OPTION_INPUTS``: ``ramp_months``, ..., ``data_stock_years``) are not written out one by one: they
    are keyword arguments and attributes all the same (``SieOptions(ramp="linear", ramp_months=24.0)``,
    ``options.ramp_months``), held in ``option_values`` in declaration order, so that a new declared
    setting needs no new field here."""

    software_share: float
    """s: share of recent AI progress that came from software; a year of progress is 4/s doublings."""
    horizon_months: float
    recent_doubling_months: float
    constant_r: bool
    retraining: Retraining
    initial_doubling: InitialDoubling
    ramp: RampShape
    """The ramp's shape (the scenario's ``ramp.shape``)."""
    horizon_includes_ramp: bool
    windows_months: tuple[float, ...]
    """Window lengths T (months) for which the largest number of doublings inside the window is kept."""
    option_values: tuple[float | None, ...]
    """The ``OPTION_INPUTS`` settings' values, in that order (read them by name instead)."""

    def __init__(
        self,
        *,
        software_share: float = _neutral("software_share"),
        horizon_months: float = _neutral("horizon_months"),
        recent_doubling_months: float = _neutral("recent_doubling_months"),
        constant_r: bool = _neutral("constant_r"),
        retraining: Retraining = _neutral("retraining"),
        initial_doubling: InitialDoubling = _neutral("initial_doubling"),
        ramp: RampShape = _neutral("ramp.shape"),
        horizon_includes_ramp: bool = _neutral("ramp.horizon_includes_ramp"),
        windows_months: tuple[float, ...] = (12.0, 4.0),
        option_values: tuple[float | None, ...] | None = None,
        **options: float | None,
    ) -> None:
        unknown = sorted(set(options) - set(OPTION_DEFAULTS))
        if unknown:
            raise TypeError(
                f"SieOptions has no setting {', '.join(map(repr, unknown))} "
                f"(settings that may be uncertain: {', '.join(OPTION_INPUTS)})"
            )
        values = list(OPTION_DEFAULTS.values()) if option_values is None else list(option_values)
        if len(values) != len(OPTION_INPUTS):
            raise TypeError(f"option_values needs {len(OPTION_INPUTS)} values (got {len(values)})")
        for name, value in options.items():
            values[_OPTION_INDEX[name]] = value
        settings = {
            "software_share": software_share,
            "horizon_months": horizon_months,
            "recent_doubling_months": recent_doubling_months,
            "constant_r": constant_r,
            "retraining": retraining,
            "initial_doubling": initial_doubling,
            "ramp": ramp,
            "horizon_includes_ramp": horizon_includes_ramp,
            "windows_months": tuple(windows_months),
            "option_values": tuple(values),
        }
        for name, setting in settings.items():
            object.__setattr__(self, name, setting)

    def __getattr__(self, name: str) -> float | None:
        # Only called for names that are not fields: the settings in ``option_values``.
        index = _OPTION_INDEX.get(name)
        if index is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.option_values[index]

    def option(self, name: str) -> float | None:
        """The value of one ``OPTION_INPUTS`` setting (None: unset, e.g. ``ramp_lead_months``)."""
        return self.option_values[_OPTION_INDEX[name]]

    def number(self, name: str) -> float:
        """The value of an ``OPTION_INPUTS`` setting that cannot be unset."""
        value = self.option(name)
        if value is None:
            raise ValueError(f"{name} is unset")
        return value

    def named_options(self) -> dict[str, float | None]:
        """Every ``OPTION_INPUTS`` setting by name."""
        return dict(zip(OPTION_INPUTS, self.option_values, strict=True))

    def __repr__(self) -> str:
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "option_values"]
        shown += [f"{name}={value!r}" for name, value in self.named_options().items()]
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def doublings_per_year(self) -> float:
        return doublings_per_year(self.software_share)

    @property
    def lead_months(self) -> float:
        """Months from the start of the simulation to ASARA."""
        if self.ramp == "none":
            return 0.0
        lead = self.option("ramp_lead_months")
        return self.number("ramp_months") if lead is None else lead

    @property
    def total_months(self) -> float:
        """Simulated time from the start of the run (the ramp's start, if any) to the end."""
        return self.total_months_after(self.lead_months)

    def total_months_after(self, lead_months: float) -> float:
        """The run's end for a ramp that starts ``lead_months`` before ASARA (a sample's own lead)."""
        return run_end_months(
            self.horizon_months, lead_months, self.ramp != "none", self.horizon_includes_ramp
        )

    def flags(self) -> NDArray[np.int64]:
        flags = np.zeros(N_FLAGS, dtype=np.int64)
        flags[F_CONSTANT_R] = self.constant_r
        flags[F_RETRAINING] = _RETRAINING_CODES[self.retraining]
        flags[F_INITIAL_PACE] = self.initial_doubling == "pace"
        flags[F_RAMP] = _RAMP_CODES[self.ramp]
        flags[F_HORIZON_INCLUDES_RAMP] = self.horizon_includes_ramp
        return flags

    def settings(self) -> NDArray[np.float64]:
        settings = np.zeros(N_SETTINGS)
        settings[S_SHARE] = self.software_share
        settings[S_HORIZON] = self.horizon_months
        settings[S_RECENT] = self.recent_doubling_months
        return settings

    def fixed_parameters(self) -> NDArray[np.float64]:
        """The parameter row every sample shares (the four inputs left as NaN)."""
        row = np.full(N_PARAMETERS, math.nan)
        for name, column in PER_SAMPLE_OPTIONS.items():
            value = self.option(name)
            row[column] = self.lead_months if name == "ramp_lead_months" else value
        return row


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
    asara_months: float = 0.0
    """When ASARA arrives on the run's clock (after the ramp's lead; 0 without a ramp). The run's own
    lead: a sampled ramp length (or lead) gives each run its own ASARA month."""
    total_months: float = math.nan
    """When the run's horizon ends on its clock (``asara_months + horizon_months``, or ``horizon_months``
    when the horizon includes the ramp); the run stops at the first doubling that completes after it."""


def run_end_months(horizon_months: float, lead_months: float, ramped: bool, includes_ramp: bool) -> float:
    """When a run ends on its own clock: ``horizon_months`` after ASARA, which comes ``lead_months``
    after the start of a ramp, unless the horizon counts from the ramp's start (the reference code).
    The one statement of the rule; the kernel compiles this very function."""
    if ramped and not includes_ramp:
        return lead_months + horizon_months
    return horizon_months


def damped_exponent(x: float, retraining: int, damping: float) -> float:
    """The exponent x after the retraining cost: the paper's x / (1 + c|x|), or the reference code's
    x / |x + 1|; unchanged without retraining. The kernel compiles this very function."""
    if retraining == RETRAIN_PAPER:
        return x / (1.0 + damping * abs(x))
    if retraining == RETRAIN_REFERENCE:
        return x / abs(x + 1.0)
    return x


_run_end_months = njit(nogil=True, error_model="numpy", inline="always")(run_end_months)
_damped_exponent = njit(nogil=True, error_model="numpy", inline="always")(damped_exponent)
_doublings_per_year = njit(nogil=True, error_model="numpy", inline="always")(doublings_per_year)

_LOGISTIC_STEEPNESS = 10.0

MAX_CEILING_DOUBLINGS = 10_000
"""Most doublings a run may have before the effective limit (N = 4/s x limit_years). N bounds the steps
(time and memory) of every run; the paper's baseline needs at most 128. Scenarios and arguments above it
are refused at validation."""

PATH_CAPACITY = MAX_CEILING_DOUBLINGS + 1
"""Length of the per-run buffers (times, r): a run never has more than ``ceil(N) <= MAX_CEILING_DOUBLINGS``
doublings, so buffers this long never need to grow. (A buffer that may be replaced inside the step loop
costs two atomic reference-count updates per step in compiled code: a third of the kernel's time.)"""


def ceiling_problem(software_share: float, limit_years: float) -> str | None:
    """Why a run with this share and distance to the limit would be unbounded, or None."""
    ceiling = doublings_per_year(software_share) * limit_years if software_share > 0 else math.inf
    if not ceiling <= MAX_CEILING_DOUBLINGS:
        return (
            f"N = 4/s x limit_years = 4/{software_share:g} x {limit_years:g} = {ceiling:.4g} doublings "
            f"to the limit; at most {MAX_CEILING_DOUBLINGS:,} are allowed (each is a step of every run: "
            "raise software_share or lower limit_years)"
        )
    return None


@njit(nogil=True, error_model="numpy", inline="always")
def _pow2(x: float) -> float:
    """2**x; infinity past float range (compiled code does that anyway: this keeps NUMBA_DISABLE_JIT=1,
    where Python raises OverflowError instead, giving the same numbers)."""
    if not x >= 1024.0:  # NaN stays NaN, as before
        power: float = 2.0**x
        return power
    return math.inf


@njit(nogil=True, error_model="numpy", inline="always")
def _exp2(x: float) -> float:
    """math.exp2(x), with infinity past float range under NUMBA_DISABLE_JIT=1 too (see ``_pow2``)."""
    if not x >= 1024.0:  # NaN stays NaN, as before
        power: float = math.exp2(x)
        return power
    return math.inf


@njit(nogil=True, error_model="numpy")
def _ramp_speedup(shape: int, t: float, length: float, lead: float, start: float, end: float) -> float:
    """The speed-up at simulation time ``t`` (the ramp starts at t = 0)."""
    if shape == RAMP_STEP:  # the start value until ASARA, then f
        return start if t < lead else end
    if t >= length:
        return end
    u = t / length
    if shape == RAMP_LINEAR:
        return start + (end - start) * u
    if shape == RAMP_LOGISTIC:  # logistic in log(speed-up), rescaled to go exactly from start to end
        k = _LOGISTIC_STEEPNESS
        low = 1.0 / (1.0 + math.exp(k / 2.0))
        high = 1.0 / (1.0 + math.exp(-k / 2.0))
        u = (1.0 / (1.0 + math.exp(-k * (u - 0.5))) - low) / (high - low)
    grown: float = start * (end / start) ** u
    return grown


@njit(nogil=True, error_model="numpy")
def _log2_research_input(labour: float, compute: float, share: float, rho: float) -> float:
    """log2 of the CES research input, normalized to 1 at ASARA; arguments are log2 of L/L0 and C/C0."""
    if rho == 0.0:
        return share * labour + (1.0 - share) * compute
    mixed = share * _pow2(rho * labour) + (1.0 - share) * _pow2(rho * compute)
    value: float = math.log2(mixed) / rho
    return value


@njit(nogil=True, error_model="numpy")
def _compute_doublings(t0: float, t1: float, asara: float, rate: float, decay: float) -> float:
    """Doublings of compute between times t0 and t1; compute grows from ASARA at ``rate`` (per month,
    natural units) with its growth rate decaying at ``decay`` per month."""
    a = max(t0, asara) - asara
    b = max(t1, asara) - asara
    if b <= a:
        return 0.0
    grown = rate * (b - a) if decay == 0.0 else rate / decay * (math.exp(-decay * a) - math.exp(-decay * b))
    doublings: float = grown / math.log(2.0)
    return doublings


@njit(nogil=True, error_model="numpy", inline="always")
def _run_one(
    params: NDArray[np.float64],
    s: int,
    flags: NDArray[np.int64],
    settings: NDArray[np.float64],
    windows: NDArray[np.float64],
    times: NDArray[np.float64],
    best: NDArray[np.int64],
    record: bool,
    r_path: NDArray[np.float64],
    extensions: NDArray[np.float64] | None,
) -> tuple[int, float, int, float]:
    """Run sample ``s`` (row ``s`` of ``params``).

    Returns (doublings, end time, end reason, final r).

    ``times`` (and ``r_path`` when ``record``) are scratch buffers of at least ``PATH_CAPACITY`` entries;
    on return they hold the run's path. ``best`` receives the max doublings per window.
    """
    speedup = params[s, P_SPEEDUP]
    r0 = params[s, P_RETURNS]
    penalty = params[s, P_PENALTY]
    software_share = settings[S_SHARE]
    recent_doubling = settings[S_RECENT]
    ramp = flags[F_RAMP]
    retraining = flags[F_RETRAINING]
    n_windows = windows.shape[0]
    # Capped so that no sample can run forever (a limit_years drawn from a distribution's far tail);
    # validation refuses settings whose ceiling can exceed the cap, so valid runs never reach it.
    ceiling = min(_doublings_per_year(software_share) * params[s, P_LIMIT], MAX_CEILING_DOUBLINGS)
    k = 0.0 if flags[F_CONSTANT_R] else r0 / ceiling

    # Extensions, each skipped entirely at its neutral setting.
    ramp_months = params[s, P_RAMP_MONTHS]
    ramp_start = params[s, P_RAMP_START]
    ramped = ramp != RAMP_NONE
    lead = params[s, P_RAMP_LEAD] if ramped else 0.0
    total_months = _run_end_months(settings[S_HORIZON], lead, ramped, flags[F_HORIZON_INCLUDES_RAMP] != 0)
    damping = params[s, P_RETRAIN_FRACTION] * params[s, P_TRAINING_MONTHS] / recent_doubling
    growth = params[s, P_COMPUTE_GROWTH]
    compute_on = growth != 1.0
    compute_rate = math.log(growth) / 12.0 if compute_on else 0.0
    halving = params[s, P_COMPUTE_HALVING]
    compute_decay = math.log(2.0) / (12.0 * halving) if halving < math.inf else 0.0
    share = params[s, P_LABOUR_SHARE]
    gamma = params[s, P_COMPUTE_LABOUR]
    elasticity = params[s, P_ELASTICITY]
    ces_on = elasticity != 1.0
    rho = (elasticity - 1.0) / elasticity if ces_on else 0.0
    data_share = params[s, P_DATA_SHARE]
    data_on = data_share != 0.0
    data_returns = params[s, P_DATA_RETURNS]
    data_ceiling = _doublings_per_year(software_share) * params[s, P_DATA_STOCK]
    data_k = data_returns / data_ceiling if data_ceiling < math.inf else 0.0
    extended = False
    if extensions is not None:
        extended = compute_on or ces_on or data_on

    if ramped:
        log2_dt = math.log2(recent_doubling / (1.0 + ramp_start))
    elif flags[F_INITIAL_PACE]:
        log2_dt = math.log2(recent_doubling / (1.0 + speedup))
    else:
        log2_dt = math.log2(recent_doubling / speedup)
    dt = _exp2(log2_dt)
    # With data as its own input, algorithms and data each progress at their own pace (log2 of doublings
    # per month); software is their Cobb-Douglas composite, so its pace is the share-weighted sum.
    log2_pace_algorithms = -log2_dt
    log2_pace_data = -log2_dt
    data_doublings = 0.0
    r_data = data_returns
    compute = 0.0  # log2(C / C at ASARA)
    f_old = ramp_start
    t = 0.0
    n = 0
    r = r0
    times[0] = 0.0
    if record:
        r_path[0] = r0
    for w in range(n_windows):
        best[w] = 0
    reason = END_HORIZON
    while True:
        if not t < total_months:
            reason = END_HORIZON
            break
        if not (n < ceiling and r > 0.0):
            reason = END_CEILING
            break
        if not dt < math.inf:
            reason = END_OVERFLOW
            break
        t += dt
        n += 1
        r -= k
        times[n] = t
        if record:
            r_path[n] = r
        # The longest run of doublings inside a window that ends at doubling n is at most one longer
        # than the best so far, so one comparison per window decides whether the best grows (added as
        # 0 or 1 rather than branched on: the outcome is hard to predict).
        for w in range(n_windows):
            best[w] += t - times[n - best[w] - 1] < windows[w]
        # The exponent x: how many times the doubling time doubles from this doubling to the next.
        if not extended:
            if r > 0.0:
                log2_dt += _damped_exponent(penalty * (1.0 / r - 1.0), retraining, damping)
        else:
            step_compute = 0.0
            if compute_on:
                step_compute = _compute_doublings(t - dt, t, lead, compute_rate, compute_decay)
            if data_on:
                algorithm_doublings = _pow2(log2_pace_algorithms) * dt
                data_step = _pow2(log2_pace_data) * dt if r_data > 0.0 else 0.0
            else:
                algorithm_doublings = 1.0
                data_step = 0.0
            if r > 0.0:
                if ces_on or compute_on:
                    # lambda = p / alpha; the research input's change over this step, from the CES (or
                    # Cobb-Douglas) combination of labour (software x compute^(1+gamma)) and compute.
                    labour_before = (n - 1) + (1.0 + gamma) * compute
                    labour_after = n + (1.0 + gamma) * (compute + step_compute)
                    research = _log2_research_input(labour_after, compute + step_compute, share, rho)
                    research -= _log2_research_input(labour_before, compute, share, rho)
                    x = penalty / r * algorithm_doublings - penalty / share * research
                else:
                    x = penalty / r * algorithm_doublings - penalty
                x = _damped_exponent(x, retraining, damping)
                if data_on:
                    log2_pace_algorithms -= x
                else:
                    log2_dt += x
            compute += step_compute
            if data_on and r_data > 0.0:
                # Data: made with AI labour (each software doubling doubles labour) at its own returns,
                # which fall to 0 as the stock of findable data runs out.
                data_doublings += data_step
                r_data = data_returns - data_k * data_doublings
                if r_data > 0.0:
                    log2_pace_data += penalty - penalty / r_data * data_step
        if ramped:
            f_new = _ramp_speedup(ramp, t, ramp_months, lead, ramp_start, speedup)
            pace_change = math.log2((1.0 + f_old) / (1.0 + f_new))
            log2_dt += pace_change
            log2_pace_algorithms -= pace_change
            log2_pace_data -= pace_change
            f_old = f_new
        if data_on:
            pace = (1.0 - data_share) * _pow2(log2_pace_algorithms)
            if r_data > 0.0:
                pace += data_share * _pow2(log2_pace_data)
            dt = 1.0 / pace
        else:
            dt = _exp2(log2_dt)
    return n, t, reason, r


@njit(nogil=True, error_model="numpy")
def _simulate_batch(
    params: NDArray[np.float64],
    flags: NDArray[np.int64],
    settings: NDArray[np.float64],
    windows: NDArray[np.float64],
    out_best: NDArray[np.int64],
    out_doublings: NDArray[np.int64],
    out_end: NDArray[np.float64],
    out_reason: NDArray[np.int8],
    out_r: NDArray[np.float64],
    extensions: NDArray[np.float64] | None,
) -> None:
    times = np.empty(PATH_CAPACITY)
    r_path = np.empty(1)
    best = np.zeros(windows.shape[0], dtype=np.int64)
    for s in range(params.shape[0]):
        n, t, reason, r = _run_one(
            params, s, flags, settings, windows, times, best, False, r_path, extensions
        )
        for w in range(windows.shape[0]):
            out_best[s, w] = best[w]
        out_doublings[s] = n
        out_end[s] = t
        out_reason[s] = reason
        out_r[s] = r


@njit(nogil=True)
def _compiled_layout() -> int:
    """The column fingerprint as the cached compiled code saw it."""
    layout: int = COLUMN_LAYOUT
    return layout


_fresh = False
_fresh_lock = threading.Lock()


def _refresh_stale_kernels(
    probe: Any = _compiled_layout, kernels: tuple[Any, ...] = (), expected: int | None = None
) -> bool:
    """Recompile the kernels if their cached code was compiled with other column numbers; True if it was.

    numba keys its on-disk cache on this file (its time stamp and each function's bytecode), but the
    kernels' column numbers are module globals read from the declarations in ``parameters.py`` and frozen
    into the compiled code: after a declaration is inserted there, a kernel cached before would read the
    wrong columns. A tiny compiled probe, cached the same way, tells which numbering the cache was made
    with; on a mismatch every kernel is recompiled (and the cache rewritten) before it runs."""
    stale: bool = probe() != (COLUMN_LAYOUT if expected is None else expected)
    if stale:
        # The probe last: until every kernel is rebuilt, the probe still reports the stale numbering.
        for kernel in (*(kernels or (_run_one, _simulate_batch)), probe):
            if hasattr(kernel, "recompile"):  # absent with NUMBA_DISABLE_JIT=1, where nothing is cached
                kernel.recompile()
    return stale


def _ensure_fresh_kernels() -> None:
    """Once per process, before the first batch; the web server runs batches in several threads, and none
    may start on a stale kernel while another is still recompiling."""
    global _fresh
    if _fresh:
        return
    with _fresh_lock:
        if not _fresh:
            _refresh_stale_kernels()
            _fresh = True


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


def parameter_matrix(
    speedup: FloatArray | float,
    returns: FloatArray | float,
    limit_years: FloatArray | float,
    parallel_penalty: FloatArray | float,
    options: SieOptions,
    per_sample: Mapping[str, FloatArray] | None = None,
) -> NDArray[np.float64]:
    """The (samples, N_PARAMETERS) matrix the kernel reads: the four inputs, then every extension
    parameter, from ``per_sample`` where given (uncertain) and from ``options`` otherwise."""
    per_sample = per_sample or {}
    unknown = set(per_sample) - set(PER_SAMPLE_OPTIONS)
    if unknown:
        raise ValueError(f"no per-sample option named {sorted(unknown)}")
    names = list(per_sample)
    try:
        arrays = _as_inputs(speedup, returns, limit_years, parallel_penalty, *(per_sample[n] for n in names))
    except ValueError as error:
        raise ValueError(f"inputs must be equally long 1-D arrays or scalars ({error})") from None
    params = np.empty((arrays[0].size, N_PARAMETERS))
    params[:] = options.fixed_parameters()
    for column, values in enumerate(arrays[:4]):
        params[:, column] = values
    for name, values in zip(names, arrays[4:], strict=True):
        params[:, PER_SAMPLE_OPTIONS[name]] = values
    if (
        "ramp_months" in per_sample
        and "ramp_lead_months" not in per_sample
        and options.option("ramp_lead_months") is None
    ):
        params[:, P_RAMP_LEAD] = params[:, P_RAMP_MONTHS]
    return params


RECURSION_SWITCHES: tuple[tuple[int, float], ...] = tuple(
    (COLUMNS[p.input], float(p.neutral))
    for p in PARAMETERS_BY_INPUT.values()
    if p.switches_off and p.input is not None
)
"""(column, neutral value) of each per-sample setting whose neutral value alone switches its extension's
code in the recursion off (compute growth, CES bottlenecks, data), from the declarations."""


def _extension_marker(params: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """None when no sample switches on an extension that changes the recursion: numba then compiles a
    specialization of the same kernel without the extension code, which runs the paper's model at full
    speed. Otherwise an (empty) array, and each extension runs only for samples that switch it on."""
    extended = any(np.any(params[:, column] != neutral) for column, neutral in RECURSION_SWITCHES)
    return np.empty(0) if extended else None


def simulate(
    speedup: FloatArray | float,
    returns: FloatArray | float,
    limit_years: FloatArray | float,
    parallel_penalty: FloatArray | float,
    options: SieOptions | None = None,
    per_sample: Mapping[str, FloatArray] | None = None,
) -> BatchResult:
    """Run the model for every sample. The four inputs (and any ``per_sample`` extension parameters,
    keyed by option name) are equally long 1-D arrays or scalars."""
    options = options or SieOptions()
    _check_options(options)
    _ensure_fresh_kernels()
    params = parameter_matrix(speedup, returns, limit_years, parallel_penalty, options, per_sample)
    size = params.shape[0]
    windows = np.asarray(options.windows_months, dtype=np.float64)
    best = np.zeros((size, windows.size), dtype=np.int64)
    doublings = np.zeros(size, dtype=np.int64)
    end = np.zeros(size)
    reason = np.zeros(size, dtype=np.int8)
    final_r = np.zeros(size)
    _simulate_batch(
        params,
        options.flags(),
        options.settings(),
        windows,
        best,
        doublings,
        end,
        reason,
        final_r,
        _extension_marker(params),
    )
    return BatchResult(options.windows_months, best, doublings, end, reason, final_r)


def trajectory(
    speedup: float,
    returns: float,
    limit_years: float,
    parallel_penalty: float,
    options: SieOptions | None = None,
    per_sample: Mapping[str, float] | None = None,
) -> Trajectory:
    """One run with its full path: doubling times, r after each doubling, and why it stopped."""
    options = options or SieOptions()
    _check_options(options)
    _ensure_fresh_kernels()
    extra = {name: np.array([value]) for name, value in (per_sample or {}).items()}
    params = parameter_matrix(speedup, returns, limit_years, parallel_penalty, options, extra)
    windows = np.asarray(options.windows_months, dtype=np.float64)
    best = np.zeros(windows.size, dtype=np.int64)
    times = np.empty(PATH_CAPACITY)
    r_path = np.empty(PATH_CAPACITY)
    n, _, reason, _ = _run_one(
        params,
        0,
        options.flags(),
        options.settings(),
        windows,
        times,
        best,
        True,
        r_path,
        _extension_marker(params),
    )
    times = times[: n + 1].copy()
    doubling_months = np.concatenate(([math.nan], np.diff(times)))
    # The kernel's clock for this sample: the lead comes from the parameter row (a sampled ramp length or
    # lead overrides the options, whose lead is only the median), exactly as _run_one reads it.
    asara = float(params[0, P_RAMP_LEAD]) if options.ramp != "none" else 0.0
    total = options.total_months_after(asara)
    return Trajectory(
        times=times,
        returns=r_path[: n + 1].copy(),
        doubling_months=doubling_months,
        max_doublings={w: int(b) for w, b in zip(options.windows_months, best, strict=True)},
        end_reason=END_REASONS[reason],
        ceiling_doublings=options.doublings_per_year * float(limit_years),
        asara_months=asara,
        total_months=total,
    )
