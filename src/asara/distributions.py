"""Distributions of uncertain inputs, as pydantic models that scenario files validate against.

Every distribution samples by its inverse CDF (``ppf``) from uniforms, so that the Monte Carlo runner,
Sobol/Morris designs and copulas all share one path from the unit cube to input values.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from asara.models.base import FloatArray

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Fixed(BaseModel):
    """A known value (no uncertainty)."""

    model_config = _STRICT
    kind: Literal["fixed"] = "fixed"
    value: float

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.full(np.shape(u), self.value, dtype=np.float64)

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def describe(self) -> str:
        return f"fixed {self.value:g}"


class Uniform(BaseModel):
    """Uniform between ``low`` and ``high``."""

    model_config = _STRICT
    kind: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=np.float64)

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"uniform {self.low:g}..{self.high:g}"


class LogUniform(BaseModel):
    """Log-uniform between ``low`` and ``high`` (both > 0): the median is their geometric mean."""

    model_config = _STRICT
    kind: Literal["log-uniform"] = "log-uniform"
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LogUniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        log_low, log_high = math.log(self.low), math.log(self.high)
        return np.exp(log_low + (log_high - log_low) * np.asarray(u, dtype=np.float64))

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"log-uniform {self.low:g}..{self.high:g}"


Distribution = Annotated[Fixed | Uniform | LogUniform, Field(discriminator="kind")]


def quantile(distribution: Distribution, q: float) -> float:
    """The ``q``-quantile of a distribution (``q`` in [0, 1])."""
    return float(distribution.ppf(np.array([q]))[0])


def median(distribution: Distribution) -> float:
    return quantile(distribution, 0.5)
