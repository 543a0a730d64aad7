"""Global sensitivity of any model's outputs to its uncertain inputs: Sobol' indices and Morris screening.

Written over the model interface: a Saltelli or Morris design draws points on the unit hypercube, each
input's distribution maps its column through the inverse CDF, and the model evaluates them in one vectorized
call per chunk. Inputs that are fixed (no spread) are left out and listed. An output that does not vary
gets no indices (None), never NaN.

The designs and estimators (:mod:`asara.analysis.saltelli`, :mod:`asara.analysis.morris_method`) give
SALib's results bit for bit without importing SALib, pandas or scipy.stats, which cost about a second a
process.

Sobol' indices assume independent inputs, so scenarios with correlated inputs are refused rather than
silently analysed as if independent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from asara import __version__
from asara.analysis.morris_method import grid_step, morris_statistics, morris_trajectories
from asara.analysis.saltelli import saltelli_design, sobol_indices
from asara.distributions import Distribution
from asara.errors import InputError
from asara.models.base import FloatArray, Model

MORRIS_LEVELS = 4
EVALUATION_CHUNK = 65_536
METHODS = ("sobol", "morris")
MAX_SAMPLES = 1 << 20
"""Largest Sobol' base design or number of Morris trajectories."""
BOOTSTRAP_RESAMPLES = 200
CONFIDENCE = 0.95


@dataclass(frozen=True)
class SobolIndex:
    input: str
    first: float
    first_ci: tuple[float, float]
    total: float
    total_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "first": self.first,
            "first_ci": list(self.first_ci),
            "total": self.total,
            "total_ci": list(self.total_ci),
        }


@dataclass(frozen=True)
class MorrisEffect:
    input: str
    mu_star: float
    mu_star_ci: tuple[float, float]
    mu: float
    sigma: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "mu_star": self.mu_star,
            "mu_star_ci": list(self.mu_star_ci),
            "mu": self.mu,
            "sigma": self.sigma,
        }


@dataclass(frozen=True)
class SensitivityResult:
    method: str
    seed: int
    base_samples: int
    """Sobol: N of the Saltelli design; Morris: the number of trajectories."""
    evaluations: int
    outputs: dict[str, list[SobolIndex] | list[MorrisEffect] | None]
    """Per output, one record per varying input (None when the output does not vary)."""
    fixed_inputs: tuple[str, ...]
    output_means: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def outputs_dict(self) -> dict[str, Any]:
        """For each output, a list of one object per input (``None`` if the output is constant): what
        ``sensitivity --json`` prints."""
        return {
            name: None if records is None else [record.to_dict() for record in records]
            for name, records in self.outputs.items()
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "seed": self.seed,
            "samples": self.base_samples,
            "evaluations": self.evaluations,
            "version": __version__,
            "fixed_inputs": list(self.fixed_inputs),
            "output_means": self.output_means,
            "notes": list(self.notes),
            "outputs": self.outputs_dict(),
        }


def varying_inputs(model: Model, distributions: Mapping[str, Distribution]) -> list[str]:
    missing = [name for name in model.input_names if name not in distributions]
    if missing:
        raise InputError(f"no distribution for inputs {missing}", field="inputs")
    return [name for name in model.input_names if _spread(distributions[name])]


def _spread(distribution: Distribution) -> bool:
    low, high = distribution.support
    return high > low


def _seeds(seed: int, count: int) -> list[int]:
    # SALib treats a seed of 0 as "no seed" in places, so non-zero seeds are derived from the user's one
    # (kept so that results stay those SALib gives).
    state = np.random.SeedSequence(seed).generate_state(count, dtype=np.uint32)
    return [int(s) + 1 for s in state]


def _evaluate(
    model: Model,
    distributions: Mapping[str, Distribution],
    varying: Sequence[str],
    unit: FloatArray,
    outputs: Sequence[str],
    on_progress: Callable[[int, int], None] | None,
) -> dict[str, FloatArray]:
    """Model outputs at points of the unit hypercube (one column per varying input)."""
    rows = unit.shape[0]
    results = {name: np.empty(rows) for name in outputs}
    fixed = [name for name in model.input_names if name not in varying]
    for start in range(0, rows, EVALUATION_CHUNK):
        stop = min(rows, start + EVALUATION_CHUNK)
        inputs = {name: distributions[name].ppf(unit[start:stop, j]) for j, name in enumerate(varying)}
        for name in fixed:
            inputs[name] = distributions[name].ppf(np.full(stop - start, 0.5))
        values = model.evaluate(inputs)
        for name in outputs:
            results[name][start:stop] = np.asarray(values[name], dtype=np.float64)
        if on_progress is not None:
            on_progress(stop, rows)
    for name, column in results.items():
        if not np.all(np.isfinite(column)):
            raise InputError(f"the model returned non-finite values for {name}", field="outputs")
    return results


