"""SIE engine benchmark (run on demand: `make bench` or `.venv/bin/python benchmarks/bench_sie.py`).

Measures in one run, side by side on the same machine:
- the compiled engine's samples per second on the paper baseline (1e6 samples, one thread, kernel only),
- the full Monte Carlo (sampling + engine + all four cells) at 1e6 and 1e7 samples on every core,
- the per-sample oracle loop written from the spec (tests/sie/oracle.py) on a few thousand samples,
- their ratio, and the peak resident memory of a 1e7-sample run (in a fresh process).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sie.oracle import oracle_run  # noqa: E402

from asara import sie  # noqa: E402
from asara.models.sie import simulate  # noqa: E402
from asara.montecarlo.sampling import sample_inputs  # noqa: E402

SCENARIO = sie.load("paper-baseline")


def inputs(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    return sample_inputs(SCENARIO.inputs.as_mapping(), SCENARIO.model().input_names, seed, 0, n)


def engine_rate(n: int) -> float:
    x = inputs(n)
    simulate(x["speedup"][:10], x["returns"][:10], x["limit_years"][:10], x["parallel_penalty"][:10])
    started = time.perf_counter()
    simulate(x["speedup"], x["returns"], x["limit_years"], x["parallel_penalty"], SCENARIO.options())
    return n / (time.perf_counter() - started)


def oracle_rate(n: int) -> float:
    x = inputs(n)
    started = time.perf_counter()
    for i in range(n):
        run = oracle_run(*(float(x[k][i]) for k in ("speedup", "returns", "limit_years", "parallel_penalty")))
        run.max_doublings(12.0)
        run.max_doublings(4.0)
    return n / (time.perf_counter() - started)


def oracle_simulation_rate(n: int) -> float:
    """The oracle's recursion alone (its brute-force window search is quadratic; this is the fair floor)."""
    x = inputs(n)
    started = time.perf_counter()
    for i in range(n):
        oracle_run(*(float(x[k][i]) for k in ("speedup", "returns", "limit_years", "parallel_penalty")))
    return n / (time.perf_counter() - started)


def run_rate(n: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    summary = sie.run(SCENARIO, n, seed=1)
    elapsed = time.perf_counter() - started
    return n / elapsed, [cell.estimate.probability for cell in summary.cells]


def child_peak_rss(n: int) -> float:
    """Peak RSS (MB) of a fresh process that runs ``n`` samples through the full Monte Carlo."""
    # The child's own high-water mark (VmHWM): ru_maxrss would carry over the parent's peak.
    code = (
        f"from asara import sie; sie.run('paper-baseline', {n}, seed=1); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 1e7-sample measurements")
    args = parser.parse_args()
    sie.run(SCENARIO, 2048, seed=1)  # compile / load the kernel before timing anything
    results: dict[str, float] = {}
    results["engine_1e6_samples_per_s_one_thread"] = engine_rate(1_000_000)
    results["oracle_samples_per_s"] = oracle_rate(2_000)
    results["oracle_recursion_only_samples_per_s"] = oracle_simulation_rate(5_000)
    rate, probabilities = run_rate(1_000_000)
    results["monte_carlo_1e6_samples_per_s_all_cores"] = rate
    results["monte_carlo_1e6_seconds"] = 1_000_000 / rate
    if not args.quick:
        rate, _ = run_rate(10_000_000)
        results["monte_carlo_1e7_samples_per_s_all_cores"] = rate
        results["peak_rss_mb_1e7_samples"] = child_peak_rss(10_000_000)
    results["peak_rss_mb_1e6_samples"] = child_peak_rss(1_000_000)
    results["ratio_engine_one_thread_vs_oracle"] = (
        results["engine_1e6_samples_per_s_one_thread"] / results["oracle_samples_per_s"]
    )
    results["ratio_engine_one_thread_vs_oracle_recursion_only"] = (
        results["engine_1e6_samples_per_s_one_thread"] / results["oracle_recursion_only_samples_per_s"]
    )
    for key, value in results.items():
        print(f"{key:<50} {value:>14,.2f}")
    print("paper-baseline probabilities at 1e6 samples:", ", ".join(f"{p:.4f}" for p in probabilities))
    print(json.dumps({k: round(v, 3) for k, v in results.items()}))


if __name__ == "__main__":
    main()
