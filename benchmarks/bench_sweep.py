"""Sweep benchmark (run on demand: `make bench` or `.venv/bin/python benchmarks/bench_sweep.py`).

Measures in one run, side by side on the same machine, the same fixed grid (8 points of the paper
baseline) on:
- local worker processes, 1 and 2 (``ProcessExecutor``, as ``asara sie sweep --workers``; the timing
  includes starting the pool, which every sweep pays; that fixed cost is also measured on its own),
- a 2-worker ``distributed.LocalCluster`` (started and warmed up beforehand, as a long-lived cluster is)
  whose nannies do not set ``MALLOC_TRIM_THRESHOLD_`` (asara's setting),
- the same cluster with Dask's default (``MALLOC_TRIM_THRESHOLD_=65536`` in every worker process),
and, on the two clusters, the CPU time (of the worker thread, so hardly moved by other load on the
machine) of the sweep's chunks and of a plain NumPy task that allocates 512 kB temporaries, the pattern
that setting slows most. Rounds alternate between the setups so that load from other processes spreads
over all of them; the medians are reported. Every setup's sweep results are checked to be bit-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asara.analysis.sweep import run_sweep  # noqa: E402
from asara.montecarlo.executors import (  # noqa: E402
    DaskExecutor,
    Executor,
    ProcessExecutor,
    local_dask_cluster,
)
from asara.montecarlo.runner import ChunkTask, chunk_tasks, run_chunk  # noqa: E402
from asara.scenarios.sie import load  # noqa: E402

SCENARIO = "paper-baseline"
GRID = ["inputs.returns.high=3,4,5,6", "retraining=none,paper"]
POINTS = 8


def numpy_temporaries(repeats: int) -> float:
    """CPU seconds for ``repeats`` rounds of arithmetic on 64k-element arrays (a new 512 kB array each
    step). CPU time of the worker's thread (page faults included) does not count waiting for a core,
    so load from other processes hardly moves it."""
    values = np.random.default_rng(1).random(65_536)
    started = time.thread_time()
    for _ in range(repeats):
        (np.sqrt(values) * 2.0 + values).sum()
    return time.thread_time() - started


def chunk_cpu_seconds(task: ChunkTask) -> float:
    """CPU seconds of the worker's thread for one sweep chunk (see numpy_temporaries)."""
    started = time.thread_time()
    run_chunk(task)
    return time.thread_time() - started


