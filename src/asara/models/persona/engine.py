"""Log-space Bayesian updates of a persona population over counted context types.

For persona h and context row j with exponent e_j = sum(w * c * copies), the evidence is

    s_h = sum_j e_j log P(behaviour_j | h, context_j),

computed once in O(personas x rows), whatever the number of documents. The posterior after the corpus
scaled by a factor n is  log pi_h + n s_h  (normalized by logsumexp), so curves over document counts,
half-lives and limits cost O(personas) per point. A document noise nu mixes every likelihood with a coin:
P_nu = (1 - nu) P + nu / 2 (nu = 0 is the noiseless model of the closed forms).

Two document attributes change a row's likelihood for some personas only. A row spanning S > 0 years
spreads its k opportunities over [years, years + S]: a patient persona with tau inside the span meets
k (years + S - tau) / S of them. A fiction row with Chekhov's gun c > 0 gives each misaligned persona
log(1 - q') = log(1 - q) + log(1 - c).

The likelihoods come from :mod:`asara.models.persona.dense` (a numpy matrix, for small problems) or
:mod:`asara.models.persona.kernels` (numba, pooling rows into buckets, for large ones).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
from scipy import special

from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.persona import dense
from asara.models.persona.documents import ContextTable
from asara.models.persona.population import MISALIGNED, Population, normalize

DENSE_CELLS = 1 << 16
"""Problems of at most this many (persona, context row) cells are computed in numpy (:mod:`dense`), larger
ones by the numba kernels (:mod:`kernels`), whose per-process loading cost only large problems repay. The
two agree to rounding; a given problem always takes the same path."""


def _check_noise(noise: float) -> float:
    if not (0.0 <= noise <= 1.0):
        raise InputError(f"must lie in [0, 1] (got {noise})", field="noise")
    return float(noise)


_MEMO: contextvars.ContextVar[dict[tuple[str, bytes], FloatArray] | None] = contextvars.ContextVar(
    "persona_engine_memo", default=None
)


@contextlib.contextmanager
def memoized() -> Iterator[None]:
    """Within the block, :func:`evidence` and :func:`defect_probability` compute each distinct input once
    (the key is every input array's exact bytes, so a hit returns what the kernel would): an explanation's
    subsets share their personas and documents in many combinations."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _input_key(population: Population, table: ContextTable, noise: float) -> bytes:
    digest = hashlib.blake2b(digest_size=32)
    for holder in (population, table):
        for item in fields(holder):
            if item.name == "log_prior":  # the kernels never read it
                continue
            array = np.ascontiguousarray(getattr(holder, item.name))
            digest.update(f"{item.name}:{array.dtype.str}:{array.shape};".encode())
            digest.update(array.tobytes())
    digest.update(np.float64(noise).tobytes())
    return digest.digest()


def _remembered(
    kind: str, population: Population, table: ContextTable, noise: float, compute: Callable[[], FloatArray]
) -> FloatArray:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    key = (kind, _input_key(population, table, noise))
    if key not in memo:
        memo[key] = compute()
    return memo[key].copy()


def evidence(population: Population, table: ContextTable, noise: float = 0.0) -> FloatArray:
    """s[h, g] = sum_j exponent[j, g] log P(doc_j | h): one column per exponent group. May hold -inf."""
    noise = _check_noise(noise)
    return _remembered("evidence", population, table, noise, lambda: _evidence(population, table, noise))


def defect_probability(population: Population, table: ContextTable, noise: float = 0.0) -> FloatArray:
    """P(defects at least once | h, context) for each persona and context row, shape (personas, rows)."""
    noise = _check_noise(noise)
    return _remembered("defect", population, table, noise, lambda: _defect(population, table, noise))


def _dense(population: Population, table: ContextTable) -> bool:
    """Whether the problem is small enough for the dense numpy path (decided by its shape alone)."""
    return len(population) * len(table) <= DENSE_CELLS


def _evidence(population: Population, table: ContextTable, noise: float) -> FloatArray:
    if len(table) == 0:
        return np.zeros((len(population), table.exponent.shape[1]))
    if _dense(population, table):
        return dense.evidence(population, table, noise)
    from asara.models.persona import kernels

    return kernels.evidence(population, table, noise)


def _defect(population: Population, table: ContextTable, noise: float) -> FloatArray:
    if _dense(population, table):
        return dense.defect_probability(population, table, noise)
    from asara.models.persona import kernels

    return kernels.defect_probability(population, table, noise)


def scaled_log_posterior(log_prior: FloatArray, s: FloatArray, n: float) -> FloatArray:
    """Normalized log posterior after n times the evidence s (n = 0 is the prior, even where s = -inf)."""
    if n == 0:
        return normalize(log_prior)
    finite = np.isfinite(s)
    # shifting s by a constant leaves the posterior unchanged; it keeps the best persona at n * 0 even when
    # n * s would overflow for every persona
    top = float(s[finite].max()) if np.any(finite) else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        unnormalized = np.where(finite, log_prior + n * (s - top), -np.inf)
    if not np.any(np.isfinite(unnormalized)):
        raise InputError(
            "the corpus is impossible under every persona (add noise or an aligned persona)",
            field="documents",
        )
    return normalize(unnormalized)


def posterior(population: Population, table: ContextTable, noise: float = 0.0) -> Population:
    """Exact (tempered by w * c) Bayes: the population with its posterior as the new prior."""
    s = evidence(population, table, noise)[:, 0]
    return population.with_log_prior(scaled_log_posterior(population.log_prior, s, 1.0))


def log_mass(log_weights: FloatArray, mask: np.ndarray) -> float:
    if not np.any(mask):
        return -math.inf
    return float(special.logsumexp(log_weights[mask]))


def family_shares(population: Population, log_weights: FloatArray) -> dict[str, float]:
    return {
        name: math.exp(log_mass(log_weights, population.family_mask(name)))
        for name in population.present_families()
    }


def log_odds(log_weights: FloatArray, bad: np.ndarray) -> float:
    """log(misaligned mass / aligned mass)."""
    return log_mass(log_weights, bad) - log_mass(log_weights, ~bad)


def half_life(log_prior: FloatArray, s: FloatArray, bad: np.ndarray, n: float) -> float:
    """Further documents (units of n) after which the misaligned : aligned odds halve; inf if never."""
    target = log_odds(scaled_log_posterior(log_prior, s, n), bad) - math.log(2.0)
    if not math.isfinite(target):
        return math.inf

    # the log odds at n + delta > 0 without normalizing (the normalizer cancels) and over the finite
    # evidence only (an impossible persona has weight 0 at any positive count); shifted by the largest
    # evidence as in scaled_log_posterior, so that no term overflows
    finite = np.isfinite(s)
    top_s = float(s[finite].max()) if np.any(finite) else 0.0
    sides = [(log_prior[side & finite], s[side & finite] - top_s) for side in (bad, ~bad)]

    def side_mass(count: float, prior: FloatArray, shifted: FloatArray) -> float:
        with np.errstate(invalid="ignore", over="ignore"):  # -inf: a persona the count has ruled out
            terms = prior + count * shifted
        top = float(terms.max()) if terms.size else -math.inf
        if not math.isfinite(top):
            return top
        return top + math.log(float(np.exp(terms - top).sum()))

    def gap(delta: float) -> float:
        count = n + delta
        return side_mass(count, *sides[0]) - side_mass(count, *sides[1]) - target

    # the limit of the odds: only the personas with the largest evidence on each side survive
    finite_bad = s[bad & np.isfinite(s)]
    finite_good = s[~bad & np.isfinite(s)]
    if finite_bad.size == 0:
        return math.inf if finite_good.size == 0 else 0.0
    if finite_good.size == 0:
        return math.inf
    top_bad, top_good = finite_bad.max(), finite_good.max()
    if top_bad > top_good:
        return math.inf
    if top_bad == top_good:
        limit = log_mass(log_prior, bad & (s == top_bad)) - log_mass(log_prior, ~bad & (s == top_good))
        if limit >= target:
            return math.inf
    slope = _odds_slope(log_prior, s, bad, n)
    high = math.log(2.0) / -slope if slope < 0 else 1.0
    high = max(high, 1e-300)
    # bracket by steps growing geometrically (4, 16, 256, ...): an odds ratio falling like a log needs a
    # count near 1e300 before it halves
    low, factor = 0.0, 4.0
    while gap(high) > 0:
        low, high = high, high * factor
        factor = min(factor * factor, 1e16)
        if high > 1e300:
            return math.inf
    while low > 0 and high > 4.0 * low:  # narrow a wide step in log count, then Brent as usual
        middle = math.sqrt(low) * math.sqrt(high)  # low * high may overflow (q priors down to 1e-300)
        if gap(middle) > 0:
            low = middle
        else:
            high = middle
    from scipy import optimize  # only here: the generic model's users (sensitivity, explain) need no root

    return float(optimize.brentq(gap, low, high, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500))


def _odds_slope(log_prior: FloatArray, s: FloatArray, bad: np.ndarray, n: float) -> float:
    """d/dn of log odds: E_post[s | misaligned] - E_post[s | aligned]."""
    post = scaled_log_posterior(log_prior, s, n)
    slope = 0.0
    for mask, sign in ((bad, 1.0), (~bad, -1.0)):
        keep = mask & np.isfinite(s) & np.isfinite(post)
        if not np.any(keep):
            continue
        weights = np.exp(post[keep] - special.logsumexp(post[keep]))
        slope += sign * float(np.dot(weights, s[keep]))
    return slope


def decade_counts(maximum: float) -> list[float]:
    """1, 10, 100, ... up to ``maximum``, plus ``maximum`` itself when it is not a power of ten."""
    if not (math.isfinite(maximum) and maximum >= 1):
        raise InputError(f"must be at least 1 (got {maximum})", field="documents")
    counts: list[float] = []
    value = 1.0
    while value <= maximum * (1 + 1e-12):
        counts.append(value)
        value *= 10.0
    if counts[-1] < maximum * (1 - 1e-12):
        counts.append(float(maximum))
    return counts


@dataclass(frozen=True)
class CurvePoint:
    documents: float
    odds_ratio: float
    half_life: float
    misaligned_share: float
    shares: dict[str, float]


def curve(population: Population, s_per_document: FloatArray, counts: Sequence[float]) -> list[CurvePoint]:
    """Shares, odds ratio to the prior odds, and half-life at each document count (s per document)."""
    bad = population.misaligned_mask()
    prior_odds = log_odds(population.log_prior, bad)
    points = []
    for n in counts:
        post = scaled_log_posterior(population.log_prior, s_per_document, n)
        odds = log_odds(post, bad)
        if not math.isfinite(prior_odds):
            ratio = math.nan  # no aligned (or no misaligned) persona: the odds are not defined
        elif odds - prior_odds > 709.0:
            ratio = math.inf
        else:
            ratio = math.exp(odds - prior_odds)
        points.append(
            CurvePoint(
                documents=float(n),
                odds_ratio=ratio,
                half_life=half_life(population.log_prior, s_per_document, bad, n),
                misaligned_share=math.exp(log_mass(post, bad)),
                shares=family_shares(population, post),
            )
        )
    return points


@dataclass(frozen=True)
class Residual:
    """Misaligned mass the corpus can never remove: personas whose evidence equals the best aligned one."""

    prior_mass: float  # prior mass of untouched misaligned personas
    limit_share: float  # their share of the posterior as the corpus is repeated without end
    by_family: dict[str, float]  # prior mass per family


def residual(population: Population, s: FloatArray) -> Residual:
    bad = population.misaligned_mask()
    good_finite = s[~bad & np.isfinite(s)]
    if good_finite.size == 0:
        # nothing aligned survives (or exists): no corpus of this kind can remove any misaligned mass
        untouched = bad & np.isfinite(s)
        limit = 1.0 if np.any(untouched) else 0.0
    else:
        top = float(good_finite.max())
        untouched = bad & np.isfinite(s) & (s >= top)
        if np.any(bad & np.isfinite(s) & (s > top)):
            # some misaligned personas gain on every aligned one: repeated, the corpus makes them all
            limit = 1.0
        else:
            lu = log_mass(population.log_prior, untouched)
            lg = log_mass(population.log_prior, ~bad & (s == top))
            limit = 0.0 if lu == -math.inf else float(special.expit(lu - lg))
    by_family = {
        name: math.exp(log_mass(population.log_prior, untouched & population.family_mask(name)))
        for name in population.present_families()
        if name in MISALIGNED
    }
    return Residual(math.exp(log_mass(population.log_prior, untouched)), limit, by_family)


def misbehaviour_rate(
    population: Population,
    log_weights: FloatArray,
    evaluation: ContextTable,
    eval_weights: FloatArray | None = None,
    noise: float = 0.0,
) -> float:
    """sum_h posterior_h x (weighted mean over evaluation contexts of P(defect | h, context))."""
    if len(evaluation) == 0:
        raise InputError("the evaluation set is empty", field="evaluation")
    p = defect_probability(population, evaluation, noise)
    w = np.ones(len(evaluation)) if eval_weights is None else np.asarray(eval_weights, dtype=np.float64)
    rate_h = p @ (w / w.sum())
    return float(np.dot(np.exp(log_weights), rate_h))
