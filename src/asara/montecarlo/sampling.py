"""Reproducible input samples.

Samples are drawn in fixed blocks of ``BLOCK_SIZE``: block ``b`` of a run seeded ``seed`` has its own
generator, seeded by ``SeedSequence(seed, spawn_key=(b,))`` (the b-th child of the run's seed sequence).
Sample i therefore depends only on the seed and i, never on the chunk size, the number of workers or
the total number of samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special

from asara.distributions import Distribution
from asara.models.base import FloatArray

BLOCK_SIZE = 1024


def block_uniforms(seed: int, block: int, dimensions: int, stream: int = 0) -> FloatArray:
    """The (BLOCK_SIZE, dimensions) uniforms of one block. ``stream`` 0 is the run's own; other streams
    are independent of it (for inputs that only some of the compared scenarios have)."""
    key = (block,) if stream == 0 else (block, stream)
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64(sequence)).random((BLOCK_SIZE, dimensions))


def uniforms(seed: int, start: int, stop: int, dimensions: int, stream: int = 0) -> FloatArray:
    """Uniforms for samples ``start`` (inclusive) to ``stop`` (exclusive)."""
    first, last = start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE
    blocks = [block_uniforms(seed, b, dimensions, stream) for b in range(first, last + 1)]
    stacked = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = first * BLOCK_SIZE
    return stacked[start - offset : stop - offset]


def sample_inputs(
    distributions: Mapping[str, Distribution],
    names: Sequence[str],
    seed: int,
    start: int,
    stop: int,
    copula: FloatArray | None = None,
) -> dict[str, FloatArray]:
    """Input arrays for samples ``start`` to ``stop``: column j of the uniforms drives input ``names[j]``.

    ``copula`` is a factor ``A`` of a Gaussian copula's correlation matrix (``A @ A.T``, see
    :func:`copula_factor`); without one the inputs are independent."""
    u = uniforms(seed, start, stop, len(names))
    if copula is not None:
        u = special.ndtr(special.ndtri(u) @ copula.T)
    return {name: distributions[name].ppf(u[:, j]) for j, name in enumerate(names)}


def pearson_from_rank(rank_correlation: FloatArray) -> FloatArray:
    """The Gaussian copula's correlation that gives a Spearman rank correlation: 2 sin(pi rho_s / 6)."""
    return np.asarray(2.0 * np.sin(np.pi * np.asarray(rank_correlation) / 6.0), dtype=np.float64)


def copula_factor(rank_correlation: FloatArray, tolerance: float = 1e-10) -> FloatArray:
    """A factor ``A`` with ``A @ A.T`` the copula correlation for a rank-correlation matrix.

    Raises ValueError if the matrix is not symmetric with unit diagonal, or not positive semi-definite.
    """
    matrix = pearson_from_rank(rank_correlation)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError("the correlation matrix must be square")
    if not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1.0):
        raise ValueError("the correlation matrix must be symmetric with ones on the diagonal")
    values, vectors = np.linalg.eigh(matrix)
    if values.min() < -tolerance:
        raise ValueError(
            f"the correlation matrix is not positive semi-definite (eigenvalue {values.min():.3g})"
        )
    factor: FloatArray = vectors * np.sqrt(np.clip(values, 0.0, None))
    return factor
