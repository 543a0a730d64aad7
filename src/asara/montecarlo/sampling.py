"""Reproducible input samples.

Samples are drawn in fixed blocks of ``BLOCK_SIZE``: block ``b`` of a run seeded ``seed`` has its own
generator, seeded by ``SeedSequence(seed, spawn_key=(b,))`` (the b-th child of the run's seed sequence).
Sample i therefore depends only on the seed and i, never on the chunk size, the number of workers or
the total number of samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from asara.distributions import Distribution
from asara.models.base import FloatArray

BLOCK_SIZE = 1024


def block_uniforms(seed: int, block: int, dimensions: int) -> FloatArray:
    """The (BLOCK_SIZE, dimensions) uniforms of one block."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(block,))
    return np.random.Generator(np.random.PCG64(sequence)).random((BLOCK_SIZE, dimensions))


def uniforms(seed: int, start: int, stop: int, dimensions: int) -> FloatArray:
    """Uniforms for samples ``start`` (inclusive) to ``stop`` (exclusive)."""
    first, last = start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE
    blocks = [block_uniforms(seed, b, dimensions) for b in range(first, last + 1)]
    stacked = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = first * BLOCK_SIZE
    return stacked[start - offset : stop - offset]


def sample_inputs(
    distributions: Mapping[str, Distribution], names: Sequence[str], seed: int, start: int, stop: int
) -> dict[str, FloatArray]:
    """Input arrays for samples ``start`` to ``stop``: column j of the uniforms drives input ``names[j]``."""
    u = uniforms(seed, start, stop, len(names))
    return {name: distributions[name].ppf(u[:, j]) for j, name in enumerate(names)}
