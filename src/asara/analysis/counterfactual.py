"""What one sample's outputs would have been with each input moved to its median, the others kept.

Written over the model interface, so it serves every model: the sample and all its counterfactuals are
evaluated in one vectorized call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from asara.distributions import Distribution, median
from asara.models.base import Model, histogram_names


@dataclass(frozen=True)
class Counterfactual:
    input: str
    value: float
    """The sample's value of the input."""
    median: float
    outputs: dict[str, float]
    """Every output with this input at its median and the others at the sample's values."""


@dataclass(frozen=True)
class Counterfactuals:
    inputs: dict[str, float]
    outputs: dict[str, float]
    """The sample's own outputs."""
    moved: tuple[Counterfactual, ...]
    """One per uncertain input whose value is not already its median."""
    all_medians: dict[str, float]
    """Every output with every input at its median."""


def output_columns(model: Model) -> tuple[str, ...]:
    """The model's headline outputs, then its count and category outputs (in declaration order)."""
    headline = model.output_names
    return (*headline, *(name for name in histogram_names(model.outputs) if name not in headline))


def counterfactuals(
    model: Model, distributions: Mapping[str, Distribution], inputs: Mapping[str, float]
) -> Counterfactuals:
    names = model.input_names
    missing = [name for name in names if name not in inputs]
    if missing:
        raise ValueError(f"no value for inputs {missing}")
    medians = {name: median(distributions[name]) for name in names}
    moved_names = [name for name in names if inputs[name] != medians[name]]
    rows = [dict(inputs)]
    for name in moved_names:
        rows.append({**inputs, name: medians[name]})
    rows.append(medians)
    batch = {name: np.array([float(row[name]) for row in rows]) for name in names}
    evaluated = model.evaluate(batch)
    columns = output_columns(model)

    def row_outputs(i: int) -> dict[str, float]:
        return {column: float(np.asarray(evaluated[column])[i]) for column in columns}

    moved = tuple(
        Counterfactual(name, float(inputs[name]), medians[name], row_outputs(1 + k))
        for k, name in enumerate(moved_names)
    )
    return Counterfactuals(
        {name: float(inputs[name]) for name in names}, row_outputs(0), moved, row_outputs(len(rows) - 1)
    )
