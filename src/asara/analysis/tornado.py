"""One-at-a-time tornado: each uncertain input at its 10th and 90th percentile, for every output.

Two readings, both over the model interface:

* ``others="median"`` (the classic tornado): the other inputs sit at their medians, so each bar is the
  output of one deterministic run. For 0/1 outputs such as the SIE cells a bar can only be 0 or 1, which
  is why the integer outputs a model names as counts (the SIE's doublings per window) are included too.
* ``others="sampled"``: the other inputs keep their distributions, drawn with common random numbers, so
  each bar end is a Monte Carlo mean (a probability for 0/1 outputs) with its standard error, and the
  swing's standard error comes from the paired per-sample differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from asara.analysis.counterfactual import output_columns
from asara.analysis.sensitivity import varying_inputs
from asara.distributions import Distribution, median, quantile
from asara.errors import InputError
from asara.models.base import FloatArray, Model
from asara.montecarlo.sampling import sample_inputs

LOW_QUANTILE = 0.1
HIGH_QUANTILE = 0.9
Others = Literal["median", "sampled"]


@dataclass(frozen=True)
class TornadoBar:
    input: str
    low_value: float
    high_value: float
    output_at_low: float
    output_at_high: float
    low_standard_error: float
    high_standard_error: float
    swing_standard_error: float

    @property
    def swing(self) -> float:
        return self.output_at_high - self.output_at_low

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "low_value": self.low_value,
            "high_value": self.high_value,
            "output_at_low": self.output_at_low,
            "output_at_high": self.output_at_high,
            "swing": self.swing,
            "low_standard_error": self.low_standard_error,
            "high_standard_error": self.high_standard_error,
            "swing_standard_error": self.swing_standard_error,
        }


@dataclass(frozen=True)
class Tornado:
    others: Others
    samples: int
    seed: int
    base: dict[str, float]
    """Each output with every input at its median (``others="median"``) or drawn (``"sampled"``)."""
    bars: dict[str, list[TornadoBar]]
    """Per output, bars sorted by the size of their swing, largest first."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "others": self.others,
            "samples": self.samples,
            "seed": self.seed,
            "low_quantile": LOW_QUANTILE,
            "high_quantile": HIGH_QUANTILE,
            "base": self.base,
            "outputs": {name: [bar.to_dict() for bar in bars] for name, bars in self.bars.items()},
        }


def _mean_and_error(values: FloatArray) -> tuple[float, float]:
    n = values.size
    mean = float(values.mean())
    error = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return mean, error


def tornado(
    model: Model,
    distributions: Mapping[str, Distribution],
    *,
    others: Others = "median",
    samples: int = 20_000,
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    copula: FloatArray | None = None,
) -> Tornado:
    """Bars for every output (default: the model's outputs and count outputs) and every varying input."""
    if others not in ("median", "sampled"):
        raise InputError(f"must be 'median' or 'sampled' (got {others!r})", field="others")
    columns = list(outputs) if outputs is not None else list(output_columns(model))
    varying = varying_inputs(model, distributions)
    if not varying:
        raise InputError("every input is fixed: there is nothing to vary", field="inputs")
    ends = {name: (quantile(distributions[name], LOW_QUANTILE), quantile(distributions[name], HIGH_QUANTILE))
            for name in varying}  # fmt: skip
    if others == "median":
        samples = 1
        centre = {name: np.array([median(distributions[name])]) for name in model.input_names}
    else:
        if samples < 2:
            raise InputError(f"must be at least 2 (got {samples})", field="samples")
        if copula is not None:
            # Pinning one input while the rest are drawn unconditionally is not a conditional probability
            # once the inputs are correlated.
            raise InputError(
                "--others sampled pins one input and draws the rest as if independent of it; this scenario "
                "correlates its inputs, so use --others median (or remove [correlations])",
                field="correlations",
            )
        centre = sample_inputs(distributions, model.input_names, seed, 0, samples)
    # One batch: the centre, then each input at its low and its high end.
    batches = [centre]
    for name in varying:
        for value in ends[name]:
            batches.append({**centre, name: np.full(samples, value)})
    stacked = {name: np.concatenate([b[name] for b in batches]) for name in model.input_names}
    evaluated = model.evaluate(stacked)
    values = {c: np.asarray(evaluated[c], dtype=np.float64).reshape(len(batches), samples) for c in columns}
    base = {c: float(values[c][0].mean()) for c in columns}
    bars: dict[str, list[TornadoBar]] = {}
    for c in columns:
        rows = []
        for i, name in enumerate(varying):
            low, high = values[c][1 + 2 * i], values[c][2 + 2 * i]
            low_mean, low_error = _mean_and_error(low)
            high_mean, high_error = _mean_and_error(high)
            _, swing_error = _mean_and_error(high - low)
            rows.append(
                TornadoBar(
                    name,
                    ends[name][0],
                    ends[name][1],
                    low_mean,
                    high_mean,
                    low_error,
                    high_error,
                    swing_error,
                )
            )
        bars[c] = sorted(rows, key=lambda bar: -abs(bar.swing))
    return Tornado(others, samples, seed, base, bars)


MAX_SAMPLES = 1_000_000
"""Largest number of samples per bar end (with the others drawn)."""


def checked_tornado(
    model: Model,
    distributions: Mapping[str, Distribution],
    others: str,
    samples: int | None,
    seed: int | None,
    *,
    default_samples: int = 20_000,
    outputs: Sequence[str] | None = None,
    copula: FloatArray | None = None,
) -> Tornado:
    """:func:`tornado` with its arguments as a user gives them: ``samples`` and ``seed`` are None unless
    set, and setting them is an error with the others at their medians (each bar is then one run)."""
    if others not in ("median", "sampled"):
        raise InputError(f"must be 'median' or 'sampled' (got {others!r})", field="others")
    for value, field in ((samples, "samples"), (seed, "seed")):
        if others == "median" and value is not None:
            raise InputError(
                "applies only with --others sampled (with the others at their medians each bar is one run)",
                field=field,
            )
    seed = 0 if seed is None else seed
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    samples = default_samples if samples is None else samples
    if not 2 <= samples <= MAX_SAMPLES:
        raise InputError(f"must be between 2 and {MAX_SAMPLES:,} (got {samples})", field="samples")
    return tornado(
        model,
        distributions,
        others="median" if others == "median" else "sampled",
        samples=samples,
        seed=seed,
        outputs=outputs,
        copula=copula,
    )
