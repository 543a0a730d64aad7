"""The fast engine against the per-sample oracle, in every variant and at the edges."""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pytest

from asara.models.sie import (
    END_CEILING,
    END_HORIZON,
    END_OVERFLOW,
    END_REASONS,
    SieOptions,
    simulate,
    trajectory,
)
from tests.sie.oracle import oracle_run

VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "constant-r": {"constant_r": True},
    "retraining-paper": {"retraining": "paper"},
    "retraining-reference": {"retraining": "reference"},
    "pace-start": {"initial_doubling": "pace"},
    "ramp-linear": {"ramp": "linear"},
    "ramp-exponential-reference": {"ramp": "exponential", "horizon_includes_ramp": True},
    "software-share-0.3-long-horizon": {"software_share": 0.3, "horizon_months": 120.0},
    "short-ramp": {"ramp": "linear", "ramp_months": 12.0, "ramp_start_speedup": 0.5},
    "ramp-logistic-late": {"ramp": "logistic", "ramp_months": 40.0, "ramp_lead_months": 24.0},
    "ramp-step": {"ramp": "step", "ramp_months": 30.0, "ramp_lead_months": 18.0, "ramp_start_speedup": 0.3},
    "compute-growth": {"compute_growth_per_year": 4.0, "compute_growth_halving_years": 5.0},
    "compute-growth-gamma": {
        "compute_growth_per_year": 2.5,
        "compute_labour_exponent": 0.5,
        "labour_share": 0.3,
    },
    "ces": {"substitution_elasticity": 0.5, "labour_share": 0.4},
    "ces-with-compute": {"substitution_elasticity": 2.0, "compute_growth_per_year": 3.0},
    "continual-learning": {"retraining": "paper", "retraining_fraction": 0.4, "training_months": 5.0},
    "data": {"data_share": 0.3, "data_returns": 0.7},
    "data-stock": {"data_share": 0.5, "data_returns": 1.5, "data_stock_years": 2.0},
    "data-ramp-compute": {"data_share": 0.2, "ramp": "linear", "compute_growth_per_year": 2.0},
}


def random_inputs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Wider than the paper's ranges, to reach fizzles, ceilings and overflow."""
    f = np.exp(rng.uniform(math.log(0.5), math.log(100), n))
    r0 = np.exp(rng.uniform(math.log(0.05), math.log(8), n))
    limit = rng.uniform(0.5, 20, n)
    p = np.exp(rng.uniform(math.log(0.05), math.log(1.5), n))
    return f, r0, limit, p


def check_agreement(inputs: tuple[np.ndarray, ...], variant: dict[str, Any]) -> None:
    options = SieOptions(**variant, windows_months=(12.0, 4.0, 1.0))
    result = simulate(*inputs, options=options)
    for i in range(inputs[0].size):
        run = oracle_run(*(float(a[i]) for a in inputs), **variant)
        assert result.doublings[i] == len(run.times) - 1, i
        assert (result.end_reason[i] == END_OVERFLOW) == run.overflow, i
        for w, months in enumerate(options.windows_months):
            assert result.max_doublings[i, w] == run.max_doublings(months), (i, months)


@pytest.mark.parametrize("variant", list(VARIANTS), ids=list(VARIANTS))
def test_engine_matches_oracle_on_random_inputs(variant: str) -> None:
    rng = np.random.default_rng(zlib.crc32(variant.encode()))
    check_agreement(random_inputs(rng, 400), VARIANTS[variant])


def test_engine_matches_oracle_on_paper_ranges() -> None:
    rng = np.random.default_rng(7)
    n = 1500
    inputs = (
        np.exp(rng.uniform(math.log(2), math.log(32), n)),
        np.exp(rng.uniform(math.log(0.4), math.log(3.6), n)),
        rng.uniform(6, 16, n),
        np.exp(rng.uniform(math.log(0.15), math.log(0.6), n)),
    )
    check_agreement(inputs, {})


def test_fizzle_when_returns_are_tiny() -> None:
    result = simulate(8.0, 0.05, 11.0, 0.3)
    assert result.end_reason[0] == END_HORIZON
    assert result.doublings[0] < 10
    assert result.window(4.0)[0] <= 2


def test_ceiling_reached_exactly_at_ceil_n() -> None:
    # N = 8 * 1.3 = 10.4: the loop runs while n < N, so it completes 11 doublings.
    result = simulate(32.0, 3.0, 1.3, 0.3)
    assert result.end_reason[0] == END_CEILING
    assert result.doublings[0] == 11
    assert result.final_returns[0] < 0


def test_returns_crossing_one_slow_the_run_down() -> None:
    path = trajectory(8.0, 1.5, 11.0, 0.3)
    below = np.flatnonzero(path.returns < 1)
    assert below.size and below[0] > 0
    first_below = int(below[0])
    # before r < 1 the doubling time shrinks, afterwards it grows
    assert path.doubling_months[2] < path.doubling_months[1]
    assert path.doubling_months[first_below + 2] > path.doubling_months[first_below + 1]


def test_overflow_is_an_outcome_and_agrees_with_oracle() -> None:
    rng = np.random.default_rng(3)
    inputs = random_inputs(rng, 20000)
    result = simulate(*inputs)
    overflowed = np.flatnonzero(result.end_reason == END_OVERFLOW)
    assert overflowed.size > 0
    for i in overflowed[:50]:
        run = oracle_run(*(float(a[i]) for a in inputs))
        assert run.overflow
        assert result.doublings[i] == len(run.times) - 1


