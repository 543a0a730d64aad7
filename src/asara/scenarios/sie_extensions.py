"""The SIE model's optional extensions: what each does, its settings and its neutral setting as ``--set``
arguments.

Under its neutral setting an extension's code does not run, so results are bit-identical to the paper.
The settings and the neutral arguments are read from the declarations in
:mod:`asara.models.sie.parameters` (each setting's ``extension``; the one that ``switches_off``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asara.models.registry import Parameter
from asara.models.sie.parameters import PARAMETERS


@dataclass(frozen=True)
class Extension:
    name: str
    description: str
    neutral: tuple[str, ...]
    """``--set`` arguments that switch the extension off."""
    preset: str
    parameters: tuple[str, ...] = ()
    """Scenario keys of the extension's settings."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "neutral": list(self.neutral),
            "preset": self.preset,
            "parameters": list(self.parameters),
        }


def set_argument(parameter: Parameter) -> str:
    """``key=value`` setting a declared setting to its neutral value, as ``--set`` reads it."""
    value = parameter.neutral
    if isinstance(value, bool):
        shown = str(value).lower()
    elif isinstance(value, float) and math.isinf(value):
        shown = "inf" if value > 0 else "-inf"
    elif isinstance(value, int | float):
        shown = f"{value:g}"
    else:
        shown = str(value)
    return f"{parameter.key}={shown}"


def extension(
    name: str,
    description: str,
    preset: str,
    parameters: Sequence[Parameter] = PARAMETERS,
    structural_neutral: tuple[str, ...] = (),
) -> Extension:
    """An extension with its settings and neutral arguments read from the declarations (a structural
    extension, such as correlations, has no declared setting: its neutral arguments are given)."""
    own = [p for p in parameters if p.extension == name]
    neutral = tuple(set_argument(p) for p in own if p.switches_off) or structural_neutral
    if not neutral:
        raise ValueError(f"extension {name!r}: no declared setting switches it off")
    return Extension(name, description, neutral, preset, tuple(p.key for p in own))


EXTENSIONS: tuple[Extension, ...] = (
    extension(
        "data",
        "Data as its own input: software = algorithms^(1-d) x data^d; data is made by AI labour with its own "
        "returns and runs out at a finite stock.",
        "extension-data",
    ),
    extension(
        "ramp",
        "Pre-ASARA acceleration: when the ramp starts, its length, shape (step, linear, exponential, "
        "logistic) and starting boost, each possibly uncertain.",
        "extension-ramp",
    ),
    extension(
        "compute",
        "Compute growth after ASARA at a (possibly slowing) rate; labour grows as software x "
        "compute^(1+gamma).",
        "extension-compute-growth",
    ),
    extension(
        "bottlenecks",
        "CES research input: labour and compute combine with an elasticity of substitution sigma, so with "
        "compute fixed labour's marginal value falls as software grows.",
        "extension-bottlenecks",
    ),
    extension(
        "continual_learning",
        "Retraining cost as a fraction phi of improvements that need a new training run of a given length "
        "(phi = 1: the paper's retraining; phi = 0: full continual learning).",
        "extension-continual-learning",
    ),
    extension(
        "correlations",
        "Rank correlations between inputs through a Gaussian copula (for example returns and the parallel "
        "penalty, which share lambda * alpha).",
        "extension-correlated-inputs",
        structural_neutral=("correlations=[]",),
    ),
)
