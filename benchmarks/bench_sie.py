"""SIE engine benchmark (run on demand: `make bench` or `.venv/bin/python benchmarks/bench_sie.py`).

Measures, each in a fresh process so that nothing carries over between measurements:
- end to end, as a user runs it: ``asara sie run paper-baseline --samples 10000000 --seed 1`` (sampling,
  engine and summary on every core, start-up included): samples per second and peak RSS;
- the same run inside one warm process (start-up excluded);
- start-up of the light commands ``asara --help``, ``asara version``, ``asara sie presets``;
- the compiled engine alone on one thread, and the per-sample oracle loop written from the spec
  (tests/sie/oracle.py, with and without its brute-force window search), and their ratios.

``--compare REV`` measures the source tree of git revision REV the same way, interleaved with this tree
(old, new, old, new, ...) so that both see the same load on a shared machine, and prints new/old ratios.
Each figure is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from revision import sources_of  # benchmarks/revision.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
FULL_SAMPLES = 10_000_000
QUICK_SAMPLES = 1_000_000
LIGHT_COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "version": ["version"],
    "sie_presets": ["sie", "presets"],
}
_CLI = "import sys; from asara.cli.main import main; sys.argv[0] = 'asara'; sys.exit(main())"

_IN_PROCESS = """
import sys, time
from asara import sie
samples = int(sys.argv[1])
sie.run("paper-baseline", 2048, seed=1)  # load the compiled kernel first
started, cpu = time.perf_counter(), time.process_time()
sie.run("paper-baseline", samples, seed=1)
print(time.perf_counter() - started, time.process_time() - cpu)
"""

_ENGINE_AND_ORACLE = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from tests.sie.oracle import oracle_run
from asara import sie
from asara.models.sie import simulate
from asara.montecarlo.sampling import sample_inputs

scenario = sie.load("paper-baseline")
names = ("speedup", "returns", "limit_years", "parallel_penalty")

def inputs(n):
    return sample_inputs(scenario.inputs.as_mapping(), scenario.model().input_names, 1, 0, n)

n = int(sys.argv[1])
x = inputs(n)
simulate(*(x[k][:10] for k in names), scenario.options())
started = time.perf_counter()
simulate(*(x[k] for k in names), scenario.options())
engine = n / (time.perf_counter() - started)
x = inputs(2000)
started = time.perf_counter()
for i in range(2000):
    run = oracle_run(*(float(x[k][i]) for k in names))
    run.max_doublings(12.0)
    run.max_doublings(4.0)
oracle = 2000 / (time.perf_counter() - started)
x = inputs(5000)
started = time.perf_counter()
for i in range(5000):  # the recursion alone: the oracle's brute-force window search is quadratic
    oracle_run(*(float(x[k][i]) for k in names))
recursion = 5000 / (time.perf_counter() - started)
print(json.dumps({"engine": engine, "oracle": oracle, "recursion": recursion}))
"""


def _environment(src: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(src)
    environment.pop("NUMBA_DISABLE_JIT", None)
    return environment


def _timed(args: Sequence[str], src: Path) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS in MB, stdout, CPU seconds of all its threads) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=_environment(src), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert child.stdout is not None
    out = child.stdout.read()
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the largest of all children).
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])}... failed with status {child.returncode}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def _cli(src: Path, *arguments: str) -> tuple[float, float, str, float]:
    return _timed([sys.executable, "-c", _CLI, *arguments], src)


def measure(src: Path, samples: int) -> dict[str, float]:
    """One round of every measurement on the source tree ``src``."""
    results: dict[str, float] = {}
    wall, rss, _, cpu = _cli(src, "sie", "run", "paper-baseline", "--samples", str(samples), "--seed", "1")
    results["cli_seconds"] = wall
    results["cli_samples_per_s"] = samples / wall
    results["cli_cpu_seconds"] = cpu
    results["cli_peak_rss_mb"] = rss
    _, _, out, _ = _timed([sys.executable, "-c", _IN_PROCESS, str(samples)], src)
    seconds, cpu = (float(v) for v in out.strip().splitlines()[-1].split())
    results["warm_samples_per_s"] = samples / seconds
    # CPU time is far less sensitive than wall time to other work on a shared machine: samples per
    # CPU-second times the cores is the rate the run would reach with every core to itself.
    results["warm_samples_per_cpu_s"] = samples / cpu
    for name, arguments in LIGHT_COMMANDS.items():
        results[f"startup_{name}_s"] = statistics.median(_cli(src, *arguments)[0] for _ in range(3))
    return results


def engine_and_oracle(src: Path) -> dict[str, float]:
    _, _, out, _ = _timed([sys.executable, "-c", _ENGINE_AND_ORACLE, "1000000", str(ROOT)], src)
    rates = json.loads(out.strip().splitlines()[-1])
    return {
        "engine_1e6_samples_per_s_one_thread": rates["engine"],
        "oracle_samples_per_s": rates["oracle"],
        "oracle_recursion_only_samples_per_s": rates["recursion"],
        "ratio_engine_one_thread_vs_oracle": rates["engine"] / rates["oracle"],
        "ratio_engine_one_thread_vs_oracle_recursion_only": rates["engine"] / rates["recursion"],
    }


def _best(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the best round: the highest rate, the lowest time and memory."""
    best: dict[str, float] = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        best[key] = max(values) if "per_" in key else min(values)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SAMPLES:.0e} samples, not 1e7")
    parser.add_argument("--compare", metavar="REV", help="also measure git revision REV, interleaved")
    parser.add_argument("--repeats", type=int, default=2, help="rounds per tree (best is kept)")
    args = parser.parse_args()
    samples = QUICK_SAMPLES if args.quick else FULL_SAMPLES
    trees = {"new": ROOT / "src"}
    with tempfile.TemporaryDirectory(prefix="bench-sie-") as scratch:
        if args.compare:
            trees = {"old": sources_of(args.compare, Path(scratch)), **trees}
        for src in trees.values():  # compile (or load) each tree's kernels before timing anything
            _cli(src, "sie", "run", "paper-baseline", "--samples", "2048", "--seed", "1")
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(max(1, args.repeats)):
            for name, src in trees.items():
                rounds[name].append(measure(src, samples))
        results = {name: _best(r) for name, r in rounds.items()}
        results["new"].update(engine_and_oracle(trees["new"]))
    print(f"paper-baseline, {samples:,} samples, seed 1, {os.cpu_count()} cores, best of {args.repeats}")
    for key, value in results["new"].items():
        line = f"{key:<50} {value:>14,.3f}"
        if "old" in results and key in results["old"]:
            old = results["old"][key]
            line += f"   old {old:>14,.3f}   new/old {value / old:6.2f}"
        print(line)
    print(json.dumps({name: {k: round(v, 4) for k, v in r.items()} for name, r in results.items()}))


if __name__ == "__main__":
    main()