def _progress_in_stages(
    on_progress: Callable[[int, int], None] | None, rows: int, outputs: int
) -> tuple[Callable[[int, int], None] | None, Callable[[int], None]]:
    """Progress over the whole analysis, not the evaluation alone: bootstrapping one output's indices takes
    about as long as evaluating the design (2**16 Sobol' base points of the persona model: 5 s to
    evaluate, 4 to 7 s per output to bootstrap), so each output counts as one design's worth of work.
    Otherwise the bar ends full while the indices take minutes more. Returns the callback for the
    evaluation (done, rows) and one taking the number of outputs analysed."""
    if on_progress is None:
        return None, lambda analysed: None
    total = rows * (1 + outputs)
    report = on_progress

    def evaluated(done: int, _rows: int) -> None:
        report(done, total)

    def analysed(count: int) -> None:
        report(rows * (1 + count), total)

    return evaluated, analysed


def _check(model: Model, samples: int, copula: FloatArray | None, outputs: Sequence[str] | None) -> list[str]:
    if copula is not None:
        raise InputError(
            "Sobol' and Morris indices assume independent inputs; this scenario correlates its inputs "
            "(remove [correlations] to analyse it)",
            field="correlations",
        )
    if samples < 2:
        raise InputError(f"must be at least 2 (got {samples})", field="samples")
    names = list(outputs) if outputs is not None else list(model.output_names)
    unknown = [name for name in names if name not in model.output_names]
    if unknown:
        raise InputError(f"unknown outputs {unknown}", field="outputs")
    return names


def _interval(centre: float, half_width: float) -> tuple[float, float]:
    return (float(centre - half_width), float(centre + half_width))


def _mean_absolute_interval(centre: float, half_width: float) -> tuple[float, float]:
    """mu* averages absolute effects, so it cannot be negative; the symmetric half-width can reach
    below zero when mu* is small, and that part of the interval is impossible."""
    low, high = _interval(centre, half_width)
    return (max(low, 0.0), high)


