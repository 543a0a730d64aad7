"""The small interface every model meets, so that sampling, sensitivity, explanation, reports and the web
page are written once for all models.

A *model* has named uncertain inputs and named per-sample outputs, and a vectorized ``evaluate`` from
input arrays (one value per sample) to output arrays (one value per sample). Everything that is not an
uncertain input (options, variants, horizons) is fixed when the model object is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Array = NDArray[Any]


@runtime_checkable
class Model(Protocol):
    """A vectorized model over named inputs."""

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the uncertain inputs, in a fixed order."""
        ...

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the scalar per-sample outputs that analysis code summarizes (means, probabilities)."""
        ...

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        """Per-sample outputs for equally long input arrays; must contain every name in ``output_names``."""
        ...
