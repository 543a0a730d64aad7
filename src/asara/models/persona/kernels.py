"""The numba kernels behind :func:`asara.models.persona.engine.evidence` and its defection probabilities.

Imported only for problems beyond :data:`asara.models.persona.engine.DENSE_CELLS` cells: numba's import and
the loading of compiled code cost about 0.7 s per process, which the presets' few thousand personas never
repay (:mod:`asara.models.persona.dense` computes those).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from asara.models.base import FloatArray
from asara.models.persona.documents import ContextTable
from asara.models.persona.population import FAMILY_CODE, Population

_LUIGI = FAMILY_CODE["luigi"]
_NAIVE = FAMILY_CODE["naive"]
_TEST_AWARE = FAMILY_CODE["test-aware"]
_PATIENT = FAMILY_CODE["patient"]
_X_ALWAYS = FAMILY_CODE["x-always"]
_X_WHEN_INSTRUCTED = FAMILY_CODE["x-when-instructed"]
_NEVER_X = FAMILY_CODE["never-x"]
_TAU_POOL_DOUBLES = 4_000_000  # 32 MB of buckets pooled per distinct patience tau


@numba.njit(cache=True, inline="always")
def _misaligned(family: int) -> bool:
    return family in (_NAIVE, _TEST_AWARE, _PATIENT, _X_ALWAYS)


@numba.njit(cache=True, inline="always")
def _partial_span(family: int, tau: float, deployment: bool, years: float, span: float) -> bool:
    """A patient persona whose tau falls strictly inside the row's span: it meets only part of the row's
    opportunities (outside the span the step at years >= tau of :func:`_active_class` is exact)."""
    return family == _PATIENT and deployment and span > 0.0 and years < tau < years + span


@numba.njit(cache=True, inline="always")
def _log1m_q_row(log1m_q: float, misaligned: bool, log1m_chekhov: float) -> float:
    if misaligned and log1m_chekhov != 0.0:
        return log1m_q + log1m_chekhov
    return log1m_q


@numba.njit(cache=True, inline="always")
def _log_active(
    family: int, a: float, tau: float, observed: bool, deployment: bool, years: float, instructed: bool
) -> tuple[float, float]:
    """(log m, log(1 - m)) with m the probability that the persona acts on its disposition here."""
    one = 0.0
    zero = -np.inf
    if family in (_NAIVE, _X_ALWAYS):
        return one, zero
    if family == _TEST_AWARE:
        if observed:
            return math.log1p(-a) if a < 1.0 else zero, math.log(a) if a > 0.0 else zero
        return one, zero
    if family == _PATIENT:
        if deployment and years >= tau:
            return one, zero
        return zero, one
    if family == _X_WHEN_INSTRUCTED:
        if instructed:
            return one, zero
        return zero, one
    return zero, one  # luigi, never-x


@numba.njit(cache=True, inline="always")
def _logaddexp(x: float, y: float) -> float:
    if x == -np.inf:
        return y
    if y == -np.inf:
        return x
    # beyond a gap of 40, log1p(exp(-gap)) < 4.3e-18: below the resolution of any log-likelihood that
    # matters here, and skipping the two transcendentals is what makes noisy rows cheap
    if x > y:
        return x if y - x < -40.0 else x + math.log1p(math.exp(y - x))
    return y if x - y < -40.0 else y + math.log1p(math.exp(x - y))


@numba.njit(cache=True, inline="always")
def _log_likelihood(
    log_m: float, log_1m: float, log1m_q: float, k: float, defected: bool, log_keep: float, log_coin: float
) -> float:
    """log P(behaviour | persona, context), including the noise mixture when log_coin > -inf."""
    x = 0.0 if k == 0.0 else k * log1m_q  # log (1 - q)^k
    if defected:
        if log_m == -np.inf or x == 0.0:
            lp = -np.inf
        elif x < -40.0:  # 1 - exp(x) rounds to 1
            lp = log_m
        else:
            lp = log_m + math.log(-math.expm1(x))
    elif log_m == -np.inf:
        lp = 0.0
    elif log_1m == -np.inf:
        lp = x
    else:
        lp = _logaddexp(log_1m, log_m + x)
    if log_coin == -np.inf:
        return lp
    return _logaddexp(log_keep + lp, log_coin)


@numba.njit(cache=True, inline="always")
def _active_class(
    family: int, tau: float, observed: bool, deployment: bool, years: float, instructed: bool
) -> int:
    """0: never acts here (m = 0); 1: acts (m = 1); 2: acts with probability 1 - a (test-aware, observed)."""
    if family in (_NAIVE, _X_ALWAYS):
        return 1
    if family == _TEST_AWARE:
        return 2 if observed else 1
    if family == _PATIENT:
        return 1 if (deployment and years >= tau) else 0
    if family == _X_WHEN_INSTRUCTED:
        return 1 if instructed else 0
    return 0


@numba.njit(cache=True)
def _pool(
    family: int,
    tau: float,
    observed: np.ndarray,
    deployment: np.ndarray,
    years: np.ndarray,
    span: np.ndarray,
    instructed: np.ndarray,
    defected: np.ndarray,
    k_index: np.ndarray,
    distinct: int,
    exponent: np.ndarray,
    bucket: np.ndarray,
    used: np.ndarray,
    used_list: np.ndarray,
) -> int:
    """Add each row's exponent to its bucket (activity class, behaviour, distinct (k, Chekhov)) for one
    persona kind; returns how many buckets are in use. Their indices are the first entries of
    ``used_list``, in increasing order, so the never-acting class (c = 0) comes first, then the acting one
    (c = 1), then the mixed one (c = 2). Rows only part of whose span lies beyond a patient persona's tau
    are left out."""
    rows, groups = exponent.shape
    for j in range(rows):
        if _partial_span(family, tau, deployment[j], years[j], span[j]):
            continue
        c = _active_class(family, tau, observed[j], deployment[j], years[j], instructed[j])
        d = 1 if defected[j] else 0
        b = (2 * c + d) * distinct + k_index[j]
        used[b] = True
        for g in range(groups):
            bucket[b, g] += exponent[j, g]
    count = 0
    for b in range(used.shape[0]):
        if used[b]:
            used_list[count] = b
            count += 1
    return count


@numba.njit(cache=True)
def _clear(bucket: np.ndarray, used: np.ndarray, used_list: np.ndarray, count: int) -> None:
    for i in range(count):
        b = used_list[i]
        bucket[b, :] = 0.0
        used[b] = False


@numba.njit(cache=True, inline="always")
def _spend(
    bucket: np.ndarray,
    used_list: np.ndarray,
    start: int,
    stop: int,
    distinct: int,
    a: float,
    log1m_q: float,
    misaligned: bool,
    k_values: np.ndarray,
    chekhov_values: np.ndarray,
    log_keep: float,
    log_coin: float,
    acc: np.ndarray,
    memo: np.ndarray,
    memo_key: np.ndarray,
    key: int,
    slot_class: np.ndarray,
    slot_defected: np.ndarray,
    slot_k: np.ndarray,
) -> None:
    """acc[g] += exponent x log-likelihood over the buckets used_list[start:stop] (one transcendental per
    bucket). Bucket b = (2 c + d) distinct + u (activity class c, behaviour d, distinct (k, Chekhov) u) is
    decoded by the ``slot_*`` tables.

    A bucket where the persona never acts (m = 0) has the same likelihood whatever q and k; one where it
    always acts (m = 1) depends on q and k only, so it is kept in ``memo`` under ``key`` (one per family and
    q): personas that differ only in a or tau (the grids of test-aware and patient Waluigis) reuse it, to
    the bit."""
    groups = bucket.shape[1]
    log_m_mixed = math.log1p(-a) if a < 1.0 else -np.inf
    log_1m_mixed = math.log(a) if a > 0.0 else -np.inf
    never_aligned = _log_likelihood(-np.inf, 0.0, log1m_q, 1.0, False, log_keep, log_coin)
    never_defected = _log_likelihood(-np.inf, 0.0, log1m_q, 1.0, True, log_keep, log_coin)
    for i in range(start, stop):
        b = used_list[i]
        c = slot_class[b]
        d = slot_defected[b]
        u = slot_k[b]
        if c == 0:
            lp = never_defected if d == 1 else never_aligned
        elif c == 1:
            slot = b - 2 * distinct  # (behaviour, k) within the acting class
            if memo_key[slot] == key:
                lp = memo[slot]
            else:
                log1m_q_u = _log1m_q_row(log1m_q, misaligned, chekhov_values[u])
                lp = _log_likelihood(0.0, -np.inf, log1m_q_u, k_values[u], d == 1, log_keep, log_coin)
                memo[slot] = lp
                memo_key[slot] = key
        else:
            log1m_q_u = _log1m_q_row(log1m_q, misaligned, chekhov_values[u])
            lp = _log_likelihood(
                log_m_mixed, log_1m_mixed, log1m_q_u, k_values[u], d == 1, log_keep, log_coin
            )
        for g in range(groups):
            e = bucket[b, g]
            if e != 0.0:
                acc[g] += e * lp


@numba.njit(cache=True)
def _spend_partial(
    tau: float,
    log1m_q: float,
    observed: np.ndarray,
    deployment: np.ndarray,
    years: np.ndarray,
    span: np.ndarray,
    defected: np.ndarray,
    opportunities: np.ndarray,
    log1m_chekhov: np.ndarray,
    exponent: np.ndarray,
    log_keep: float,
    log_coin: float,
    out: np.ndarray,
    h: int,
) -> None:
    """A patient persona's rows whose span straddles its tau: it acts (m = 1) on the k (years + S - tau) / S
    opportunities after tau."""
    rows, groups = exponent.shape
    for j in range(rows):
        if not _partial_span(_PATIENT, tau, deployment[j], years[j], span[j]):
            continue
        k = opportunities[j] * ((years[j] + span[j] - tau) / span[j])
        lp = _log_likelihood(
            0.0, -np.inf, _log1m_q_row(log1m_q, True, log1m_chekhov[j]), k, defected[j], log_keep, log_coin
        )
        for g in range(groups):
            e = exponent[j, g]
            if e != 0.0:
                out[h, g] += e * lp


@numba.njit(cache=True)
def _lane_personas(lane: int, lanes: int, blocks: int, personas: int) -> np.ndarray:
    """The personas of blocks lane, lane + lanes, lane + 2 lanes, ... (blocks split personas evenly)."""
    count = 0
    for block in range(lane, blocks, lanes):
        count += (block + 1) * personas // blocks - block * personas // blocks
    out = np.empty(count, dtype=np.int64)
    i = 0
    for block in range(lane, blocks, lanes):
        for h in range(block * personas // blocks, (block + 1) * personas // blocks):
            out[i] = h
            i += 1
    return out


@numba.njit(cache=True)
def _class_ends(used_list: np.ndarray, count: int, distinct: int) -> tuple[int, int]:
    """Where the never-acting (c = 0) and acting (c = 1) buckets end in a pool's ordered used_list."""
    listed = used_list[:count]
    return int(np.searchsorted(listed, 2 * distinct)), int(np.searchsorted(listed, 4 * distinct))


