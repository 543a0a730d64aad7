"""Explain the difference between two scenarios: exact Shapley attribution of the change in each output
to each group of changed assumptions, with common random numbers and standard errors.

Every subset of the changes is evaluated on the same uniforms (each uncertain input keeps its uniform column
across subsets), so the Shapley value is a fixed linear combination of per-sample outputs. Its standard
error is that of the per-sample combination, and the attributions add up to the total change sample by
sample, hence exactly up to rounding.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from asara.distributions import Distribution
from asara.errors import InputError
from asara.models.base import Array, FloatArray, Model
from asara.montecarlo.sampling import uniforms

Document = dict[str, Any]

MAX_CHANGES = 10  # 2^10 evaluations of the model
MAX_EXPLAIN_SAMPLES = 2_000_000


@dataclass(frozen=True)
class Attribution:
    change: str
    value: float
    standard_error: float


@dataclass(frozen=True)
class OutputExplanation:
    output: str
    baseline: float
    changed: float
    attributions: tuple[Attribution, ...]

    @property
    def total_change(self) -> float:
        return self.changed - self.baseline

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "changed": self.changed,
            "total_change": self.total_change,
            "attributions": [
                {"change": a.change, "value": a.value, "standard_error": a.standard_error}
                for a in self.attributions
            ],
        }


def differing_groups(a: Document, b: Document, groups: Mapping[str, Sequence[str]]) -> list[str]:
    """Names of the groups (each a list of top-level keys; dotted keys reach into sections) that differ."""
    return [name for name, keys in groups.items() if any(_get(a, k) != _get(b, k) for k in keys)]


def _get(document: Document, key: str) -> Any:
    node: Any = document
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set(document: Document, key: str, value: Any) -> None:
    parts = key.split(".")
    node = document
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def mixed_document(a: Document, b: Document, keys: Sequence[str]) -> Document:
    """``a`` with the values of ``keys`` taken from ``b``."""
    mixed = copy.deepcopy(a)
    for key in keys:
        _set(mixed, key, copy.deepcopy(_get(b, key)))
    return mixed


@dataclass(frozen=True)
class Bound:
    """A model with the distributions of its inputs, ready to evaluate on shared uniforms."""

    model: Model
    distributions: Mapping[str, Distribution]
    copula: FloatArray | None = None
    """Gaussian copula factor over ``model.input_names`` (None: independent inputs)."""


def explain(
    baseline: Document,
    changed: Document,
    groups: Mapping[str, Sequence[str]],
    bind: Callable[[Document], Bound],
    samples: int,
    seed: int,
    measured: Sequence[str] = (),
) -> tuple[list[str], list[OutputExplanation]]:
    """Shapley attribution of ``changed`` minus ``baseline`` for every output of the bound model.

    ``measured``: keys that define the outputs (the SIE cells); they must agree, since every subset is
    bound with the baseline's value of anything outside ``groups``."""
    if not 2 <= samples <= MAX_EXPLAIN_SAMPLES:
        # Every subset's per-sample outputs are held at once (about 1 kB a sample for the SIE model).
        raise InputError(f"must be between 2 and {MAX_EXPLAIN_SAMPLES:,} (got {samples:,})", field="samples")
    different = [key for key in measured if _get(baseline, key) != _get(changed, key)]
    if different:
        raise InputError(
            f"A and B differ in {', '.join(different)}, which says what is measured rather than what is "
            "assumed: give both the same value to explain B against A",
            field="B",
        )
    changes = differing_groups(baseline, changed, groups)
    if len(changes) > MAX_CHANGES:
        raise InputError(
            f"{len(changes)} groups of changes; at most {MAX_CHANGES} can be explained", field="B"
        )
    k = len(changes)
    subsets = list(itertools.product((False, True), repeat=k))
    bounds = [
        bind(
            mixed_document(
                baseline, changed, [key for c, on in zip(changes, s, strict=True) if on for key in groups[c]]
            )
        )
        for s in subsets
    ]
    outputs = bounds[0].model.output_names
    if any(b.model.output_names != outputs for b in bounds):
        raise InputError("the two scenarios report different outputs (cells)", field="cells")
    # The baseline's inputs draw the uniforms a plain run with the same seed draws; inputs that only other
    # subsets have draw from a separate stream, so adding one does not reshuffle the baseline's samples.
    own_names = list(bounds[0].model.input_names)
    extra_names = list(dict.fromkeys(n for b in bounds for n in b.model.input_names if n not in own_names))
    names = own_names + extra_names
    u = uniforms(seed, 0, samples, len(own_names))
    if extra_names:
        u = np.hstack([u, uniforms(seed, 0, samples, len(extra_names), stream=1)])
    contributions = {out: np.zeros((k, samples)) for out in outputs}
    means: dict[str, list[float]] = {out: [] for out in outputs}
    for subset, bound in zip(subsets, bounds, strict=True):
        own = u[:, [names.index(n) for n in bound.model.input_names]]
        if bound.copula is not None:
            own = special.ndtr(special.ndtri(own) @ bound.copula.T)
        inputs = {n: bound.distributions[n].ppf(own[:, i]) for i, n in enumerate(bound.model.input_names)}
        values: dict[str, Array] = bound.model.evaluate(inputs)
        size = sum(subset)
        for out in outputs:
            v = np.asarray(values[out], dtype=np.float64)
            means[out].append(float(v.mean()))
            for j in range(k):
                if subset[j]:  # v(S) with j in S: weight |S-1|! (k - |S|)! / k!
                    weight = math.factorial(size - 1) * math.factorial(k - size) / math.factorial(k)
                    contributions[out][j] += weight * v
                else:  # v(S) with j not in S enters with minus |S|! (k - |S| - 1)! / k!
                    weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                    contributions[out][j] -= weight * v
    explanations = []
    for out in outputs:
        first, last = means[out][0], means[out][-1]  # no change applied, every change applied
        attributions = tuple(
            Attribution(c, float(contributions[out][j].mean()), _standard_error(contributions[out][j]))
            for j, c in enumerate(changes)
        )
        explanations.append(OutputExplanation(out, first, last, attributions))
    return changes, explanations


def _standard_error(values: FloatArray) -> float:
    return float(values.std(ddof=1) / math.sqrt(values.size)) if values.size > 1 else math.nan
