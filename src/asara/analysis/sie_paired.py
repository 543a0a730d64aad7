"""The change in each SIE cell from a reference scenario, on common random numbers.

Both scenarios are evaluated on the same uniforms (the reference's inputs take the columns a plain run with
the same seed draws; inputs only the other scenario has draw from a separate stream), so the difference is
a mean of per-sample differences and its standard error is that of the paired differences, usually far
smaller than the independent-runs error sqrt(SE_a^2 + SE_b^2)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from asara.errors import InputError
from asara.montecarlo.sampling import BLOCK_SIZE, uniforms
from asara.scenarios.sie import SieScenario

CHUNK = 16 * BLOCK_SIZE
"""Samples evaluated at once (memory stays bounded whatever the sample count)."""


@dataclass(frozen=True)
class PairedCell:
    key: str
    label: str
    years: float
    months: float
    reference: float
    scenario: float
    difference: float
    standard_error: float
    """SE of the mean of per-sample differences (the paired SE)."""
    independent_standard_error: float
    """What the SE would be if the two runs were independent, for comparison."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": self.key,
            "label": self.label,
            "years": self.years,
            "months": self.months,
            "reference": self.reference,
            "scenario": self.scenario,
            "difference": self.difference,
            "standard_error": self.standard_error,
            "independent_standard_error": self.independent_standard_error,
        }


def _bernoulli_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1.0 - p), 0.0) / n)


def paired_difference(
    reference: SieScenario,
    scenario: SieScenario,
    samples: int,
    seed: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[PairedCell]:
    """Each cell of ``scenario`` minus ``reference`` with the paired standard error."""
    if samples < 2:
        raise InputError(f"must be at least 2 (got {samples})", field="samples")
    model_a, model_b = reference.model(), scenario.model()
    if model_a.output_names != model_b.output_names:
        raise InputError("the two scenarios report different cells; compare scenarios with the same cells")
    own = list(model_a.input_names)
    extra = [name for name in model_b.input_names if name not in own]
    names = own + extra
    dists_a, dists_b = reference.distributions(), scenario.distributions()
    copula_a, copula_b = reference.copula(), scenario.copula()
    outputs = model_a.output_names
    sums = {out: np.zeros(3) for out in outputs}  # sum a, sum b, sum (b - a)^2
    for start in range(0, samples, CHUNK):
        stop = min(samples, start + CHUNK)
        u = uniforms(seed, start, stop, len(own))
        if extra:
            u = np.hstack([u, uniforms(seed, start, stop, len(extra), stream=1)])
        values = []
        for model, dists, copula in ((model_a, dists_a, copula_a), (model_b, dists_b, copula_b)):
            columns = u[:, [names.index(n) for n in model.input_names]]
            if copula is not None:
                columns = special.ndtr(special.ndtri(columns) @ copula.T)
            inputs = {n: dists[n].ppf(columns[:, i]) for i, n in enumerate(model.input_names)}
            values.append(model.evaluate(inputs))
        for out in outputs:
            a = np.asarray(values[0][out], dtype=np.float64)
            b = np.asarray(values[1][out], dtype=np.float64)
            sums[out] += (a.sum(), b.sum(), np.square(b - a).sum())
        if on_progress is not None:
            on_progress(stop, samples)
    cells = []
    for cell in model_a.cells:
        total_a, total_b, squares = sums[cell.key]
        p_a, p_b = total_a / samples, total_b / samples
        d = p_b - p_a
        variance = max(squares / samples - d * d, 0.0) * samples / (samples - 1)
        cells.append(
            PairedCell(
                cell.key,
                cell.title,
                cell.years,
                cell.months,
                float(p_a),
                float(p_b),
                float(d),
                math.sqrt(variance / samples),
                math.hypot(_bernoulli_se(p_a, samples), _bernoulli_se(p_b, samples)),
            )
        )
    return cells
