"""Saltelli's design and estimators of first- and total-order Sobol' indices, with bootstrap intervals.

The design of Saltelli (2002) without second-order rows: for each of N base points, row A (the first D
coordinates of a 2D-dimensional scrambled Sobol' point), D rows A_B^(j) (A with coordinate j taken from B),
then row B (the last D coordinates): N (D + 2) rows. The estimators are those of Saltelli et al. (2010),
"Variance based sensitivity analysis of model output", Computer Physics Communications 181(2), 259-270:
S1_j = mean(f(B) (f(A_B^j) - f(A))) / V and ST_j = mean((f(A) - f(A_B^j))^2) / (2 V), V the variance of
f over the A and B rows, with intervals z * (bootstrap standard deviation) over resampled base points.

Both reproduce SALib 1.6 exactly (the tests hold them to it): ``SALib.sample.sobol.sample(problem, N,
calc_second_order=False, scramble=True, seed=s)`` on the unit hypercube and ``SALib.analyze.sobol.analyze(
problem, Y, calc_second_order=False, seed=s)`` for a non-zero seed. Same points, same resamples, same
floating-point operations, so the same bits, without importing SALib, pandas or scipy.stats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from asara.analysis.sobol_sequence import sobol_points
from asara.models.base import FloatArray

_EPSILON = float(np.finfo(float).eps)


def saltelli_design(dimensions: int, base: int, seed: int) -> FloatArray:
    """The ``base * (dimensions + 2)`` points of the unit hypercube to evaluate, base point by base point
    (A, A_B^(1), ..., A_B^(D), B), from the scrambled Sobol' sequence of ``2 * dimensions`` dimensions and
    ``seed``."""
    points = sobol_points(2 * dimensions, base, seed)
    a, b = points[:, :dimensions], points[:, dimensions:]
    design = np.repeat(a[:, np.newaxis, :], dimensions + 2, axis=1)
    columns = np.arange(dimensions)
    design[:, columns + 1, columns] = b
    design[:, dimensions + 1, :] = b
    return design.reshape(base * (dimensions + 2), dimensions)


@dataclass(frozen=True)
class SobolIndices:
    """Per input: first- and total-order indices and the half-widths of their intervals."""

    first: FloatArray
    first_half_width: FloatArray
    total: FloatArray
    total_half_width: FloatArray


def sobol_indices(
    values: FloatArray, dimensions: int, *, resamples: int, confidence: float, seed: int
) -> SobolIndices:
    """Indices of each input from the model's ``values`` over :func:`saltelli_design`'s rows, with
    intervals from ``resamples`` bootstrap resamples of the base points (drawn by
    ``numpy.random.default_rng(seed)``) at level ``confidence``."""
    step = dimensions + 2
    if values.ndim != 1 or values.size == 0 or values.size % step:
        raise ValueError(f"expected a multiple of {step} values (got shape {values.shape})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    base = values.size // step
    random = np.random.default_rng(seed)
    # Centred and scaled, as SALib does (the estimators are biased for outputs far from zero).
    y = (values - values.mean()) / values.std()
    a, b = y[0::step], y[step - 1 :: step]
    a_b = np.zeros((base, dimensions))
    for j in range(dimensions):
        a_b[:, j] = y[j + 1 :: step]
    picks = random.integers(base, size=(base, resamples))
    z = ndtri(0.5 + confidence / 2)
    resampled_spread = np.ptp(np.r_[a[picks], b[picks]])
    first, first_half, total, total_half = (np.zeros(dimensions) for _ in range(4))
    for j in range(dimensions):
        first[j] = _first_order(a, a_b[:, j], b)
        total[j] = _total_order(a, a_b[:, j], b)
        if resampled_spread != 0.0:
            first_half[j] = z * _first_order(a[picks], a_b[picks, j], b[picks]).std(ddof=1)
            total_half[j] = z * _total_order(a[picks], a_b[picks, j], b[picks]).std(ddof=1)
    return SobolIndices(first, first_half, total, total_half)


def _first_order(a: FloatArray, a_b: FloatArray, b: FloatArray) -> FloatArray:
    return _share_of_variance(np.mean(b * (a_b - a), axis=0), a, b)


def _total_order(a: FloatArray, a_b: FloatArray, b: FloatArray) -> FloatArray:
    return _share_of_variance(0.5 * np.mean((a - a_b) ** 2, axis=0), a, b)


def _share_of_variance(numerator: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """numerator / Var(f) over the A and B rows; 0 where f does not vary (as SALib returns)."""
    y = np.r_[a, b]
    if np.ptp(y) <= _EPSILON:
        return np.zeros(y.shape[1:], dtype=np.float64)
    variance = np.var(y, axis=0)
    estimate: FloatArray = np.divide(
        numerator, variance, out=np.zeros_like(variance, dtype=np.float64), where=variance > _EPSILON
    )
    return estimate
