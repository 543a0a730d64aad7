"""Persona populations: behaviour policies with prior weights, as flat arrays over a grid or a sample.

A persona is a policy P(defect | context). Each family has a defect probability ``q`` per opportunity and
an *active probability* m(context): the chance that, in this context, the persona acts on its disposition
at all. Then, for a context with k opportunities,

    P(aligned throughout | h) = (1 - m) + m (1 - q)^k,      P(defected | h) = m (1 - (1 - q)^k).

Families (the integer codes are stored per persona):

* ``luigi`` (m = 0): never defects.
* ``naive`` (m = 1): defects with probability q at each opportunity.
* ``test-aware`` (q, a): defects only when it believes it is unobserved. In a test or monitored context it
  believes the situation is real with probability 1 - a, so m = 1 - a; unobserved deployment: m = 1.
* ``patient`` (q, tau): m = 1 in deployment contexts at least tau years into deployment, else 0.
* ``x-always`` (m = 1), ``x-when-instructed`` (m = 1 only when the context instructs X), ``never-x``
  (m = 0): the conditional personas of inoculation prompting.

A continuous prior over q is represented by quadrature nodes that are personas of their own: Beta priors use
the trapezoid rule in t = logit(q) (stretched exponentially beyond t = -100 and 80, where no corpus tells q
values apart, so that small shape parameters cost a few nodes more, not 40/a), which converges
geometrically for these smooth, fast-decaying integrands and reaches machine precision with a step of 0.2
(or 0.4 of the prior's logit width, if narrower), at any document count up to about e^60.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from asara.errors import InputError
from asara.models.base import FloatArray

FamilyName = Literal["luigi", "naive", "test-aware", "patient", "x-always", "x-when-instructed", "never-x"]
FAMILIES: tuple[FamilyName, ...] = (
    "luigi",
    "naive",
    "test-aware",
    "patient",
    "x-always",
    "x-when-instructed",
    "never-x",
)
FAMILY_CODE: dict[str, int] = {name: code for code, name in enumerate(FAMILIES)}
MISALIGNED: frozenset[str] = frozenset({"naive", "test-aware", "patient", "x-always"})
"""Families counted in the 'Waluigi' (misaligned) share; the others count as aligned."""

LOGIT_STEP = 0.2
_S_LOW = -100.0
_S_HIGH = 80.0
MAX_NODES = 100_000
"""Quadrature nodes per parameter prior (and personas per population: MAX_PERSONAS): bounded memory."""
MAX_PERSONAS = 2_000_000


@dataclass(frozen=True)
class Population:
    """Personas as parallel arrays; ``log_prior`` is normalized (logsumexp = 0)."""

    family: np.ndarray  # int64 family codes
    log_q: FloatArray  # log q
    log1m_q: FloatArray  # log(1 - q)
    a: FloatArray  # test-awareness skill (test-aware only; 0 elsewhere)
    tau: FloatArray  # patience in years (patient only; 0 elsewhere)
    log_prior: FloatArray

    def __len__(self) -> int:
        return int(self.family.shape[0])

    @property
    def q(self) -> FloatArray:
        return np.exp(self.log_q)

    def with_log_prior(self, log_prior: FloatArray) -> Population:
        """The same personas under another (normalized here) prior, e.g. a posterior."""
        return Population(self.family, self.log_q, self.log1m_q, self.a, self.tau, normalize(log_prior))

    def family_mask(self, name: str) -> np.ndarray:
        return np.asarray(self.family == FAMILY_CODE[name])

    def misaligned_mask(self) -> np.ndarray:
        codes = [FAMILY_CODE[name] for name in MISALIGNED]
        return np.isin(self.family, codes)

    def present_families(self) -> list[str]:
        codes = set(np.unique(self.family).tolist())
        return [name for name in FAMILIES if FAMILY_CODE[name] in codes]


def normalize(log_weights: FloatArray) -> FloatArray:
    """Log weights shifted so that their exponentials sum to one; an all-zero population is an error."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    if log_weights.size == 0:
        raise InputError("the persona set is empty", field="families")
    total = special.logsumexp(log_weights)
    if not np.isfinite(total):
        raise InputError("every persona has zero weight", field="families")
    return np.asarray(log_weights - total, dtype=np.float64)


