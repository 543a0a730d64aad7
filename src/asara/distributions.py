"""Distributions of uncertain inputs, as pydantic models that scenario files validate against.

Every distribution samples by its inverse CDF (``ppf``) from uniforms, so that the Monte Carlo runner,
Sobol/Morris designs and copulas all share one path from the unit cube to input values.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from scipy import special

from asara.models.base import FloatArray

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)
_INF_ALLOWED = ConfigDict(extra="forbid", frozen=True)


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
    """Log-uniform between ``low`` and ``high`` (both > 0): the median is their geometric mean. With
    ``median``, two log-uniform halves meet there: half the mass in [low, median], half in [median, high]
    (an estimate with a skewed interval, such as a calibrated weight, stays the median)."""

    model_config = _STRICT
    kind: Literal["log-uniform"] = "log-uniform"
    low: float = Field(gt=0)
    high: float = Field(gt=0)
    median: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LogUniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        if self.median is not None and not self.low <= self.median <= self.high:
            raise ValueError(f"median ({self.median:g}) must lie in [{self.low:g}, {self.high:g}]")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_median(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Scenario documents and run records keep their shape: ``median`` appears only when given."""
        data: dict[str, Any] = handler(self)
        if self.median is None:
            data.pop("median", None)
        return data

    def ppf(self, u: FloatArray) -> FloatArray:
        u = np.asarray(u, dtype=np.float64)
        log_low, log_high = math.log(self.low), math.log(self.high)
        if self.median is None:
            return np.exp(log_low + (log_high - log_low) * u)
        log_median = math.log(self.median)
        lower = log_low + (log_median - log_low) * (2.0 * u)
        upper = log_median + (log_high - log_median) * (2.0 * u - 1.0)
        values: FloatArray = np.exp(np.where(u < 0.5, lower, upper))
        return values

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        around = "" if self.median is None else f", median {self.median:g}"
        return f"log-uniform {self.low:g}..{self.high:g}{around}"


class LogNormal(BaseModel):
    """Lognormal given by its 90% interval: ``low`` and ``high`` are the 5th and 95th percentiles."""

    model_config = _STRICT
    kind: Literal["lognormal"] = "lognormal"
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        mu = (math.log(self.low) + math.log(self.high)) / 2
        sigma = (math.log(self.high) - math.log(self.low)) / (2 * _Z95_ONE_SIDED)
        values: FloatArray = np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=np.float64)))
        return values

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def describe(self) -> str:
        return f"lognormal, 90% in {self.low:g}..{self.high:g}"


class TruncatedNormal(BaseModel):
    """Normal(``mean``, ``sd``) truncated to [``low``, ``high``]."""

    model_config = _INF_ALLOWED  # the bounds may be infinite; NaN is rejected below
    kind: Literal["truncated-normal"] = "truncated-normal"
    mean: float
    sd: float = Field(gt=0)
    low: float = -math.inf
    high: float = math.inf

    @model_validator(mode="after")
    def _ordered(self) -> TruncatedNormal:
        if any(math.isnan(v) for v in (self.mean, self.sd, self.low, self.high)):
            raise ValueError("NaN is not a valid value")
        if not (math.isfinite(self.mean) and math.isfinite(self.sd)):
            raise ValueError("mean and sd must be finite")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        from scipy import stats  # scipy.stats takes most of a second to import: only when needed

        values: FloatArray = stats.truncnorm.ppf(np.asarray(u, dtype=np.float64), a, b, self.mean, self.sd)
        return values

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"normal({self.mean:g}, {self.sd:g}) truncated to {self.low:g}..{self.high:g}"


_Z95_ONE_SIDED = 1.6448536269514722

Distribution = Annotated[
    Fixed | Uniform | LogUniform | LogNormal | TruncatedNormal, Field(discriminator="kind")
]


def quantile(distribution: Distribution, q: float) -> float:
    """The ``q``-quantile of a distribution (``q`` in [0, 1])."""
    return float(distribution.ppf(np.array([q]))[0])


def median(distribution: Distribution) -> float:
    return quantile(distribution, 0.5)
