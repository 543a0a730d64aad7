"""The SIE model's optional extensions: what each does and its neutral setting as ``--set`` arguments.

Under its neutral setting an extension's code does not run, so results are bit-identical to the paper.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    name: str
    description: str
    neutral: tuple[str, ...]
    preset: str


EXTENSIONS: tuple[Extension, ...] = (
    Extension(
        "data",
        "Data as its own input: software = algorithms^(1-d) x data^d; data is made by AI labour with its own "
        "returns and runs out at a finite stock.",
        ("data.share=0",),
        "extension-data",
    ),
    Extension(
        "ramp",
        "Pre-ASARA acceleration: when the ramp starts, its length, shape (step, linear, exponential, "
        "logistic) and starting boost, each possibly uncertain.",
        ("ramp.shape=none",),
        "extension-ramp",
    ),
    Extension(
        "compute",
        "Compute growth after ASARA at a (possibly slowing) rate; labour grows as software x "
        "compute^(1+gamma).",
        ("compute.growth_per_year=1",),
        "extension-compute-growth",
    ),
    Extension(
        "bottlenecks",
        "CES research input: labour and compute combine with an elasticity of substitution sigma, so with "
        "compute fixed labour's marginal value falls as software grows.",
        ("bottlenecks.substitution_elasticity=1",),
        "extension-bottlenecks",
    ),
    Extension(
        "continual_learning",
        "Retraining cost as a fraction phi of improvements that need a new training run of a given length "
        "(phi = 1: the paper's retraining; phi = 0: full continual learning).",
        ("retraining=none",),
        "extension-continual-learning",
    ),
    Extension(
        "correlations",
        "Rank correlations between inputs through a Gaussian copula (for example returns and the parallel "
        "penalty, which share lambda * alpha).",
        ("correlations=[]",),
        "extension-correlated-inputs",
    ),
)
