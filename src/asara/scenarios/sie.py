"""The SIE scenario file: inputs with their distributions, variant options, and the cells to report."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    create_model,
    field_validator,
    model_validator,
)

from asara.distributions import Distribution, Fixed, median
from asara.models.base import FloatArray
from asara.models.registry import Parameter
from asara.models.sie import INPUT_NAMES, PUBLISHED_CELLS, Cell, SieModel, SieOptions
from asara.models.sie.engine import ceiling_problem
from asara.models.sie.metrics import doublings_per_year
from asara.models.sie.parameters import OPTION_INPUTS, PARAMETERS
from asara.montecarlo.sampling import copula_factor
from asara.scenarios.loader import Document, load_scenario

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
MAX_LIST_ITEMS = 100
"""Most cells or windows a scenario may have (each window is tracked at every step of every run)."""
MAX_CELL_DOUBLINGS = 1e15
"""Most doublings a cell may require (beyond any run's reach already; keeps the count an exact integer)."""
LARGEST_UNIFORM = 1.0 - 2.0**-53
"""The largest uniform the sampler draws: the highest value a distribution with an unbounded range yields."""


def worst_case_doublings(scenario: SieScenario) -> float:
    """The most doublings any run of ``scenario`` can take (N at the highest limit_years it can draw):
    a bound on each run's steps, for estimating a request's cost up front."""
    return doublings_per_year(scenario.software_share) * highest_value(scenario.inputs.limit_years)


def highest_value(distribution: Distribution) -> float:
    """The largest value a run can draw from ``distribution``."""
    high = distribution.support[1]
    if math.isfinite(high):
        return high
    return float(distribution.ppf(np.array([LARGEST_UNIFORM]))[0])


PositiveFloat = Annotated[float, Field(gt=0)]


Uncertain = float | Distribution
"""A number, or a distribution when the value is uncertain (it then becomes an input of its own)."""

_DISTRIBUTION: TypeAdapter[Distribution] = TypeAdapter(Distribution)


def _bounds_check(parameter: Parameter) -> Callable[[Any], Any]:
    """The validator of a declared number or distribution: within the declared bounds over its whole
    range (a distribution's support), never NaN."""

    def check(value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        lowest, highest = (float(value), float(value)) if isinstance(value, float | int) else value.support
        problem = parameter.check(lowest, highest)
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


def _annotation(parameter: Parameter) -> Any:
    """The pydantic type of a declared setting."""
    number: Any = Annotated[float, Field(allow_inf_nan=parameter.infinite)]
    base: Any
    if parameter.type == "distribution":
        base = Distribution
    elif parameter.type == "switch":
        return bool
    elif parameter.type == "choice":
        return Literal.__getitem__(parameter.choices)
    elif parameter.type == "integer":
        base = int
    else:
        base = number | Distribution if parameter.uncertain else number
    if parameter.optional:
        base = base | None
    return Annotated[base, AfterValidator(_bounds_check(parameter))]


def _field(parameter: Parameter) -> tuple[Any, Any]:
    """(type, field) of a declared setting for ``create_model``, with its neutral value as default."""
    if parameter.type == "distribution":
        neutral = parameter.neutral
        info = Field(
            default_factory=lambda: _DISTRIBUTION.validate_python(neutral), description=parameter.help
        )
    else:
        info = Field(parameter.neutral, description=parameter.help)
    return _annotation(parameter), info


def _section_class_name(section: str) -> str:
    return "".join(part.title() for part in section.split("_")) + "Section"


class _SieInputsBase(BaseModel):
    model_config = _STRICT

    def as_mapping(self) -> dict[str, Distribution]:
        return {name: getattr(self, name) for name in INPUT_NAMES}

    if TYPE_CHECKING:  # the fields are generated from the declarations

        def __getattr__(self, name: str) -> Distribution: ...


_SECTION_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, ser_json_inf_nan="strings")
"""Strict sections; a setting declared ``infinite`` accepts inf itself (written "Infinity" in JSON)."""

_SECTIONS: dict[str, list[Parameter]] = {}
for _parameter in PARAMETERS:
    if _parameter.section is not None:
        _SECTIONS.setdefault(_parameter.section, []).append(_parameter)

if TYPE_CHECKING:
    SieInputs = _SieInputsBase
else:
    SieInputs = create_model(
        "SieInputs",
        __base__=_SieInputsBase,
        __module__=__name__,
        __doc__="The four uncertain inputs (default: the paper's distributions).",
        **{p.name: _field(p) for p in _SECTIONS["inputs"]},
    )


def _section_model(section: str, parameters: list[Parameter]) -> type[BaseModel]:
    fields: dict[str, Any] = {p.name: _field(p) for p in parameters}
    return create_model(
        _section_class_name(section),
        __config__=_SECTION_CONFIG,
        __module__=__name__,
        __doc__=f"The scenario's [{section}] section (settings declared in asara.models.sie.parameters).",
        **fields,
    )


SECTION_MODELS: dict[str, type[BaseModel]] = {
    section: _section_model(section, parameters)
    for section, parameters in _SECTIONS.items()
    if section != "inputs"
}
"""The scenario's sections other than ``inputs``, each a pydantic model generated from its declarations."""
for _model in SECTION_MODELS.values():  # importable by name, as a pickled scenario refers to them
    globals()[_model.__name__] = _model


class CellSpec(BaseModel):
    """At least ``years`` of progress in at most ``months`` months."""

    model_config = _STRICT
    years: PositiveFloat
    months: PositiveFloat


class Correlation(BaseModel):
    """A rank (Spearman) correlation between two uncertain inputs, through a Gaussian copula."""

    model_config = _STRICT
    inputs: tuple[str, str]
    rank: float = Field(ge=-1, le=1)


_SECTION_OPTIONS: dict[tuple[str, str], str] = {
    (p.section, p.name): p.input for p in PARAMETERS if p.input in OPTION_INPUTS and p.section is not None
}
"""Scenario (section, key) -> engine option, for every extension setting that may be uncertain."""


class _SieScenario(BaseModel):
    """The methods and checks of :class:`SieScenario`, whose fields are generated from the declarations."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, ser_json_inf_nan="strings")

    if TYPE_CHECKING:  # the structural fields (see _scenario_fields); the settings are read as Any
        name: str = "custom"
        description: str = ""
        windows_months: list[float] = []
        cells: list[CellSpec] = []
        inputs: SieInputs = Field(default_factory=SieInputs)
        correlations: list[Correlation] = []

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def model_validate(cls, obj: Any, *, strict: bool | None = None, **options: Any) -> Self:
        """Strict by default: a number must be written as a number and a switch as true/false ("48"
        and "yes" are refused, not read as 48 and true). Integers are still accepted as numbers."""
        if strict is None and isinstance(obj, dict):
            obj, strict = _strict_ready(obj), True
        return super().model_validate(obj, strict=strict, **options)

    @field_validator("cells", check_fields=False)
    @classmethod
    def _some_cells(cls, cells: list[CellSpec]) -> list[CellSpec]:
        if not cells:
            raise ValueError("at least one cell is needed")
        return cells

    @field_validator("windows_months", check_fields=False)
    @classmethod
    def _some_windows(cls, windows: list[float]) -> list[float]:
        if not windows:
            raise ValueError("at least one window is needed")
        return windows

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        """Refuse settings that would make a run's work unbounded (or its numbers undefined)."""
        highest = highest_value(self.inputs.limit_years)
        problem = ceiling_problem(self.software_share, highest)
        if problem is not None:
            raise ValueError(f"unbounded run: {problem}")
        for name, items in (("cells", self.cells), ("windows_months", self.windows_months)):
            if len(items) > MAX_LIST_ITEMS:
                raise ValueError(f"{name}: at most {MAX_LIST_ITEMS} entries (got {len(items)})")
        for i, cell in enumerate(self.cells):
            doublings = cell.years * doublings_per_year(self.software_share)
            if not doublings <= MAX_CELL_DOUBLINGS:
                raise ValueError(
                    f"cells.{i}.years: {cell.years:g} years is {doublings:.4g} "
                    f"doublings; at most {MAX_CELL_DOUBLINGS:.0e} can be counted"
                )
        return self

    @model_validator(mode="after")
    def _correlations(self) -> Self:
        names = self.input_names()
        for i, pair in enumerate(self.correlations):
            for name in pair.inputs:
                if name not in names:
                    raise ValueError(
                        f"correlations.{i}: {name!r} is not an uncertain input (inputs: {', '.join(names)})"
                    )
            if pair.inputs[0] == pair.inputs[1]:
                raise ValueError(f"correlations.{i}: an input cannot be correlated with itself")
        try:
            self.copula()
        except ValueError as error:
            raise ValueError(f"correlations: {error}") from None
        return self

    def _section_values(self) -> dict[str, Uncertain | None]:
        return {
            option: getattr(getattr(self, section), key)
            for (section, key), option in _SECTION_OPTIONS.items()
        }

    def uncertain_options(self) -> dict[str, Distribution]:
        """Extension parameters given as (non-fixed) distributions: each becomes an input."""
        return {
            option: value
            for option, value in self._section_values().items()
            if value is not None and not isinstance(value, float | int | Fixed)
        }

    def input_names(self) -> tuple[str, ...]:
        return (*INPUT_NAMES, *self.uncertain_options())

    def distributions(self) -> dict[str, Distribution]:
        """Every uncertain input's distribution, by input name."""
        return {**self.inputs.as_mapping(), **self.uncertain_options()}

    def options(self) -> SieOptions:
        windows = sorted({*self.windows_months, *(cell.months for cell in self.cells)}, reverse=True)
        fixed: dict[str, float | None] = {}
        for option, value in self._section_values().items():
            if value is None or isinstance(value, float | int):
                fixed[option] = value
            else:  # uncertain: the median stands in for the option; samples override it
                fixed[option] = median(value)
        return SieOptions(
            software_share=self.software_share,
            horizon_months=self.horizon_months,
            recent_doubling_months=self.recent_doubling_months,
            constant_r=self.constant_r,
            retraining=self.retraining,
            initial_doubling=self.initial_doubling,
            ramp=self.ramp.shape,
            horizon_includes_ramp=self.ramp.horizon_includes_ramp,
            windows_months=tuple(windows),
            **fixed,  # type: ignore[arg-type]
        )

    def copula(self) -> FloatArray | None:
        """The Gaussian copula factor over ``input_names()``, or None for independent inputs."""
        if not self.correlations:
            return None
        names = self.input_names()
        matrix = np.eye(len(names))
        for pair in self.correlations:
            i, j = names.index(pair.inputs[0]), names.index(pair.inputs[1])
            matrix[i, j] = matrix[j, i] = pair.rank
        return copula_factor(matrix)

    def model(self) -> SieModel:
        return SieModel(
            self.options(),
            tuple(Cell(c.years, c.months) for c in self.cells),
            tuple(self.uncertain_options()),
        )

    def to_document(self) -> Document:
        """The scenario as a TOML-ready document (every value resolved)."""
        # Through JSON so that infinite settings (an unbounded data stock) become the string "Infinity",
        # which validation reads back as inf.
        document: dict[str, Any] = json.loads(self.model_dump_json())
        return document


def _published_cells() -> list[CellSpec]:
    return [CellSpec(years=c.years, months=c.months) for c in PUBLISHED_CELLS]


def _scenario_fields() -> dict[str, Any]:
    """Every field of the scenario in document order: name and description, the top-level settings,
    the structural lists, the inputs, the sections, the correlations."""
    top = {p.key: _field(p) for p in PARAMETERS if p.section is None}
    sections = {name: (model, Field(default_factory=model)) for name, model in SECTION_MODELS.items()}
    return {
        "name": (str, "custom"),
        "description": (str, ""),
        **top,
        "windows_months": (list[PositiveFloat], Field(default_factory=lambda: [12.0, 4.0])),
        "cells": (
            list[CellSpec],
            Field(
                default_factory=lambda: [CellSpec(years=c.years, months=c.months) for c in PUBLISHED_CELLS]
            ),
        ),
        "inputs": (SieInputs, Field(default_factory=SieInputs)),
        **sections,
        "correlations": (list[Correlation], Field(default_factory=list)),
    }


if TYPE_CHECKING:

    class SieScenario(_SieScenario):
        """A complete, validated SIE scenario."""

else:
    SieScenario = create_model(
        "SieScenario",
        __base__=_SieScenario,
        __module__=__name__,
        __doc__="A complete, validated SIE scenario. Defaults are the paper's baseline and every "
        "extension's neutral setting; the settings are declared in asara.models.sie.parameters.",
        **_scenario_fields(),
    )


_INFINITE_SETTINGS: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.key.split(".")) for p in PARAMETERS if p.infinite
)
"""Settings that may be infinite, as key paths (written "Infinity" in JSON)."""