def sweep_seconds(executor: Executor, samples: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = run_sweep(SCENARIO, GRID, samples=samples, seed=1, executor=executor)
    return time.perf_counter() - started, result.to_dict()


def pool_start_seconds(workers: int) -> float:
    """Seconds to start a local pool and run one tiny chunk per worker: the fixed cost of a local sweep
    (each worker process imports NumPy, SciPy and asara and loads the compiled kernel)."""
    started = time.perf_counter()
    run_sweep(
        SCENARIO, GRID[:1], samples=1024 * workers, seed=1, chunk_size=1024, executor=ProcessExecutor(workers)
    )
    return time.perf_counter() - started


def numpy_task_seconds(executor: DaskExecutor, tasks: int) -> float:
    """Median worker-side CPU seconds of ``tasks`` NumPy tasks."""
    return statistics.median(executor.map(numpy_temporaries, [2000] * tasks))


def sweep_chunk_seconds(executor: DaskExecutor) -> float:
    """Median worker-side CPU seconds of the sweep's 65,536-sample chunks (one point's worth)."""
    scenario = load(SCENARIO)
    tasks = chunk_tasks(scenario.model(), scenario.distributions(), 8 * 65_536, 1, copula=scenario.copula())
    return statistics.median(executor.map(chunk_cpu_seconds, tasks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=250_000, help="samples per grid point")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples: int = args.samples
    load_before = os.getloadavg()[0]
    # Local pools run before and between the clusters; local_dask_cluster keeps the nannies' variables
    # out of this process, so the local workers never inherit MALLOC_TRIM_THRESHOLD_.
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ, "unset MALLOC_TRIM_THRESHOLD_ before benchmarking"
    timings: dict[str, list[float]] = {}
    reference: dict[str, Any] | None = None
    with (
        local_dask_cluster(2, trim_malloc=False) as plain_cluster,
        local_dask_cluster(2, trim_malloc=True) as trimming_cluster,
        DaskExecutor(plain_cluster.scheduler_address) as plain,
        DaskExecutor(trimming_cluster.scheduler_address) as trimming,
    ):
        setups: dict[str, Callable[[], Executor]] = {
            "local_processes_1": lambda: ProcessExecutor(1),
            "local_processes_2": lambda: ProcessExecutor(2),
            "localcluster_2_malloc_trim_unset": lambda: plain,
            "localcluster_2_dask_default_malloc_trim": lambda: trimming,
        }
        for executor in (plain, trimming):  # load the compiled kernel in every worker before timing
            run_sweep(SCENARIO, GRID, samples=8192, seed=1, chunk_size=1024, executor=executor)
            numpy_task_seconds(executor, 4)
        for _ in range(args.rounds):
            for name, make in setups.items():
                seconds, record = sweep_seconds(make(), samples)
                timings.setdefault(name, []).append(seconds)
                reference = reference or record
                assert record == reference, f"{name} gave different results"
            timings.setdefault("local_pool_start_2", []).append(pool_start_seconds(2))
            timings.setdefault("sweep_chunk_malloc_trim_unset", []).append(sweep_chunk_seconds(plain))
            timings.setdefault("sweep_chunk_dask_default_malloc_trim", []).append(
                sweep_chunk_seconds(trimming)
            )
            timings.setdefault("numpy_task_malloc_trim_unset", []).append(numpy_task_seconds(plain, 4))
            timings.setdefault("numpy_task_dask_default_malloc_trim", []).append(
                numpy_task_seconds(trimming, 4)
            )
    median = {name: statistics.median(values) for name, values in timings.items()}
    results: dict[str, float] = {}
    for name in setups:
        results[f"{name}_samples_per_s"] = POINTS * samples / median[name]
        results[f"{name}_points_per_s"] = POINTS / median[name]
    results["local_pool_start_s_2_workers"] = median["local_pool_start_2"]
    results["sweep_chunk_cpu_s_malloc_trim_unset"] = median["sweep_chunk_malloc_trim_unset"]
    results["sweep_chunk_cpu_s_dask_default_malloc_trim"] = median["sweep_chunk_dask_default_malloc_trim"]
    results["numpy_task_cpu_s_malloc_trim_unset"] = median["numpy_task_malloc_trim_unset"]
    results["numpy_task_cpu_s_dask_default_malloc_trim"] = median["numpy_task_dask_default_malloc_trim"]
    results["ratio_local_2_vs_1_workers"] = median["local_processes_1"] / median["local_processes_2"]
    results["ratio_localcluster_vs_local_2_workers"] = (
        median["local_processes_2"] / median["localcluster_2_malloc_trim_unset"]
    )
    results["slowdown_sweep_with_dask_default_malloc_trim"] = (
        median["localcluster_2_dask_default_malloc_trim"] / median["localcluster_2_malloc_trim_unset"]
    )
    results["slowdown_sweep_chunk_cpu_with_dask_default_malloc_trim"] = (
        median["sweep_chunk_dask_default_malloc_trim"] / median["sweep_chunk_malloc_trim_unset"]
    )
    results["slowdown_numpy_task_cpu_with_dask_default_malloc_trim"] = (
        median["numpy_task_dask_default_malloc_trim"] / median["numpy_task_malloc_trim_unset"]
    )
    print(f"grid {' x '.join(GRID)}: {POINTS} points x {samples:,} samples, median of {args.rounds} rounds")
    print(f"load average before the run: {load_before:.2f} (cores: {os.cpu_count()})")
    for key, value in results.items():
        print(f"{key:<52} {value:>14,.3f}")
    print(json.dumps({k: round(v, 3) for k, v in results.items()}))


if __name__ == "__main__":
    main()
