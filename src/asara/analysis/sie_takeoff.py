"""Takeoff over time: years of progress against months since ASARA, for sample runs and as quantile bands
over many runs (the takeoffspeeds.com view of the SIE model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from asara.errors import InputError
from asara.models.sie import trajectory
from asara.montecarlo.sampling import sample_inputs
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
    model = scenario.model()
    options = scenario.options()
    drawn = sample_inputs(scenario.distributions(), model.input_names, seed, 0, runs, scenario.copula())
    extra = model.input_names[4:]
    share = options.software_share
    paths = []
    for i in range(runs):
        inputs = {name: float(drawn[name][i]) for name in model.input_names}
        paths.append(
            trajectory(
                inputs["speedup"],
                inputs["returns"],
                inputs["limit_years"],
                inputs["parallel_penalty"],
                options,
                per_sample={name: inputs[name] for name in extra},
            )
        )
        if on_progress is not None and i % 100 == 99:
            on_progress(i + 1, runs)
    lead = max(path.asara_months for path in paths)
    horizon = float(options.horizon_months)
    grid = np.linspace(-lead, horizon, points)
    years = np.empty((runs, points))
    for i, path in enumerate(paths):
        # Doublings completed by each grid month on the run's own clock (ASARA at path.asara_months).
        done = np.searchsorted(path.times, grid + path.asara_months, side="right") - 1
        years[i] = np.clip(done, 0, None) * share / 4.0
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
                "inputs": {name: float(drawn[name][i]) for name in model.input_names},
                "years": years[i].tolist(),
                "end_reason": paths[i].end_reason,
                "ceiling_years": paths[i].ceiling_doublings * share / 4.0,
            }
            for i in range(shown)
        ],
    }
