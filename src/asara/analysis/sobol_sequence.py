"""Scrambled Sobol' points, bit for bit those of ``scipy.stats.qmc.Sobol(d, scramble=True, seed=seed)``.

Sobol' (1967) digital sequences with Joe & Kuo's (2008) direction numbers (search criterion D(6)) in 30
bits, scrambled by Matoušek's (1998) left linear matrix scramble plus a random digital shift, and drawn in
Gray-code order (Antonov & Saleev 1979): the algorithm of scipy's ``_sobol.pyx``, written in numpy. SALib's
Saltelli sampler draws its base design with scipy's engine, and importing ``scipy.stats`` for it costs about
half a second a process, several times what the points themselves cost.

The random bits come from ``numpy.random.default_rng(seed)`` in scipy's order (the shift first, then the
lower-triangular matrices), as scipy draws them for the integer ``seed`` SALib passes. The direction
numbers of the first :data:`EMBEDDED_DIMENSIONS` dimensions are embedded below; beyond them the points come
from scipy itself.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from asara.models.base import FloatArray

BITS: Final = 30
"""scipy's default: at most 2**30 points, each coordinate a multiple of 2**-30."""

UIntArray = NDArray[np.uint32]


def sobol_points(dimensions: int, count: int, seed: int) -> FloatArray:
    """The first ``count`` points (rows) of the ``dimensions``-dimensional scrambled Sobol' sequence of
    ``seed``: equal to ``scipy.stats.qmc.Sobol(dimensions, scramble=True, seed=seed).random(count)``."""
    if dimensions < 1:
        raise ValueError(f"dimensions must be at least 1 (got {dimensions})")
    if not 0 <= count <= 1 << BITS:
        raise ValueError(f"count must be between 0 and 2**{BITS} (got {count})")
    if dimensions > EMBEDDED_DIMENSIONS:
        from scipy.stats import qmc  # slow to import, but no model of asara has this many inputs

        points: FloatArray = qmc.Sobol(dimensions, scramble=True, seed=seed).random(count)
        return points
    random = np.random.default_rng(seed)
    shift = np.dot(
        random.integers(2, size=(dimensions, BITS), dtype=np.uint32),
        2 ** np.arange(BITS, dtype=np.uint32),
    )
    lower = np.tril(random.integers(2, size=(dimensions, BITS, BITS), dtype=np.uint32))
    directions = linear_matrix_scramble(direction_numbers(dimensions), lower)
    quasi = np.empty((count, dimensions), dtype=np.uint32)
    if count > 0:
        quasi[0] = shift
    if count > 1:
        # Point i + 1 flips, in every coordinate, the direction number indexed by the lowest set bit of
        # i + 1 (the bit in which the Gray codes of i and i + 1 differ).
        steps = np.arange(1, count, dtype=np.int64)
        lowest_bit = np.frexp((steps & -steps).astype(np.float64))[1] - 1
        flips = directions.T[lowest_bit]
        np.bitwise_xor.accumulate(flips, axis=0, out=flips)
        quasi[1:] = flips ^ shift
    return quasi.astype(np.float64) * 2.0**-BITS


def direction_numbers(dimensions: int) -> UIntArray:
    """Unscrambled direction numbers, one row of ``BITS`` per dimension, most significant bit first
    (Bratley & Fox 1988's recurrence over each dimension's primitive polynomial)."""
    if not 1 <= dimensions <= EMBEDDED_DIMENSIONS:
        raise ValueError(f"dimensions must be between 1 and {EMBEDDED_DIMENSIONS} (got {dimensions})")
    rows = [[1] * BITS]
    for polynomial, initial in JOE_KUO[1:dimensions]:
        degree = len(initial)
        row = [*initial, *([0] * (BITS - degree))]
        for j in range(degree, BITS):
            value = row[j - degree]
            for k in range(degree):
                if polynomial >> (degree - 1 - k) & 1:
                    value ^= row[j - k - 1] << (k + 1)
            row[j] = value
        rows.append(row)
    numbers: UIntArray = np.array(rows, dtype=np.uint32) << np.arange(BITS - 1, -1, -1, dtype=np.uint32)
    return numbers