_INFINITY_WORDS = {"Infinity": math.inf, "inf": math.inf, "+Infinity": math.inf}


def _strict_ready(document: dict[str, Any]) -> dict[str, Any]:
    """The two spellings strict validation would refuse although they are ours: the JSON string
    "Infinity" that :meth:`SieScenario.to_document` writes for an infinite setting, and a correlation's
    pair of inputs as a list (TOML and JSON have no tuples)."""
    ready = dict(document)
    for path in _INFINITE_SETTINGS:
        ready = _with_infinity(ready, path)
    correlations = ready.get("correlations")
    if isinstance(correlations, list):
        ready["correlations"] = [
            {**pair, "inputs": tuple(pair["inputs"])}
            if isinstance(pair, dict) and isinstance(pair.get("inputs"), list)
            else pair
            for pair in correlations
        ]
    return ready


def _with_infinity(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """``document`` with the value at ``path`` read as infinity if it is spelled as one (copied on write)."""
    head, *rest = path
    value = document.get(head)
    if rest:
        return {**document, head: _with_infinity(value, tuple(rest))} if isinstance(value, dict) else document
    if isinstance(value, str) and value in _INFINITY_WORDS:
        return {**document, head: _INFINITY_WORDS[value]}
    return document


def load(source: str, overrides: list[str] | tuple[str, ...] = ()) -> SieScenario:
    """A preset name or TOML path, plus ``key=value`` overrides, as a validated scenario."""
    return load_scenario("sie", SieScenario, source, overrides)
