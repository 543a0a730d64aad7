"""Takeoff over time: years of progress against months since ASARA, for sample runs and as quantile bands
over many runs (the takeoffspeeds.com view of the SIE model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from asara.analysis.sie_sample import sample_paths
from asara.errors import InputError
from asara.models.sie.metrics import years_compressed
from asara.scenarios.sie import SieScenario

MAX_RUNS = 2000
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def takeoff(
    scenario: SieScenario,
    seed: int,
    runs: int = 500,
    shown: int = 12,
    points: int = 121,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The first ``runs`` samples of a run seeded ``seed``: years of progress (software doublings x s/4,
    counted from the start of the run's clock) on a grid of months since ASARA; the first ``shown`` runs as
    curves, all of them as quantile bands (5, 25, 50, 75, 95%)."""
    if not 1 <= runs <= MAX_RUNS:
        raise InputError(f"must be between 1 and {MAX_RUNS} (got {runs})", field="runs")
    if not 0 <= shown <= min(runs, 50):
        raise InputError(f"must be between 0 and min(runs, 50) (got {shown})", field="shown")
    if not 2 <= points <= 1000:
        raise InputError(f"must be between 2 and 1000 (got {points})", field="points")
    options = scenario.options()
    share = options.software_share
    drawn, paths = [], []
    for i, (inputs, path) in enumerate(sample_paths(scenario, runs, seed)):
        drawn.append(inputs)
        paths.append(path)
        if on_progress is not None and i % 100 == 99:
            on_progress(i + 1, runs)
    lead = max(path.asara_months for path in paths)
    horizon = float(options.horizon_months)
    grid = np.linspace(-lead, horizon, points)
    years = np.empty((runs, points))
    for i, path in enumerate(paths):
        # Doublings completed by each grid month on the run's own clock (ASARA at path.asara_months).
        done = np.searchsorted(path.times, grid + path.asara_months, side="right") - 1
        years[i] = years_compressed(np.clip(done, 0, None), share)
    bands = np.quantile(years, QUANTILES, axis=0)
    return {
        "scenario": scenario.name,
        "seed": seed,
        "runs": runs,
        "software_share": share,
        "horizon_months": horizon,
        "ramp_lead_months": lead,
        "months": grid.tolist(),
        "quantiles": {f"{q:g}": band.tolist() for q, band in zip(QUANTILES, bands, strict=True)},
        "samples": [
            {
                "sample": i,
                "inputs": drawn[i],
                "years": years[i].tolist(),
                "end_reason": paths[i].end_reason,
                "ceiling_years": years_compressed(paths[i].ceiling_doublings, share),
            }
            for i in range(shown)
        ],
    }
