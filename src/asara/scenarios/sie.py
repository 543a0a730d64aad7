"""The SIE scenario file: inputs with their distributions, variant options, and the cells to report."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from asara.distributions import Distribution, LogUniform, Uniform
from asara.models.sie import INPUT_NAMES, PUBLISHED_CELLS, Cell, RampShape, Retraining, SieModel, SieOptions
from asara.models.sie.engine import InitialDoubling
from asara.scenarios.loader import Document, load_scenario

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
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


class SieScenario(BaseModel):
    """A complete, validated SIE scenario. Defaults are the paper's baseline."""

    model_config = _STRICT
    name: str = "custom"
    description: str = ""
    software_share: float = Field(0.5, gt=0, le=1, description="s, in (0, 1]")
    horizon_months: PositiveFloat = 48.0
    recent_doubling_months: PositiveFloat = 3.0
    constant_r: bool = False
    retraining: Retraining = "none"
    initial_doubling: InitialDoubling = "speedup"
    ramp: RampShape = "none"
    ramp_months: PositiveFloat = 60.0
    ramp_start_speedup: PositiveFloat = 0.1
    horizon_includes_ramp: bool = False
    windows_months: list[PositiveFloat] = Field(default_factory=lambda: [12.0, 4.0])
    cells: list[CellSpec] = Field(
        default_factory=lambda: [CellSpec(years=c.years, months=c.months) for c in PUBLISHED_CELLS]
    )
    inputs: SieInputs = Field(default_factory=SieInputs)

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

    def options(self) -> SieOptions:
        windows = sorted({*self.windows_months, *(cell.months for cell in self.cells)}, reverse=True)
        return SieOptions(
            software_share=self.software_share,
            horizon_months=self.horizon_months,
            recent_doubling_months=self.recent_doubling_months,
            constant_r=self.constant_r,
            retraining=self.retraining,
            initial_doubling=self.initial_doubling,
            ramp=self.ramp,
            ramp_months=self.ramp_months,
            ramp_start_speedup=self.ramp_start_speedup,
            horizon_includes_ramp=self.horizon_includes_ramp,
            windows_months=tuple(windows),
        )

    def model(self) -> SieModel:
        return SieModel(self.options(), tuple(Cell(c.years, c.months) for c in self.cells))

    def to_document(self) -> Document:
        """The scenario as a TOML-ready document (every value resolved)."""
        document: dict[str, Any] = self.model_dump(mode="json")
        return document


def load(source: str, overrides: list[str] | tuple[str, ...] = ()) -> SieScenario:
    """A preset name or TOML path, plus ``key=value`` overrides, as a validated scenario."""
    return load_scenario("sie", SieScenario, source, overrides)