def sobol(
    model: Model,
    distributions: Mapping[str, Distribution],
    samples: int,
    seed: int,
    *,
    outputs: Sequence[str] | None = None,
    copula: FloatArray | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """First- and total-order Sobol' indices with bootstrap 95% intervals (Saltelli design of ``samples``
    base points, rounded up to a power of two: N (D + 2) model evaluations)."""
    names = _check(model, samples, copula, outputs)
    varying = varying_inputs(model, distributions)
    fixed = tuple(name for name in model.input_names if name not in varying)
    if not varying:
        raise InputError("every input is fixed: there is nothing to analyse", field="inputs")
    base = 1 << math.ceil(math.log2(samples))
    design_seed, bootstrap_seed = _seeds(seed, 2)
    unit = saltelli_design(len(varying), base, design_seed)
    evaluated, analysed = _progress_in_stages(on_progress, unit.shape[0], len(names))
    values = _evaluate(model, distributions, varying, unit, names, evaluated)
    results: dict[str, list[SobolIndex] | list[MorrisEffect] | None] = {}
    notes = []
    if base != samples:
        notes.append(f"samples rounded up to {base}, a power of two, as Sobol' sequences need")
    for done, name in enumerate(names):
        analysed(done)
        y = values[name]
        if not varies(y):
            results[name] = None
            notes.append(f"{name} does not vary over the design: its indices are undefined")
            continue
        indices = sobol_indices(
            y, len(varying), resamples=BOOTSTRAP_RESAMPLES, confidence=CONFIDENCE, seed=bootstrap_seed
        )
        results[name] = [
            SobolIndex(
                input_name,
                float(indices.first[j]),
                _interval(indices.first[j], indices.first_half_width[j]),
                float(indices.total[j]),
                _interval(indices.total[j], indices.total_half_width[j]),
            )
            for j, input_name in enumerate(varying)
        ]
    analysed(len(names))
    means = {name: float(np.mean(values[name])) for name in names}
    return SensitivityResult("sobol", seed, base, unit.shape[0], results, fixed, means, tuple(notes))


def varies(y: FloatArray) -> bool:
    """Whether an output's values spread by more than rounding: an output that is constant in exact
    arithmetic differs across the design in its last bits, and its indices would be those bits' noise
    (a table of zeros, or any numbers at all), not a property of the model."""
    if y.size == 0:
        return False
    scale = max(1.0, float(np.max(np.abs(y))))
    return float(np.ptp(y)) > 1e-12 * scale


def morris(
    model: Model,
    distributions: Mapping[str, Distribution],
    trajectories: int,
    seed: int,
    *,
    outputs: Sequence[str] | None = None,
    copula: FloatArray | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Morris elementary effects (mu*, its bootstrap 95% interval, mu, sigma) from ``trajectories``
    one-at-a-time paths on a 4-level grid: (D + 1) evaluations per trajectory.

    The grid's levels sit at the middle of four equal-probability bins of each input (quantiles 1/8,
    3/8, 5/8 and 7/8), so unbounded distributions never meet an infinite end point. Effects are per
    step of half each input's probability range (two of the grid's four levels), comparable across
    inputs."""
    names = _check(model, trajectories, copula, outputs)
    varying = varying_inputs(model, distributions)
    fixed = tuple(name for name in model.input_names if name not in varying)
    if not varying:
        raise InputError("every input is fixed: there is nothing to analyse", field="inputs")
    design_seed, bootstrap_seed = _seeds(seed, 2)
    grid = morris_trajectories(len(varying), trajectories, MORRIS_LEVELS, design_seed)
    unit = (grid * (MORRIS_LEVELS - 1) + 0.5) / MORRIS_LEVELS
    evaluated, analysed = _progress_in_stages(on_progress, unit.shape[0], len(names))
    values = _evaluate(model, distributions, varying, unit, names, evaluated)
    results: dict[str, list[SobolIndex] | list[MorrisEffect] | None] = {}
    notes = []
    for done, name in enumerate(names):
        analysed(done)
        y = values[name]
        if not varies(y):
            results[name] = None
            notes.append(f"{name} does not vary over the design: it has no elementary effects")
            continue
        effects = morris_statistics(
            grid, y, MORRIS_LEVELS, resamples=BOOTSTRAP_RESAMPLES, confidence=CONFIDENCE, seed=bootstrap_seed
        )
        # Elementary effects divide each change by the grid step (2/3 of the grid); report the change
        # itself, i.e. per step of half the input's probability range, in the output's own units.
        step = grid_step(MORRIS_LEVELS)
        results[name] = [
            MorrisEffect(
                input_name,
                float(effects.mu_star[j]) * step,
                _mean_absolute_interval(effects.mu_star[j] * step, effects.mu_star_half_width[j] * step),
                float(effects.mu[j]) * step,
                float(effects.sigma[j]) * step,
            )
            for j, input_name in enumerate(varying)
        ]
    analysed(len(names))
    means = {name: float(np.mean(values[name])) for name in names}
    return SensitivityResult("morris", seed, trajectories, unit.shape[0], results, fixed, means, tuple(notes))


def analyse(
    model: Model,
    distributions: Mapping[str, Distribution],
    method: str,
    samples: int | None,
    seed: int,
    *,
    default_samples: tuple[int, int] = (4096, 200),
    outputs: Sequence[str] | None = None,
    copula: FloatArray | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """:func:`sobol` or :func:`morris` by name, with the arguments checked as every caller needs them.

    ``samples``: Sobol' base points or Morris trajectories; None takes ``default_samples`` (Sobol',
    Morris), since a sensible design size differs by model."""
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    if method not in METHODS:
        raise InputError(f"must be 'sobol' or 'morris' (got {method!r})", field="method")
    count = samples if samples is not None else default_samples[METHODS.index(method)]
    if not 2 <= count <= MAX_SAMPLES:
        raise InputError(f"must be between 2 and {MAX_SAMPLES:,} (got {count:,})", field="samples")
    run = sobol if method == "sobol" else morris
    return run(model, distributions, count, seed, outputs=outputs, copula=copula, on_progress=on_progress)
