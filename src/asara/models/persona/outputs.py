"""The persona model's per-sample outputs, declared once (see :mod:`asara.models.registry`). Kept apart
from the model so that labels can be read without loading the compiled engine."""

from __future__ import annotations

from asara.models.registry import Output

OUTPUTS: tuple[Output, ...] = (
    Output(
        "misbehaviour_rate",
        "continuous",
        "predicted misbehaviour",
        "probability",
        "Posterior-weighted probability that the model misbehaves, averaged over the evaluation set "
        "(with its weights).",
    ),
    Output(
        "misaligned_share",
        "continuous",
        "misaligned persona share",
        "probability mass",
        "Posterior probability mass of the misaligned persona families after training on the corpus.",
    ),
)