def test_ties_at_window_boundaries_are_strict() -> None:
    # r0 = 1 with constant r: every doubling takes exactly 3/f months.
    options = SieOptions(constant_r=True, windows_months=(12.0, 4.0, 3.0))
    result = simulate(3.0, 1.0, 11.0, 0.3, options=options)  # doubling time 1 month
    assert result.window(12.0)[0] == 11  # 12 doublings take exactly 12 months: not < 12
    assert result.window(4.0)[0] == 3
    result = simulate(1.0, 1.0, 11.0, 0.3, options=options)  # doubling time 3 months
    assert result.window(3.0)[0] == 0
    assert result.window(4.0)[0] == 1
    run = oracle_run(3.0, 1.0, 11.0, 0.3, constant_r=True)
    assert run.max_doublings(12.0) == 11


def test_trajectory_agrees_with_batch() -> None:
    rng = np.random.default_rng(11)
    f, r0, limit, p = random_inputs(rng, 50)
    for variant in VARIANTS.values():
        options = SieOptions(**variant)
        batch = simulate(f, r0, limit, p, options=options)
        for i in range(f.size):
            path = trajectory(f[i], r0[i], limit[i], p[i], options)
            assert len(path.times) - 1 == batch.doublings[i]
            assert path.max_doublings[12.0] == batch.window(12.0)[i]
            run = oracle_run(f[i], r0[i], limit[i], p[i], **variant)
            np.testing.assert_allclose(path.times, run.times, rtol=1e-9)


@pytest.mark.parametrize(
    ("variant", "sampled"),
    [
        # extension-ramp: the ramp's length is an uncertain input and the ramp ends at ASARA.
        ({"ramp": "logistic"}, ("ramp_months", "ramp_start_speedup")),
        # The length sampled but the lead fixed: ASARA stays at the fixed lead for every sample.
        ({"ramp": "linear", "ramp_lead_months": 30.0}, ("ramp_months",)),
        # The lead itself sampled.
        ({"ramp": "step", "ramp_months": 40.0}, ("ramp_lead_months",)),
        # The reference clock: the horizon counts from the ramp's start, whatever its length.
        ({"ramp": "exponential", "horizon_includes_ramp": True, "horizon_months": 90.0}, ("ramp_months",)),
    ],
)
def test_trajectory_agrees_with_batch_for_sampled_ramps(
    variant: dict[str, Any], sampled: tuple[str, ...]
) -> None:
    # The options carry one ramp (as a scenario's options carry the median); each sample's own length or
    # lead must set its ASARA month and horizon, in the trajectory as in the vectorized run.
    rng = np.random.default_rng(5)
    f, r0, limit, p = random_inputs(rng, 40)
    draws = {
        "ramp_months": rng.uniform(36.0, 84.0, f.size),
        "ramp_lead_months": rng.uniform(0.0, 60.0, f.size),
        "ramp_start_speedup": np.exp(rng.uniform(math.log(0.05), math.log(0.5), f.size)),
    }
    per_sample = {name: draws[name] for name in sampled}
    options = SieOptions(**variant)
    batch = simulate(f, r0, limit, p, options=options, per_sample=per_sample)
    for i in range(f.size):
        own = {name: float(values[i]) for name, values in per_sample.items()}
        path = trajectory(f[i], r0[i], limit[i], p[i], options, per_sample=own)
        assert len(path.times) - 1 == batch.doublings[i]
        assert path.times[-1] == batch.end_months[i]
        assert path.end_reason == END_REASONS[int(batch.end_reason[i])]
        assert path.max_doublings[12.0] == batch.window(12.0)[i]
        run = oracle_run(f[i], r0[i], limit[i], p[i], **{**variant, **own})
        np.testing.assert_allclose(path.times, run.times, rtol=1e-9)
        # The ramp's lead: sampled, else fixed, else (by default) its own length, sampled or fixed.
        length = own.get("ramp_months", variant.get("ramp_months"))
        lead = own.get("ramp_lead_months", variant.get("ramp_lead_months", length))
        assert path.asara_months == lead
        horizon = variant.get("horizon_months", 48.0)
        assert path.total_months == (horizon if variant.get("horizon_includes_ramp") else lead + horizon)
        if path.end_reason == "horizon":
            # The run stopped at the first doubling to complete at or after its own horizon.
            assert path.times[-2] < path.total_months <= path.times[-1]
        else:
            assert path.times[-1] < path.total_months


def test_trajectory_without_a_ramp_has_asara_at_zero() -> None:
    # A sampled ramp length does nothing without a ramp shape: ASARA is at month 0 and the horizon 48.
    path = trajectory(8.0, 1.2, 11.0, 0.3, SieOptions(), per_sample={"ramp_months": 36.0})
    assert path.asara_months == 0.0 and path.total_months == 48.0


def test_engine_times_match_oracle_times_closely() -> None:
    path = trajectory(8.0, 1.2, 11.0, 0.3)
    run = oracle_run(8.0, 1.2, 11.0, 0.3)
    np.testing.assert_allclose(path.times, run.times, rtol=1e-12)
    assert path.times[1] == 3.0 / 8.0


def test_scalar_and_array_inputs() -> None:
    a = simulate(8.0, np.array([1.0, 2.0]), 11.0, 0.3)
    assert a.doublings.shape == (2,)
    with pytest.raises(ValueError):
        simulate(np.ones(2), np.ones(3), 11.0, 0.3)