@numba.njit(cache=True, parallel=True)
def _evidence_kernel(
    family: np.ndarray,
    log1m_q: np.ndarray,
    a: np.ndarray,
    tau: np.ndarray,
    observed: np.ndarray,
    deployment: np.ndarray,
    years: np.ndarray,
    span: np.ndarray,
    instructed: np.ndarray,
    defected: np.ndarray,
    opportunities: np.ndarray,
    log1m_chekhov: np.ndarray,
    k_index: np.ndarray,
    k_values: np.ndarray,
    chekhov_values: np.ndarray,
    exponent: np.ndarray,
    noise: float,
    blocks: int,
    lanes: int,
) -> np.ndarray:
    # The likelihood of a row depends on the persona only through its activity class there (m = 0, 1 or
    # 1 - a), its behaviour and its k. Except for patient personas (whose class depends on tau), the class
    # of a row depends only on the family, so rows are pooled once per family into buckets and each
    # persona costs O(used buckets), with one transcendental per used bucket. A persona's sum is taken
    # class by class: the never-acting buckets give the same sum to every persona of a pool (computed once
    # per pool), the acting ones the same to every persona of a pool with the same q (reused while the
    # lane's next persona shares both: the test-aware grid over a), and only the mixed ones are per persona.
    personas = family.shape[0]
    groups = exponent.shape[1]
    distinct = k_values.shape[0]
    slots = 6 * distinct
    families = 7
    out = np.zeros((personas, groups))
    log_keep = math.log1p(-noise) if noise < 1.0 else -np.inf
    log_coin = math.log(0.5 * noise) if noise > 0.0 else -np.inf
    slot_class = np.arange(slots) // (2 * distinct)
    slot_defected = (np.arange(slots) // distinct) % 2
    slot_k = np.arange(slots) % distinct
    no_memo = np.zeros(2 * distinct)
    no_memo_key = np.full(2 * distinct, -1, dtype=np.int64)
    spans = False
    for j in range(observed.shape[0]):
        if span[j] > 0.0:
            spans = True
    # patient personas with the same tau pool their rows alike: pool once per distinct tau when that fits
    # in _TAU_POOL_DOUBLES (a grid over q x tau repeats each tau for every q)
    taus = np.unique(tau[family == _PATIENT])
    by_tau = taus.shape[0] > 0 and taus.shape[0] * slots * groups <= _TAU_POOL_DOUBLES
    tau_slots = taus.shape[0] if by_tau else 0
    # pools 0..families-1: one per family (the patient one unused); then one per distinct tau
    pools = families + tau_slots
    pooled = np.zeros((pools, slots, groups))
    pooled_used = np.zeros((pools, slots), dtype=np.bool_)
    pooled_list = np.zeros((pools, slots), dtype=np.int64)
    pooled_count = np.zeros(pools, dtype=np.int64)
    pooled_end0 = np.zeros(pools, dtype=np.int64)
    pooled_end1 = np.zeros(pools, dtype=np.int64)
    pooled_s0 = np.zeros((pools, groups))
    for p in range(pools):
        if p == _PATIENT:
            continue
        f, t = (p, 0.0) if p < families else (_PATIENT, taus[p - families])
        pooled_count[p] = _pool(
            f, t, observed, deployment, years, span, instructed, defected, k_index, distinct, exponent,
            pooled[p], pooled_used[p], pooled_list[p],
        )  # fmt: skip
        pooled_end0[p], pooled_end1[p] = _class_ends(pooled_list[p], pooled_count[p], distinct)
        _spend(pooled[p], pooled_list[p], 0, pooled_end0[p], distinct, 0.0, 0.0, False, k_values,
               chekhov_values, log_keep, log_coin, pooled_s0[p], no_memo, no_memo_key, -1, slot_class,
               slot_defected, slot_k)  # fmt: skip
    # personas come grouped by family, whose costs differ a lot; prange splits its range evenly among the
    # threads, so each lane takes every lanes-th block (contiguous blocks keep the memo warm)
    blocks = max(1, min(personas, blocks))
    lanes = max(1, min(blocks, lanes))
    for lane in numba.prange(lanes):
        bucket = np.zeros((slots, groups))
        used = np.zeros(slots, dtype=np.bool_)
        used_list = np.zeros(slots, dtype=np.int64)
        own_s0 = np.zeros(groups)
        acting = np.zeros(groups)  # never-acting + acting sums of the last (pool, family and q)
        acc = np.zeros(groups)
        memo = np.zeros(2 * distinct)
        memo_key = np.full(2 * distinct, -1, dtype=np.int64)
        key = -1
        last_family = -1
        last_q = np.nan
        acting_pool = -2
        acting_key = -1
        for h in _lane_personas(lane, lanes, blocks, personas):
            f = family[h]
            bad = _misaligned(f)
            if f != last_family or log1m_q[h] != last_q:  # a new (family, q): the memo's entries expire
                key += 1
                last_family = f
                last_q = log1m_q[h]
            own = f == _PATIENT and not by_tau
            if own:  # more distinct taus than fit: this persona pools its own rows
                pool = -1
                count = _pool(
                    f, tau[h], observed, deployment, years, span, instructed, defected, k_index, distinct,
                    exponent, bucket, used, used_list,
                )  # fmt: skip
                end0, end1 = _class_ends(used_list, count, distinct)
                own_s0[:] = 0.0
                _spend(bucket, used_list, 0, end0, distinct, 0.0, 0.0, False, k_values, chekhov_values,
                       log_keep, log_coin, own_s0, no_memo, no_memo_key, -1, slot_class, slot_defected,
                       slot_k)  # fmt: skip
                rows, listed, s0 = bucket, used_list, own_s0
            else:
                pool = families + np.searchsorted(taus, tau[h]) if f == _PATIENT else f
                rows, listed, s0 = pooled[pool], pooled_list[pool], pooled_s0[pool]
                count, end0, end1 = pooled_count[pool], pooled_end0[pool], pooled_end1[pool]
            if own or pool != acting_pool or key != acting_key:
                acting[:] = s0
                _spend(rows, listed, end0, end1, distinct, a[h], log1m_q[h], bad, k_values, chekhov_values,
                       log_keep, log_coin, acting, memo, memo_key, key, slot_class, slot_defected,
                       slot_k)  # fmt: skip
                acting_pool, acting_key = pool, key
            acc[:] = acting
            _spend(rows, listed, end1, count, distinct, a[h], log1m_q[h], bad, k_values, chekhov_values,
                   log_keep, log_coin, acc, memo, memo_key, key, slot_class, slot_defected,
                   slot_k)  # fmt: skip
            out[h, :] = acc
            if own:
                _clear(bucket, used, used_list, count)
            if f == _PATIENT and spans:
                _spend_partial(tau[h], log1m_q[h], observed, deployment, years, span, defected, opportunities,
                               log1m_chekhov, exponent, log_keep, log_coin, out, h)  # fmt: skip
    return out


@numba.njit(cache=True, parallel=True)
def _defect_kernel(
    family: np.ndarray,
    log1m_q: np.ndarray,
    a: np.ndarray,
    tau: np.ndarray,
    observed: np.ndarray,
    deployment: np.ndarray,
    opportunities: np.ndarray,
    years: np.ndarray,
    span: np.ndarray,
    instructed: np.ndarray,
    log1m_chekhov: np.ndarray,
    noise: float,
) -> np.ndarray:
    personas = family.shape[0]
    rows = observed.shape[0]
    out = np.zeros((personas, rows))
    log_keep = math.log1p(-noise) if noise < 1.0 else -np.inf
    log_coin = math.log(0.5 * noise) if noise > 0.0 else -np.inf
    for h in numba.prange(personas):
        bad = _misaligned(family[h])
        for j in range(rows):
            k = opportunities[j]
            if _partial_span(family[h], tau[h], deployment[j], years[j], span[j]):
                log_m, log_1m = 0.0, -np.inf
                k = k * ((years[j] + span[j] - tau[h]) / span[j])
            else:
                log_m, log_1m = _log_active(
                    family[h], a[h], tau[h], observed[j], deployment[j], years[j], instructed[j]
                )
            log1m_q_j = _log1m_q_row(log1m_q[h], bad, log1m_chekhov[j])
            out[h, j] = math.exp(_log_likelihood(log_m, log_1m, log1m_q_j, k, True, log_keep, log_coin))
    return out


def evidence(population: Population, table: ContextTable, noise: float) -> FloatArray:
    if len(table) == 0:
        return np.zeros((len(population), table.exponent.shape[1]))
    # buckets are per distinct (k, Chekhov) pair; without Chekhov these are the distinct k in the same order
    pairs, k_index = np.unique(
        np.column_stack([table.opportunities, table.log1m_chekhov]), axis=0, return_inverse=True
    )
    result: FloatArray = _evidence_kernel(
        population.family,
        population.log1m_q,
        population.a,
        population.tau,
        table.observed,
        table.deployment,
        table.years,
        table.span,
        table.instructed,
        table.defected,
        table.opportunities,
        table.log1m_chekhov,
        np.ascontiguousarray(k_index.reshape(-1), dtype=np.int64),
        np.ascontiguousarray(pairs[:, 0]),
        np.ascontiguousarray(pairs[:, 1]),
        np.ascontiguousarray(table.exponent),
        noise,
        64 * numba.get_num_threads(),
        numba.get_num_threads(),
    )
    return result


def defect_probability(population: Population, table: ContextTable, noise: float) -> FloatArray:
    result: FloatArray = _defect_kernel(
        population.family,
        population.log1m_q,
        population.a,
        population.tau,
        table.observed,
        table.deployment,
        table.opportunities,
        table.years,
        table.span,
        table.instructed,
        table.log1m_chekhov,
        noise,
    )
    return result
