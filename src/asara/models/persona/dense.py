"""The persona likelihoods as one dense (personas x rows) numpy matrix: the engine's path for small problems.

The numba kernels (:mod:`asara.models.persona.kernels`) pool rows into buckets and scale to 1e5 personas x
1e3 context types, but numba's import and the loading of their compiled code cost about 0.7 s per process,
while the presets hold a few thousand personas and a handful of rows. Up to
:data:`asara.models.persona.engine.DENSE_CELLS` cells the engine computes here instead, with the same
formulas (see :mod:`asara.models.persona.engine`); tests hold the two paths to each other.
"""

from __future__ import annotations

import math

import numpy as np

from asara.models.base import FloatArray
from asara.models.persona.documents import ContextTable
from asara.models.persona.population import FAMILY_CODE, MISALIGNED, Population

_MISALIGNED_CODES = [FAMILY_CODE[name] for name in sorted(MISALIGNED)]
_GAP = -40.0  # as in the kernels: log1p(exp(-40)) is below the resolution of any log-likelihood here


def _logaddexp(x: FloatArray, y: FloatArray | float) -> FloatArray:
    """log(e^x + e^y), returning the larger term where the other is more than 40 nats below it."""
    top = np.maximum(x, y)
    with np.errstate(invalid="ignore"):
        gap = np.minimum(x, y) - top  # nan only where both are -inf
    result: FloatArray = np.where(
        ~(gap >= _GAP), top, top + np.log1p(np.exp(np.where(gap >= _GAP, gap, 0.0)))
    )
    return result


def log_likelihoods(
    population: Population, table: ContextTable, noise: float, defected: np.ndarray
) -> FloatArray:
    """log P(behaviour_j | h, context_j) for each persona h and row j; ``defected[j]`` picks the behaviour."""
    family = population.family[:, None]
    tau = population.tau[:, None]
    a = population.a[:, None]
    observed = table.observed[None, :]
    deployment = table.deployment[None, :]
    years = table.years[None, :]
    span = table.span[None, :]
    patient = family == FAMILY_CODE["patient"]
    # a patient persona whose tau lies strictly inside a row's span meets only the opportunities after tau
    partial = patient & deployment & (span > 0.0) & (years < tau) & (tau < years + span)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(partial, (years + span - tau) / span, 1.0)
    k = np.where(partial, table.opportunities[None, :] * share, table.opportunities[None, :])
    acts = (
        (family == FAMILY_CODE["naive"])
        | (family == FAMILY_CODE["x-always"])
        | ((family == FAMILY_CODE["test-aware"]) & ~observed)
        | (patient & ((deployment & (years >= tau)) | partial))
        | ((family == FAMILY_CODE["x-when-instructed"]) & table.instructed[None, :])
    )
    mixed = (family == FAMILY_CODE["test-aware"]) & observed  # acts with probability 1 - a
    with np.errstate(divide="ignore"):
        log_m = np.where(mixed, np.log1p(-a), np.where(acts, 0.0, -np.inf))
        log_1m = np.where(mixed, np.log(a), np.where(acts, -np.inf, 0.0))
    misaligned = np.isin(population.family, _MISALIGNED_CODES)[:, None]
    chekhov = table.log1m_chekhov[None, :]
    log1m_q = np.where(misaligned & (chekhov != 0.0), population.log1m_q[:, None] + chekhov,
                       population.log1m_q[:, None])  # fmt: skip
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.where(k == 0.0, 0.0, k * log1m_q)  # log (1 - q)^k
        never = (log_m == -np.inf) | (x == 0.0)
        tail = np.where(x < _GAP, 0.0, np.log(-np.expm1(np.minimum(x, -1e-300))))  # 1 - e^x rounds to 1
        defect = np.where(never, -np.inf, log_m + tail)
        stay = np.where(log_m == -np.inf, 0.0, np.where(log_1m == -np.inf, x, _logaddexp(log_1m, log_m + x)))
    lp: FloatArray = np.where(defected[None, :], defect, stay)
    if noise > 0.0:
        log_keep = math.log1p(-noise) if noise < 1.0 else -np.inf
        lp = _logaddexp(log_keep + lp, math.log(0.5 * noise))
    return lp


def evidence(population: Population, table: ContextTable, noise: float) -> FloatArray:
    """s[h, g] = sum_j exponent[j, g] log P(doc_j | h), as :func:`asara.models.persona.kernels.evidence`."""
    lp = log_likelihoods(population, table, noise, table.defected)
    out = np.zeros((len(population), table.exponent.shape[1]))
    for g in range(out.shape[1]):
        e = table.exponent[:, g]
        used = e != 0.0  # 0 x -inf is no evidence, not nan
        out[:, g] = (lp[:, used] * e[used]).sum(axis=1)
    return out


def defect_probability(population: Population, table: ContextTable, noise: float) -> FloatArray:
    """P(defects at least once | h, context_j), shape (personas, rows)."""
    result: FloatArray = np.exp(log_likelihoods(population, table, noise, np.ones(len(table), dtype=bool)))
    return result
