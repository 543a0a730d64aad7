"""Property tests: monotonicity of the model and reproducibility of the runner."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asara.models.sie import SieOptions, simulate
from asara.montecarlo import runner
from asara.montecarlo.executors import ProcessExecutor, SerialExecutor, ThreadExecutor
from asara.scenarios import sie as scenarios

speedups = st.floats(0.5, 64)
returns = st.floats(0.1, 6)
limits = st.floats(0.5, 20)
penalties = st.floats(0.05, 1.0)
variants = st.sampled_from(
    [
        SieOptions(),
        SieOptions(constant_r=True),
        SieOptions(retraining="paper"),
        SieOptions(initial_doubling="pace"),
        SieOptions(ramp="linear"),
        SieOptions(ramp="exponential", horizon_includes_ramp=True),
    ]
)


@settings(max_examples=300, deadline=None)
@given(speedups, st.floats(1.0, 8.0), returns, limits, penalties, variants)
def test_more_speedup_never_slows_a_run(
    f: float, factor: float, r0: float, limit: float, p: float, o: SieOptions
) -> None:
    slow = simulate(f, r0, limit, p, options=o)
    fast = simulate(f * factor, r0, limit, p, options=o)
    assert np.all(fast.max_doublings >= slow.max_doublings)


@settings(max_examples=300, deadline=None)
@given(speedups, returns, limits, st.floats(0.0, 10.0), penalties, variants)
def test_higher_ceiling_never_lowers_compression(
    f: float, r0: float, limit: float, extra: float, p: float, o: SieOptions
) -> None:
    low = simulate(f, r0, limit, p, options=o)
    high = simulate(f, r0, limit + extra, p, options=o)
    assert np.all(high.max_doublings >= low.max_doublings)


SCENARIO = scenarios.load("paper-baseline")
MODEL = SCENARIO.model()
DISTRIBUTIONS = SCENARIO.inputs.as_mapping()


def summary_of(samples: int, seed: int, chunk_size: int, executor: object) -> tuple[object, ...]:
    result = runner.run(MODEL, DISTRIBUTIONS, samples, seed, chunk_size=chunk_size, executor=executor)  # type: ignore[arg-type]
    return (
        tuple(result.total(name) for name in MODEL.output_names),
        {name: tuple(counts) for name, counts in result.counts.items()},
    )


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**63), st.integers(1, 3000), st.integers(1, 3))
def test_same_seed_same_results_whatever_chunks_and_workers(
    samples: int, seed: int, chunk: int, workers: int
) -> None:
    reference = summary_of(samples, seed, 10**9, SerialExecutor())
    assert summary_of(samples, seed, chunk, ThreadExecutor(workers)) == reference


def test_same_results_in_worker_processes() -> None:
    reference = summary_of(20_000, 5, 4096, SerialExecutor())
    assert summary_of(20_000, 5, 1024, ProcessExecutor(2)) == reference


def test_sample_i_does_not_depend_on_total_samples() -> None:
    from asara.montecarlo.sampling import sample_inputs

    short = sample_inputs(DISTRIBUTIONS, MODEL.input_names, 9, 0, 1500)
    long = sample_inputs(DISTRIBUTIONS, MODEL.input_names, 9, 0, 5000)
    middle = sample_inputs(DISTRIBUTIONS, MODEL.input_names, 9, 1000, 1500)
    for name in MODEL.input_names:
        np.testing.assert_array_equal(short[name], long[name][:1500])
        np.testing.assert_array_equal(middle[name], short[name][1000:])


def test_different_seeds_differ() -> None:
    assert summary_of(5000, 1, 4096, SerialExecutor()) != summary_of(5000, 2, 4096, SerialExecutor())