@dataclass(frozen=True)
class Nodes:
    """A discretized one-dimensional prior: values (with their logs for q) and log weights summing to one."""

    values: FloatArray
    log_weights: FloatArray
    log_values: FloatArray | None = None
    log1m_values: FloatArray | None = None


def _stretch(s: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """t = phi(s) = s - e^(-(s - S_LOW)) + e^(s - S_HIGH) and log phi'(s).

    The identity where any corpus can tell q values apart (t between about -100 and 80), stretched
    exponentially beyond: a Beta shape a below 1 puts mass e^(a t) on the far left tail, over a length 40/a
    in t (40 million for a = 1e-6) but only log(40/a) in s. The map is analytic, so the trapezoid rule in s
    keeps its geometric convergence."""
    s = np.asarray(s, dtype=np.float64)
    with np.errstate(over="ignore"):
        left = np.exp(-(s - _S_LOW))
        right = np.exp(s - _S_HIGH)
    return s - left + right, np.log1p(left + right)


def _stretched(s: float) -> float:
    """phi(s) of :func:`_stretch` for one number (the bisection below calls it a few hundred times)."""
    return s - math.exp(min(-(s - _S_LOW), 700.0)) + math.exp(min(s - _S_HIGH, 700.0))


def _unstretch(t: float) -> float:
    """The s with phi(s) = t (phi is increasing), by bisection."""
    # beyond S_LOW (S_HIGH) the map is about S_LOW - e^(S_LOW - s) (S_HIGH + e^(s - S_HIGH))
    guess = max(t, _S_LOW - math.log1p(_S_LOW - t)) if t < _S_LOW else t
    guess = min(guess, _S_HIGH + math.log1p(t - _S_HIGH)) if t > _S_HIGH else guess
    low, high = guess - 1.0, guess + 1.0
    while _stretched(low) > t:
        low -= 1.0
    while _stretched(high) < t:
        high += 1.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        if _stretched(middle) < t:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def beta_step(alpha: float, beta: float) -> float:
    """Trapezoid step in s for q ~ Beta(alpha, beta): LOGIT_STEP, or 0.4 of the prior's width in logit
    space, sqrt(1/alpha + 1/beta), when that is narrower (the rule then still resolves its peak)."""
    return min(LOGIT_STEP, 0.4 * math.sqrt(1.0 / alpha + 1.0 / beta))


def beta_nodes(alpha: float, beta: float, step: float | None = None, field: str = "q") -> Nodes:
    """Trapezoid nodes for q ~ Beta(alpha, beta) in s, with t = logit(q) = phi(s) (:func:`_stretch`);
    q and 1 - q kept in log form exactly.

    The density of t is q^alpha (1 - q)^beta / B(alpha, beta) (the Jacobian dq/dt = q (1 - q) folded in),
    times phi'(s) in s. The nodes run from t = -(60 + 40/alpha) to 40 + 40/beta, where the density has
    fallen to about e^-40, so they cover document counts up to about e^60. Small shapes cost few nodes:
    the stretched tails take them in log(40/alpha) units of s."""
    if not (alpha > 0 and beta > 0 and math.isfinite(alpha) and math.isfinite(beta)):
        raise InputError(f"Beta parameters must be positive (got {alpha:g}, {beta:g})", field=field)
    step = beta_step(alpha, beta) if step is None else step
    low = _unstretch(-(60.0 + 40.0 / alpha))
    high = _unstretch(40.0 + 40.0 / beta)
    nodes = (high - low) / step
    if nodes > MAX_NODES:
        # the step follows the prior's width in logit space, 0.4 sqrt(1/alpha + 1/beta): a prior this narrow
        # needs more nodes than the bound
        raise InputError(
            f"Beta({alpha:g}, {beta:g}) needs {nodes:.3g} quadrature nodes, beyond the {MAX_NODES:,} "
            f"allowed: the prior is too narrow (keep the smaller shape below about 2e4)",
            field=field,
        )
    s = np.arange(low, high + step / 2, step)
    t, log_jacobian = _stretch(s)
    log_q = -np.logaddexp(0.0, -t)  # log sigmoid(t)
    log1m_q = -np.logaddexp(0.0, t)
    log_w = alpha * log_q + beta * log1m_q - special.betaln(alpha, beta) + math.log(step) + log_jacobian
    return Nodes(np.exp(log_q), log_w, log_q, log1m_q)


def grid_nodes(values: Sequence[float], weights: Sequence[float] | None, field: str) -> Nodes:
    """Explicit values with weights (equal when omitted); weights need not sum to one."""
    vals = np.asarray(values, dtype=np.float64)
    if vals.size == 0:
        raise InputError("needs at least one value", field=field)
    if vals.size > MAX_NODES:
        raise InputError(f"at most {MAX_NODES:,} values (got {vals.size:,})", field=field)
    if weights is None:
        w = np.ones_like(vals)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != vals.shape:
            raise InputError(f"{w.size} weights for {vals.size} values", field=field)
        if np.any(w < 0) or not np.any(w > 0):
            raise InputError("weights must be non-negative and not all zero", field=field)
    with np.errstate(divide="ignore"):
        return Nodes(vals, np.log(w / w.sum()))


def midpoint_nodes(low: float, high: float, points: int, log_scale: bool, field: str) -> Nodes:
    """Uniform (or log-uniform) prior on [low, high] by the midpoint rule with ``points`` nodes."""
    if not 1 <= points <= MAX_NODES:
        raise InputError(f"points must be between 1 and {MAX_NODES:,} (got {points:g})", field=field)
    if log_scale:
        if low <= 0:
            raise InputError(f"log-uniform needs low > 0 (got {low:g})", field=field)
        edges = np.linspace(math.log(low), math.log(high), points + 1)
        values = np.exp(0.5 * (edges[1:] + edges[:-1]))
    else:
        edges = np.linspace(low, high, points + 1)
        values = 0.5 * (edges[1:] + edges[:-1])
    return Nodes(values, np.full(points, -math.log(points)))


def q_logs(nodes: Nodes, field: str) -> tuple[FloatArray, FloatArray]:
    """(log q, log(1 - q)) for probability nodes, checking that each lies in [0, 1]."""
    if nodes.log_values is not None and nodes.log1m_values is not None:
        return nodes.log_values, nodes.log1m_values
    q = nodes.values
    if np.any(~np.isfinite(q)) or np.any(q < 0) or np.any(q > 1):
        bad = q[~((q >= 0) & (q <= 1))][0]
        raise InputError(f"probabilities must lie in [0, 1] (got {bad:g})", field=field)
    with np.errstate(divide="ignore"):
        return np.log(q), np.log1p(-q)


@dataclass(frozen=True)
class FamilySpec:
    """One family with its prior mass and the nodes of its parameters (q, a, tau as applicable)."""

    family: str
    weight: float
    q: Nodes | None = None
    a: Nodes | None = None
    tau: Nodes | None = None
    patience_hazard: float = 0.0
    """Patient family: yearly hazard h0 that a waiting Waluigi is caught or pre-empted, today."""
    hazard_growth: float = 0.0
    """Patient family: yearly growth g of that hazard as interpretability improves (h(t) = h0 e^(g t))."""
    rival_models: float = 0.0
    """Patient family: other models that could move first (first-mover advantage)."""
    rival_rate: float = 0.0
    """Patient family: yearly rate at which each rival moves; the first mover takes the opportunity, so a
    Waluigi waiting tau years keeps it with probability exp(-rival_models x rival_rate x tau)."""


def log_patience_survival(tau: FloatArray, hazard: float, growth: float) -> FloatArray:
    """log P(a Waluigi that waits tau years is not caught first) = -integral_0^tau h0 e^(g t) dt:
    -h0 tau for g = 0, -h0 (e^(g tau) - 1) / g otherwise. Zero hazard (the off switch) gives 0."""
    tau = np.asarray(tau, dtype=np.float64)
    if hazard == 0:
        return np.zeros_like(tau)
    if growth == 0:
        return np.asarray(-hazard * tau, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.asarray(-hazard * np.expm1(growth * tau) / growth, dtype=np.float64)


def build_population(specs: Sequence[FamilySpec]) -> Population:
    """The product grid of each family's parameter nodes, weighted by family mass x node weights."""
    if not specs:
        raise InputError("the persona set is empty", field="families")
    parts: dict[str, list[FloatArray]] = {k: [] for k in ("family", "log_q", "log1m_q", "a", "tau", "lw")}
    for index, spec in enumerate(specs):
        field = f"families.{index}"
        if spec.family not in FAMILY_CODE:
            raise InputError(f"unknown family {spec.family!r} (known: {', '.join(FAMILIES)})", field=field)
        if not (spec.weight >= 0 and math.isfinite(spec.weight)):
            raise InputError(f"must be a non-negative number (got {spec.weight})", field=f"{field}.weight")
        if spec.weight == 0:
            continue
        if spec.family in ("luigi", "never-x"):
            q = Nodes(np.zeros(1), np.zeros(1), np.full(1, -np.inf), np.zeros(1))
        else:
            if spec.q is None:
                raise InputError(f"family {spec.family!r} needs a q prior", field=f"{field}.q")
            q = spec.q
        log_q, log1m_q = q_logs(q, f"{field}.q")
        a = spec.a if spec.family == "test-aware" else None
        if spec.family == "test-aware" and a is None:
            raise InputError("test-aware personas need an a prior", field=f"{field}.a")
        a = a or Nodes(np.zeros(1), np.zeros(1))
        if np.any(~((a.values >= 0) & (a.values <= 1))):
            raise InputError("a must lie in [0, 1]", field=f"{field}.a")
        tau = spec.tau if spec.family == "patient" else None
        if spec.family == "patient" and tau is None:
            raise InputError("patient personas need a tau prior", field=f"{field}.tau")
        tau = tau or Nodes(np.zeros(1), np.zeros(1))
        if np.any(~(tau.values >= 0) | ~np.isfinite(tau.values)):
            raise InputError("tau must be a non-negative number of years", field=f"{field}.tau")
        size = q.values.size * a.values.size * tau.values.size
        if size > MAX_PERSONAS:
            raise InputError(
                f"{size:,} personas (q x a x tau nodes), beyond the {MAX_PERSONAS:,} allowed", field=field
            )
        iq, ia, it = np.meshgrid(
            np.arange(q.values.size), np.arange(a.values.size), np.arange(tau.values.size), indexing="ij"
        )
        iq, ia, it = (np.asarray(index.ravel()) for index in (iq, ia, it))
        parts["family"].append(np.full(iq.size, FAMILY_CODE[spec.family], dtype=np.float64))
        parts["log_q"].append(log_q[iq])
        parts["log1m_q"].append(log1m_q[iq])
        parts["a"].append(a.values[ia])
        parts["tau"].append(tau.values[it])
        costs = {"patience_hazard": spec.patience_hazard, "hazard_growth": spec.hazard_growth,
                 "rival_models": spec.rival_models, "rival_rate": spec.rival_rate}  # fmt: skip
        for name, value in costs.items():
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"must be a non-negative number (got {value})", field=f"{field}.{name}")
        survival = (
            log_patience_survival(tau.values[it], spec.patience_hazard, spec.hazard_growth)
            - spec.rival_models * spec.rival_rate * tau.values[it]
            if spec.family == "patient"
            else np.zeros(it.size)
        )
        parts["lw"].append(
            math.log(spec.weight) + q.log_weights[iq] + a.log_weights[ia] + tau.log_weights[it] + survival
        )
    if not parts["family"]:
        raise InputError("every family has zero weight", field="families")
    return Population(
        family=np.concatenate(parts["family"]).astype(np.int64),
        log_q=np.concatenate(parts["log_q"]),
        log1m_q=np.concatenate(parts["log1m_q"]),
        a=np.concatenate(parts["a"]),
        tau=np.concatenate(parts["tau"]),
        log_prior=normalize(np.concatenate(parts["lw"])),
    )
