"""Morris screening: one-at-a-time trajectories on a grid and statistics of their elementary effects.

Morris (1991), "Factorial sampling plans for preliminary computational experiments", Technometrics 33(2),
161-174: each trajectory starts at a random grid point and moves every input once, by delta =
levels / (2 (levels - 1)), up or down, in a random order; an input's elementary effect is the change of the
output over its move divided by delta. Campolongo, Cariboni & Saltelli (2007), Environmental Modelling &
Software 22(10), 1509-1518, rank inputs by mu*, the mean absolute effect; mu and sigma are the effects'
mean and standard deviation, and mu*'s interval is z * (bootstrap standard deviation).

Both reproduce SALib 1.6 exactly (the tests hold them to it): ``SALib.sample.morris.sample(problem, N,
num_levels=L, seed=s)`` without groups or optimal trajectories, on the unit hypercube, and
``SALib.analyze.morris.analyze(problem, X, Y, num_levels=L, seed=s)`` unscaled. Same random draws in the
same order, same floating-point operations, so the same bits, without importing SALib, pandas or
scipy.stats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from asara.models.base import FloatArray


def grid_step(levels: int) -> float:
    """Morris's delta: the move of each input along a trajectory, as a fraction of its range."""
    return levels / (2.0 * (levels - 1))


def morris_trajectories(dimensions: int, trajectories: int, levels: int, seed: int) -> FloatArray:
    """``trajectories * (dimensions + 1)`` points of the ``levels``-level grid on the unit hypercube,
    trajectory by trajectory, drawn by ``numpy.random.default_rng(seed)``."""
    if levels < 2 or levels % 2:
        raise ValueError(f"levels must be even and at least 2 (got {levels})")
    random = np.random.default_rng(seed)
    delta = grid_step(levels)
    starts = np.linspace(0, 1 - delta, levels // 2)
    # B: row i has moved the first i inputs (in the trajectory's order) up.
    moved = 2.0 * np.tril(np.ones([dimensions + 1, dimensions], dtype=int), -1)
    ones = np.ones((dimensions + 1, dimensions))
    paths = []
    for _ in range(trajectories):
        order = np.eye(dimensions, dimensions)
        random.shuffle(order)
        directions = np.diag(random.choice([-1, 1], dimensions))
        start = np.zeros((1, dimensions))
        start[0, :] = random.choice(starts, dimensions)
        signed = np.matmul(np.matmul(moved, order.T) - ones, directions)
        paths.append(ones[0, :] * start + (delta / 2.0) * (signed + ones))
    return np.array(paths).reshape((trajectories * (dimensions + 1), dimensions))


@dataclass(frozen=True)
class MorrisStatistics:
    """Per input: mean absolute elementary effect, the half-width of its interval, mean and standard
    deviation of the effects (all per grid step delta, as SALib reports them)."""

    mu_star: FloatArray
    mu_star_half_width: FloatArray
    mu: FloatArray
    sigma: FloatArray


def elementary_effects(grid: FloatArray, values: FloatArray, levels: int) -> FloatArray:
    """One row per input, one column per trajectory: (output after the input's move - output before)
    / delta, signed by the direction of the input (up: after - before; down: before - after)."""
    trajectories = grid.shape[0] // (grid.shape[1] + 1)
    outputs = values.reshape(trajectories, grid.shape[1] + 1)
    points = grid.reshape(trajectories, grid.shape[1] + 1, grid.shape[1])
    changes = points[:, 1:, :] - points[:, :-1, :]
    up, down = changes > 0, changes < 0
    # For each input, pick the output at its higher and at its lower position, as SALib does.
    higher = np.pad(up, ((0, 0), (1, 0), (0, 0))) + np.pad(down, ((0, 0), (0, 1), (0, 0)))
    lower = np.pad(up, ((0, 0), (0, 1), (0, 0))) + np.pad(down, ((0, 0), (1, 0), (0, 0)))
    at_higher = np.einsum("ik,ikj->ij", outputs, higher).T
    at_lower = np.einsum("ik,ikj->ij", outputs, lower).T
    effects: FloatArray = np.subtract(at_higher, at_lower) / grid_step(levels)
    return effects


def morris_statistics(
    grid: FloatArray, values: FloatArray, levels: int, *, resamples: int, confidence: float, seed: int
) -> MorrisStatistics:
    """mu*, its interval's half-width from ``resamples`` bootstrap resamples of the trajectories (drawn
    by ``numpy.random.default_rng(seed)``) at level ``confidence``, mu and sigma, per input."""
    dimensions = grid.shape[1]
    if values.ndim != 1 or grid.ndim != 2 or values.size != grid.shape[0] or values.size % (dimensions + 1):
        raise ValueError(f"expected whole trajectories (got grid {grid.shape}, values {values.shape})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    random = np.random.default_rng(seed)
    effects = elementary_effects(grid, values, levels)
    z = ndtri(0.5 + confidence / 2)
    half_widths = np.empty(dimensions)
    for j in range(dimensions):
        row = effects[j, :]
        picks = random.integers(len(row), size=(resamples, len(row)))
        half_widths[j] = z * np.average(np.abs(row[picks]), axis=1).std(ddof=1)
    return MorrisStatistics(
        np.average(np.abs(effects), 1), half_widths, np.average(effects, 1), np.std(effects, axis=1, ddof=1)
    )
