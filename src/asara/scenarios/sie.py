"""The SIE scenario file: inputs with their distributions, variant options, and the cells to report."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from asara.distributions import Distribution, Fixed, LogUniform, Uniform, median
from asara.models.base import FloatArray
from asara.models.sie import INPUT_NAMES, PUBLISHED_CELLS, Cell, RampShape, Retraining, SieModel, SieOptions
from asara.models.sie.engine import InitialDoubling, ceiling_problem
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
    return 4.0 / scenario.software_share * highest_value(scenario.inputs.limit_years)


def highest_value(distribution: Distribution) -> float:
    """The largest value a run can draw from ``distribution``."""
    high = distribution.support[1]
    if math.isfinite(high):
        return high
    return float(distribution.ppf(np.array([LARGEST_UNIFORM]))[0])


PositiveFloat = Annotated[float, Field(gt=0)]


_PAPER: dict[str, Distribution] = {
    "speedup": LogUniform(low=2, high=32),
    "returns": LogUniform(low=0.4, high=3.6),
    "limit_years": Uniform(low=6, high=16),
    "parallel_penalty": LogUniform(low=0.15, high=0.6),
}


class SieInputs(BaseModel):
    """The four uncertain inputs (default: the paper's distributions). Each must stay positive."""

    model_config = _STRICT
    speedup: Distribution = Field(
        default_factory=lambda: _PAPER["speedup"],
        description="initial speed-up f of software progress at ASARA",
    )
    returns: Distribution = Field(
        default_factory=lambda: _PAPER["returns"], description="returns to software R&D r0 at ASARA"
    )
    limit_years: Distribution = Field(
        default_factory=lambda: _PAPER["limit_years"],
        description="distance to the effective limit, in years of progress",
    )
    parallel_penalty: Distribution = Field(
        default_factory=lambda: _PAPER["parallel_penalty"],
        description="penalty p for parallel work (lambda * alpha)",
    )

    @field_validator(*INPUT_NAMES)
    @classmethod
    def _positive(cls, distribution: Distribution, info: ValidationInfo) -> Distribution:
        low = distribution.support[0]
        if low <= 0:
            raise ValueError(f"must be > 0 over its whole range (lowest value {low:g})")
        return distribution

    def as_mapping(self) -> dict[str, Distribution]:
        return {name: getattr(self, name) for name in INPUT_NAMES}


class CellSpec(BaseModel):
    """At least ``years`` of progress in at most ``months`` months."""

    model_config = _STRICT
    years: PositiveFloat
    months: PositiveFloat


Uncertain = float | Distribution
"""A number, or a distribution when the value is uncertain (it then becomes an input of its own)."""


def _check_range(value: Uncertain, low: float, high: float, *, low_open: bool, high_open: bool) -> Uncertain:
    lowest, highest = (value, value) if isinstance(value, float | int) else value.support
    too_low = lowest <= low if low_open else lowest < low
    too_high = highest >= high if high_open else highest > high
    if too_low or too_high:
        left, right = ("(" if low_open else "["), (")" if high_open else "]")
        shown = f"{lowest:g}" if lowest == highest else f"{lowest:g}..{highest:g}"
        raise ValueError(f"must lie in {left}{low:g}, {high:g}{right} (got {shown})")
    return value


def _positive(value: Uncertain) -> Uncertain:
    return _check_range(value, 0.0, math.inf, low_open=True, high_open=True)


def _unit(value: Uncertain) -> Uncertain:
    return _check_range(value, 0.0, 1.0, low_open=False, high_open=False)


PositiveUncertain = Annotated[Uncertain, AfterValidator(_positive)]
"""A positive number or a distribution over positive numbers."""
UnitUncertain = Annotated[Uncertain, AfterValidator(_unit)]
"""A number or distribution within [0, 1]."""
LabourShare = Annotated[
    Uncertain, AfterValidator(lambda v: _check_range(v, 0.0, 1.0, low_open=True, high_open=False))
]
DataShare = Annotated[
    Uncertain, AfterValidator(lambda v: _check_range(v, 0.0, 1.0, low_open=False, high_open=True))
]


class RampSection(BaseModel):
    """Pre-ASARA acceleration: the speed-up ramps from ``start_speedup`` to f. Neutral: shape "none"."""

    model_config = _STRICT
    shape: RampShape = "none"
    months: Uncertain = Field(60.0, description="length of the ramp")
    lead_months: Uncertain | None = Field(
        None, description="how long before ASARA it starts (default: months)"
    )
    start_speedup: PositiveUncertain = 0.1
    horizon_includes_ramp: bool = False

    @field_validator("months")
    @classmethod
    def _length(cls, value: Uncertain) -> Uncertain:
        try:
            return _positive(value)
        except ValueError as error:
            raise ValueError(f"a ramp cannot end before it starts: {error}") from None

    @field_validator("lead_months")
    @classmethod
    def _lead(cls, value: Uncertain | None) -> Uncertain | None:
        return None if value is None else _check_range(value, 0.0, math.inf, low_open=False, high_open=False)


class ComputeSection(BaseModel):
    """Compute growth after ASARA. Neutral: growth_per_year = 1 (fixed compute, the paper)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")  # halving_years may be inf
    growth_per_year: PositiveUncertain = 1.0
    halving_years: float = Field(math.inf, gt=0)
    labour_share: LabourShare = 0.5
    labour_exponent: float = Field(0.0, ge=-1, allow_inf_nan=False)


class BottlenecksSection(BaseModel):
    """CES research input. Neutral: substitution_elasticity = 1 (Cobb-Douglas, the paper)."""

    model_config = _STRICT
    substitution_elasticity: PositiveUncertain = 1.0


class ContinualLearningSection(BaseModel):
    """With ``retraining`` on: the share of improvements that need a new training run, and its length."""

    model_config = _STRICT
    retraining_fraction: UnitUncertain = 1.0
    training_months: PositiveUncertain = 3.0


class DataSection(BaseModel):
    """Data as its own input. Neutral: share = 0 (data folded into software, the paper)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")  # stock_years may be inf
    share: DataShare = 0.0
    returns: PositiveUncertain = 1.0
    stock_years: float = Field(math.inf, gt=0)


class Correlation(BaseModel):
    """A rank (Spearman) correlation between two uncertain inputs, through a Gaussian copula."""

    model_config = _STRICT
    inputs: tuple[str, str]
    rank: float = Field(ge=-1, le=1)


# Scenario field -> engine option, for every parameter that may be uncertain.
_SECTION_OPTIONS: dict[tuple[str, str], str] = {
    ("ramp", "months"): "ramp_months",
    ("ramp", "lead_months"): "ramp_lead_months",
    ("ramp", "start_speedup"): "ramp_start_speedup",
    ("compute", "growth_per_year"): "compute_growth_per_year",
    ("compute", "halving_years"): "compute_growth_halving_years",
    ("compute", "labour_share"): "labour_share",
    ("compute", "labour_exponent"): "compute_labour_exponent",
    ("bottlenecks", "substitution_elasticity"): "substitution_elasticity",
    ("continual_learning", "retraining_fraction"): "retraining_fraction",
    ("continual_learning", "training_months"): "training_months",
    ("data", "share"): "data_share",
    ("data", "returns"): "data_returns",
    ("data", "stock_years"): "data_stock_years",
}


class SieScenario(BaseModel):
    """A complete, validated SIE scenario. Defaults are the paper's baseline and every extension's
    neutral setting."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, ser_json_inf_nan="strings")
    name: str = "custom"
    description: str = ""
    software_share: float = Field(0.5, gt=0, le=1, description="s, in (0, 1]")
    horizon_months: PositiveFloat = 48.0
    recent_doubling_months: PositiveFloat = 3.0
    constant_r: bool = False
    retraining: Retraining = "none"
    initial_doubling: InitialDoubling = "speedup"
    windows_months: list[PositiveFloat] = Field(default_factory=lambda: [12.0, 4.0])
    cells: list[CellSpec] = Field(
        default_factory=lambda: [CellSpec(years=c.years, months=c.months) for c in PUBLISHED_CELLS]
    )
    inputs: SieInputs = Field(default_factory=SieInputs)
    ramp: RampSection = Field(default_factory=RampSection)
    compute: ComputeSection = Field(default_factory=ComputeSection)
    bottlenecks: BottlenecksSection = Field(default_factory=BottlenecksSection)
    continual_learning: ContinualLearningSection = Field(default_factory=ContinualLearningSection)
    data: DataSection = Field(default_factory=DataSection)
    correlations: list[Correlation] = Field(default_factory=list)

    @classmethod
    def model_validate(cls, obj: Any, *, strict: bool | None = None, **options: Any) -> SieScenario:
        """Strict by default: a number must be written as a number and a switch as true/false ("48"
        and "yes" are refused, not read as 48 and true). Integers are still accepted as numbers."""
        if strict is None and isinstance(obj, dict):
            obj, strict = _strict_ready(obj), True
        return super().model_validate(obj, strict=strict, **options)

    @field_validator("cells")
    @classmethod
    def _some_cells(cls, cells: list[CellSpec]) -> list[CellSpec]:
        if not cells:
            raise ValueError("at least one cell is needed")
        return cells

    @field_validator("windows_months")
    @classmethod
    def _some_windows(cls, windows: list[float]) -> list[float]:
        if not windows:
            raise ValueError("at least one window is needed")
        return windows

    @model_validator(mode="after")
    def _bounded(self) -> SieScenario:
        """Refuse settings that would make a run's work unbounded (or its numbers undefined)."""
        highest = highest_value(self.inputs.limit_years)
        problem = ceiling_problem(self.software_share, highest)
        if problem is not None:
            raise ValueError(f"unbounded run: {problem}")
        for name, items in (("cells", self.cells), ("windows_months", self.windows_months)):
            if len(items) > MAX_LIST_ITEMS:
                raise ValueError(f"{name}: at most {MAX_LIST_ITEMS} entries (got {len(items)})")
        for i, cell in enumerate(self.cells):
            if not cell.years * 4.0 / self.software_share <= MAX_CELL_DOUBLINGS:
                raise ValueError(
                    f"cells.{i}.years: {cell.years:g} years is {cell.years * 4.0 / self.software_share:.4g} "
                    f"doublings; at most {MAX_CELL_DOUBLINGS:.0e} can be counted"
                )
        return self

    @model_validator(mode="after")
    def _correlations(self) -> SieScenario:
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


_INFINITE_SETTINGS = (("compute", "halving_years"), ("data", "stock_years"))
_INFINITY_WORDS = {"Infinity": math.inf, "inf": math.inf, "+Infinity": math.inf}


def _strict_ready(document: dict[str, Any]) -> dict[str, Any]:
    """The two spellings strict validation would refuse although they are ours: the JSON string
    "Infinity" that :meth:`SieScenario.to_document` writes for an infinite setting, and a correlation's
    pair of inputs as a list (TOML and JSON have no tuples)."""
    ready = dict(document)
    for section, key in _INFINITE_SETTINGS:
        values = ready.get(section)
        if isinstance(values, dict) and isinstance(values.get(key), str) and values[key] in _INFINITY_WORDS:
            ready[section] = {**values, key: _INFINITY_WORDS[values[key]]}
    correlations = ready.get("correlations")
    if isinstance(correlations, list):
        ready["correlations"] = [
            {**pair, "inputs": tuple(pair["inputs"])}
            if isinstance(pair, dict) and isinstance(pair.get("inputs"), list)
            else pair
            for pair in correlations
        ]
    return ready


def load(source: str, overrides: list[str] | tuple[str, ...] = ()) -> SieScenario:
    """A preset name or TOML path, plus ``key=value`` overrides, as a validated scenario."""
    return load_scenario("sie", SieScenario, source, overrides)