def linear_matrix_scramble(directions: UIntArray, lower: UIntArray) -> UIntArray:
    """Each dimension's direction numbers multiplied (over GF(2)) by its random lower-triangular bit
    matrix with a unit diagonal, ``lower[d]``, whose row ``p`` makes bit ``BITS - 1 - p`` of the result
    and whose column ``c`` reads bit ``BITS - 1 - c`` of the number, as scipy's ``_cscramble`` does."""
    unit = lower.copy()
    unit[:, np.arange(BITS), np.arange(BITS)] = 1
    bits = ((directions[:, :, np.newaxis] >> np.arange(BITS, dtype=np.uint32)) & 1).astype(np.int64)
    products = np.einsum("dqk,djk->djq", unit[:, ::-1, ::-1].astype(np.int64), bits) & 1
    scrambled: UIntArray = (products << np.arange(BITS, dtype=np.int64)).sum(axis=2).astype(np.uint32)
    return scrambled


JOE_KUO: Final[tuple[tuple[int, tuple[int, ...]], ...]] = (
    (1, ()),
    (3, (1,)),
    (7, (1, 3)),
    (11, (1, 3, 1)),
    (13, (1, 1, 1)),
    (19, (1, 1, 3, 3)),
    (25, (1, 3, 5, 13)),
    (37, (1, 1, 5, 5, 17)),
    (41, (1, 1, 5, 5, 5)),
    (47, (1, 1, 7, 11, 19)),
    (55, (1, 1, 5, 1, 1)),
    (59, (1, 1, 1, 3, 11)),
    (61, (1, 3, 5, 5, 31)),
    (67, (1, 3, 3, 9, 7, 49)),
    (91, (1, 1, 1, 15, 21, 21)),
    (97, (1, 3, 1, 13, 27, 49)),
    (103, (1, 1, 1, 15, 7, 5)),
    (109, (1, 3, 1, 15, 13, 25)),
    (115, (1, 1, 5, 5, 19, 61)),
    (131, (1, 3, 7, 11, 23, 15, 103)),
    (137, (1, 3, 7, 13, 13, 15, 69)),
    (143, (1, 1, 3, 13, 7, 35, 63)),
    (145, (1, 3, 5, 9, 1, 25, 53)),
    (157, (1, 3, 1, 13, 9, 35, 107)),
    (167, (1, 3, 1, 5, 27, 61, 31)),
    (171, (1, 1, 5, 11, 19, 41, 61)),
    (185, (1, 3, 5, 3, 3, 13, 69)),
    (191, (1, 1, 7, 13, 1, 19, 1)),
    (193, (1, 3, 7, 5, 13, 19, 59)),
    (203, (1, 1, 3, 9, 25, 29, 41)),
    (211, (1, 3, 5, 13, 23, 1, 55)),
    (213, (1, 3, 7, 3, 13, 59, 17)),
    (229, (1, 3, 1, 3, 5, 53, 69)),
    (239, (1, 1, 5, 5, 23, 33, 13)),
    (241, (1, 1, 7, 7, 1, 61, 123)),
    (247, (1, 1, 7, 9, 13, 61, 49)),
    (253, (1, 3, 3, 5, 3, 55, 33)),
    (285, (1, 3, 1, 15, 31, 13, 49, 245)),
    (299, (1, 3, 5, 15, 31, 59, 63, 97)),
    (301, (1, 3, 1, 11, 11, 11, 77, 249)),
    (333, (1, 3, 1, 11, 27, 43, 71, 9)),
    (351, (1, 1, 7, 15, 21, 11, 81, 45)),
    (355, (1, 3, 7, 3, 25, 31, 65, 79)),
    (357, (1, 3, 1, 1, 19, 11, 3, 205)),
    (361, (1, 1, 5, 9, 19, 21, 29, 157)),
    (369, (1, 3, 7, 11, 1, 33, 89, 185)),
    (391, (1, 3, 3, 3, 15, 9, 79, 71)),
    (397, (1, 3, 7, 11, 15, 39, 119, 27)),
    (425, (1, 1, 3, 1, 11, 31, 97, 225)),
    (451, (1, 1, 1, 3, 23, 43, 57, 177)),
    (463, (1, 3, 7, 7, 17, 17, 37, 71)),
    (487, (1, 3, 1, 5, 27, 63, 123, 213)),
    (501, (1, 1, 3, 5, 11, 43, 53, 133)),
    (529, (1, 3, 5, 5, 29, 17, 47, 173, 479)),
    (539, (1, 3, 3, 11, 3, 1, 109, 9, 69)),
    (545, (1, 1, 1, 5, 17, 39, 23, 5, 343)),
    (557, (1, 3, 1, 5, 25, 15, 31, 103, 499)),
    (563, (1, 1, 1, 11, 11, 17, 63, 105, 183)),
    (601, (1, 1, 5, 11, 9, 29, 97, 231, 363)),
    (607, (1, 1, 5, 15, 19, 45, 41, 7, 383)),
    (617, (1, 3, 7, 7, 31, 19, 83, 137, 221)),
    (623, (1, 1, 1, 3, 23, 15, 111, 223, 83)),
    (631, (1, 1, 5, 13, 31, 15, 55, 25, 161)),
    (637, (1, 1, 3, 13, 25, 47, 39, 87, 257)),
    (647, (1, 1, 1, 11, 21, 53, 125, 249, 293)),
    (661, (1, 1, 7, 11, 11, 7, 57, 79, 323)),
    (675, (1, 1, 5, 5, 17, 13, 81, 3, 131)),
    (677, (1, 1, 7, 13, 23, 7, 65, 251, 475)),
    (687, (1, 3, 5, 1, 9, 43, 3, 149, 11)),
    (695, (1, 1, 3, 13, 31, 13, 13, 255, 487)),
    (701, (1, 3, 3, 1, 5, 63, 89, 91, 127)),
    (719, (1, 1, 3, 3, 1, 19, 123, 127, 237)),
    (721, (1, 1, 5, 7, 23, 31, 37, 243, 289)),
    (731, (1, 1, 5, 11, 17, 53, 117, 183, 491)),
    (757, (1, 1, 1, 5, 1, 13, 13, 209, 345)),
    (761, (1, 1, 3, 15, 1, 57, 115, 7, 33)),
    (787, (1, 3, 1, 11, 7, 43, 81, 207, 175)),
    (789, (1, 3, 1, 1, 15, 27, 63, 255, 49)),
    (799, (1, 3, 5, 3, 27, 61, 105, 171, 305)),
    (803, (1, 1, 5, 3, 1, 3, 57, 249, 149)),
    (817, (1, 1, 3, 5, 5, 57, 15, 13, 159)),
    (827, (1, 1, 1, 11, 7, 11, 105, 141, 225)),
    (847, (1, 3, 3, 5, 27, 59, 121, 101, 271)),
    (859, (1, 3, 5, 9, 11, 49, 51, 59, 115)),
    (865, (1, 1, 7, 1, 23, 45, 125, 71, 419)),
    (875, (1, 1, 3, 5, 23, 5, 105, 109, 75)),
    (877, (1, 1, 7, 15, 7, 11, 67, 121, 453)),
    (883, (1, 3, 7, 3, 9, 13, 31, 27, 449)),
    (895, (1, 3, 1, 15, 19, 39, 39, 89, 15)),
    (901, (1, 1, 1, 1, 1, 33, 73, 145, 379)),
    (911, (1, 3, 1, 15, 15, 43, 29, 13, 483)),
    (949, (1, 1, 7, 3, 19, 27, 85, 131, 431)),
    (953, (1, 3, 3, 3, 5, 35, 23, 195, 349)),
    (967, (1, 3, 3, 7, 9, 27, 39, 59, 297)),
    (971, (1, 1, 3, 9, 11, 17, 13, 241, 157)),
    (973, (1, 3, 7, 15, 25, 57, 33, 189, 213)),
    (981, (1, 1, 7, 1, 9, 55, 73, 83, 217)),
    (985, (1, 3, 3, 13, 19, 27, 23, 113, 249)),
    (995, (1, 3, 5, 3, 23, 43, 3, 253, 479)),
    (1001, (1, 1, 5, 5, 11, 5, 45, 117, 217)),
    (1019, (1, 3, 3, 7, 29, 37, 33, 123, 147)),
    (1033, (1, 3, 1, 15, 5, 5, 37, 227, 223, 459)),
    (1051, (1, 1, 7, 5, 5, 39, 63, 255, 135, 487)),
    (1063, (1, 3, 1, 7, 9, 7, 87, 249, 217, 599)),
    (1069, (1, 1, 3, 13, 9, 47, 7, 225, 363, 247)),
    (1125, (1, 3, 7, 13, 19, 13, 9, 67, 9, 737)),
    (1135, (1, 3, 5, 5, 19, 59, 7, 41, 319, 677)),
    (1153, (1, 1, 5, 3, 31, 63, 15, 43, 207, 789)),
    (1163, (1, 1, 7, 9, 13, 39, 3, 47, 497, 169)),
    (1221, (1, 3, 1, 7, 21, 17, 97, 19, 415, 905)),
    (1239, (1, 3, 7, 1, 3, 31, 71, 111, 165, 127)),
    (1255, (1, 1, 5, 11, 1, 61, 83, 119, 203, 847)),
    (1267, (1, 3, 3, 13, 9, 61, 19, 97, 47, 35)),
    (1279, (1, 1, 7, 7, 15, 29, 63, 95, 417, 469)),
    (1293, (1, 3, 1, 9, 25, 9, 71, 57, 213, 385)),
    (1305, (1, 3, 5, 13, 31, 47, 101, 57, 39, 341)),
    (1315, (1, 1, 3, 3, 31, 57, 125, 173, 365, 551)),
    (1329, (1, 3, 7, 1, 13, 57, 67, 157, 451, 707)),
    (1341, (1, 1, 1, 7, 21, 13, 105, 89, 429, 965)),
    (1347, (1, 1, 5, 9, 17, 51, 45, 119, 157, 141)),
    (1367, (1, 3, 7, 7, 13, 45, 91, 9, 129, 741)),
    (1387, (1, 3, 7, 1, 23, 57, 67, 141, 151, 571)),
    (1413, (1, 1, 3, 11, 17, 47, 93, 107, 375, 157)),
    (1423, (1, 3, 3, 5, 11, 21, 43, 51, 169, 915)),
    (1431, (1, 1, 5, 3, 15, 55, 101, 67, 455, 625)),
    (1441, (1, 3, 5, 9, 1, 23, 29, 47, 345, 595)),
    (1479, (1, 3, 7, 7, 5, 49, 29, 155, 323, 589)),
    (1509, (1, 3, 3, 7, 5, 41, 127, 61, 261, 717)),
)
"""Per dimension: the primitive polynomial (scipy's encoding, 2a + 2**s + 1) and its ``s`` initial
direction numbers, the first rows of scipy's ``_sobol_direction_numbers.npz`` (Joe & Kuo's
new-joe-kuo-6.21201 with the degenerate first dimension, whose direction numbers are all 1)."""

EMBEDDED_DIMENSIONS: Final = len(JOE_KUO)
