"""The small interface every model meets, so that sampling, sensitivity, explanation, reports and the web
page are written once for all models.

A *model* has named uncertain inputs and declared per-sample outputs, and a vectorized ``evaluate`` from
input arrays (one value per sample) to output arrays (one value per sample). Everything that is not an
uncertain input (options, variants, horizons) is fixed when the model object is built.

Each output is declared once (:class:`asara.models.registry.Output`: name, kind, label, unit, help); the
runner, the summaries, the Parquet columns, the sweep tables and the reports are read from the
declarations, so adding an output means one declaration plus the line of ``evaluate`` that computes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from asara.models.registry import Output, outputs_of

FloatArray = NDArray[np.float64]
Array = NDArray[Any]

SUMMED_KINDS = ("indicator", "continuous")
"""Kinds summarized by per-block sums (probabilities, means)."""
HISTOGRAM_KINDS = ("count", "category")
"""Kinds summarized by their exact integer histograms."""


@runtime_checkable
class Model(Protocol):
    """A vectorized model over named inputs."""

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the uncertain inputs, in a fixed order."""
        ...

    @property
    def outputs(self) -> tuple[Output, ...]:
        """Every per-sample output ``evaluate`` returns, declared with its kind, label and unit, in the
        order of the per-sample tables."""
        ...

    @property
    def output_names(self) -> tuple[str, ...]:
        """The headline outputs that analyses (sensitivity, explanations, convergence) summarize; a model
        derives them from :attr:`outputs` with :func:`headline_names`."""
        ...

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        """Per-sample outputs for equally long input arrays: one array per declared output."""
        ...


def headline_names(outputs: Iterable[Output]) -> tuple[str, ...]:
    """The outputs analyses summarize: the indicators (each one a probability), or for a model without
    indicators its continuous outputs. Counts, categories, and the continuous diagnostics of a model
    with indicators are kept in full (histograms, sums, per-sample tables) but are not headlines."""
    declared = tuple(outputs)
    indicators = outputs_of(declared, "indicator")
    return indicators if indicators else outputs_of(declared, "continuous")


def summed_names(outputs: Iterable[Output]) -> tuple[str, ...]:
    """Outputs whose per-block sums a run keeps (indicators and continuous outputs), in declaration order."""
    return tuple(o.name for o in outputs if o.kind in SUMMED_KINDS)


def histogram_names(outputs: Iterable[Output]) -> tuple[str, ...]:
    """Outputs whose exact histograms a run keeps (counts and categories), in declaration order."""
    return tuple(o.name for o in outputs if o.kind in HISTOGRAM_KINDS)


def declared(outputs: Iterable[Output], name: str) -> Output:
    """The declaration of the output ``name``."""
    for output in outputs:
        if output.name == name:
            return output
    raise KeyError(f"no output {name!r} is declared")


def check_declarations(outputs: Sequence[Output]) -> None:
    """Refuse a name declared twice, a category output without category names, or categories on an
    output of another kind."""
    seen: set[str] = set()
    for output in outputs:
        if output.name in seen:
            raise ValueError(f"output {output.name!r} is declared twice")
        seen.add(output.name)
        if (output.kind == "category") != bool(output.categories):
            raise ValueError(f"output {output.name!r}: categories belong to (and only to) category outputs")


def evaluate_point(model: Model, values: Mapping[str, float]) -> dict[str, float]:
    """Every declared output of ``model`` at one point of its inputs (a model at fixed inputs)."""
    missing = [name for name in model.input_names if name not in values]
    if missing:
        raise ValueError(f"no value for inputs {missing}")
    evaluated = model.evaluate({name: np.array([float(values[name])]) for name in model.input_names})
    return {o.name: float(np.asarray(evaluated[o.name])[0]) for o in model.outputs}
