"""The headline statistic: "at least X years of progress compressed into at most T months".

A sample succeeds for cell (X, T) when some run of ``required_doublings(X)`` consecutive doublings fits
strictly inside T months, i.e. when its largest count of doublings inside a window shorter than T is at
least ``floor(X * 4 / s)``. The spans of runs of consecutive doublings only grow with the run length, so
the one per-sample number ``max_doublings[T]`` answers every X at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

# floor(X * 4 / s) computed in floating point can land a hair under an integer (3 * 4 / 0.3 is
# 39.99999999999999); a relative tolerance far below any meaningful input keeps it at 40.
_FLOOR_TOLERANCE = 1e-9


@dataclass(frozen=True, order=True)
class Cell:
    """At least ``years`` of progress (at recent rates) in at most ``months`` months."""

    years: float
    months: float

    @property
    def label(self) -> str:
        return f">={self.years:g}y in <={self.months:g}mo"

    @property
    def title(self) -> str:
        """The label for readers, e.g. ``≥3 years in ≤12 months``."""
        return f"≥{self.years:g} years in ≤{self.months:g} months"

    @property
    def key(self) -> str:
        """A column-safe name, e.g. ``p_3y_12mo``."""
        return f"p_{self.years:g}y_{self.months:g}mo".replace(".", "_")

    @classmethod
    def from_key(cls, key: str) -> Cell | None:
        """The cell a :attr:`key` names (``p_3_33y_4mo`` -> 3.33 years in 4 months), or None."""
        match = _KEY.fullmatch(key)
        if match is None:
            return None
        years, months = (float(group.replace("_", ".")) for group in match.groups())
        return cls(years, months)


_KEY = re.compile(r"p_(\d+(?:_\d+)?)y_(\d+(?:_\d+)?)mo")


PUBLISHED_CELLS: tuple[Cell, ...] = (
    Cell(3.0, 12.0),
    Cell(3.33, 4.0),
    Cell(10.0, 12.0),
    Cell(10.0, 4.0),
)


RECENT_DOUBLINGS_PER_YEAR_OF_SOFTWARE = 4.0
"""Software doublings in one year of recent progress if software were all of it (3-month doublings)."""


def doublings_per_year(software_share: float) -> float:
    """4/s: software doublings in one year of recent total AI progress (8 at the paper's s = 0.5).

    The one place the factor is written; the engine compiles this very function into its kernel."""
    return RECENT_DOUBLINGS_PER_YEAR_OF_SOFTWARE / software_share


def required_doublings(years: float, software_share: float) -> int:
    """floor(years * 4 / s): software doublings worth ``years`` of recent total AI progress."""
    # years * 4 / s in this order, not years * (4/s): the two can round apart by an ulp.
    exact = years * RECENT_DOUBLINGS_PER_YEAR_OF_SOFTWARE / software_share
    return math.floor(exact * (1.0 + _FLOOR_TOLERANCE))


def successes(max_doublings: NDArray[np.int64], years: float, software_share: float) -> NDArray[np.bool_]:
    """Per-sample success for a cell, from the sample's max doublings inside the cell's window."""
    return max_doublings >= required_doublings(years, software_share)


@overload
def years_compressed(doublings: float, software_share: float) -> float: ...


@overload
def years_compressed(doublings: NDArray[Any], software_share: float) -> NDArray[np.float64]: ...


def years_compressed(doublings: float | NDArray[Any], software_share: float) -> float | NDArray[np.float64]:
    """Years of recent progress that a number of software doublings amounts to: doublings / (4/s).

    Computed as doublings * (s / 4), which equals doublings * s / 4 bit for bit (dividing by 4 is exact)."""
    years = doublings * (software_share / RECENT_DOUBLINGS_PER_YEAR_OF_SOFTWARE)
    if isinstance(years, np.ndarray):
        return np.asarray(years, dtype=np.float64)
    return float(years)
