"""Wall time of every persona command as a user runs it (on demand:
`.venv/bin/python benchmarks/bench_persona_commands.py [--runs 3] [--only TEXT] [--compare REV]`).

Each command runs as a fresh subprocess (``python -m asara.cli.main persona ...``), on every shipped preset
with the documented example arguments (docs/persona.md), after one unmeasured warm-up run (which fills the
numba cache); the median of ``--runs`` runs is printed with PASS/FAIL against the issue's limit (2 s, and
5 s for ``calibrate``). With ``--compare REV`` the sources of git revision REV run in alternating rounds
beside this tree (its own warm-up fills its own numba cache), so that machine load spreads over both.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import sources_of  # benchmarks/revision.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
PRESETS = [
    "naive-decay",
    "test-aware",
    "production-stories",
    "patient-waluigi",
    "inoculation",
    "inoculation-control",
    "tice-calibration",
]
LIMIT = 2.0
CALIBRATE_LIMIT = 5.0


def commands() -> list[list[str]]:
    found: list[list[str]] = [["presets"]]
    found += [["run", preset] for preset in PRESETS]
    found += [
        ["decay", "--q-prior", "0.01", "--opportunities", "1", "--documents", "1e3"],
        ["decay", "--q-prior", "beta:1,1", "--opportunities", "1", "--documents", "1e9"],
        ["decay", "--q-prior", "beta:1e-3,1", "--opportunities", "1", "--documents", "1e9"],
        ["decay", "--q-prior", "beta:1e-7,1", "--opportunities", "1", "--documents", "1e9"],
        ["calibrate"],
        ["optimize", "production-stories"],
        ["plan", "production-stories", "--target", "0.05"],
        ["plan", "production-stories", "--target", "0.05", "--objective", "misbehaviour"],
        ["plan", "production-stories", "--target", "0.05", "--objective", "residual"],
        ["explain", "inoculation-control", "inoculation"],
        ["explain", "naive-decay", "production-stories"],
    ]
    found += [["sensitivity", preset] for preset in PRESETS]
    found += [["sensitivity", "production-stories", "--method", "morris"]]
    found += [["tornado", preset] for preset in PRESETS]
    return found


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(command: list[str], source: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run. On a shared machine the CPU time is the steadier
    figure; numba's parallel kernels can make it exceed the wall time on an idle one."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    run = [sys.executable, "-m", "asara.cli.main", "persona", *command]
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(run, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(f"  ! {' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
    return elapsed, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="time only commands whose text contains this")
    parser.add_argument("--compare", metavar="REV", help="also time the sources of this git revision")
    args = parser.parse_args()
    selected = [c for c in commands() if not args.only or args.only in " ".join(c)]
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this tree": ROOT / "src"}
        if args.compare:
            trees[args.compare] = sources_of(args.compare, Path(scratch))
        header = "".join(f"{name[:16]:>18}" for name in trees)
        print(f"median of {args.runs} runs, wall / CPU seconds (after one warm-up run each)")
        print(f"  {'asara persona ...':<66}{header}")
        failures = 0
        for command in selected:
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for source in trees.values():
                seconds(command, source)  # warm-up: numba cache, file system cache
            for _ in range(args.runs):
                for name, source in trees.items():
                    times[name].append(seconds(command, source))
            limit = CALIBRATE_LIMIT if command[0] == "calibrate" else LIMIT
            median = statistics.median(wall for wall, _ in times["this tree"])
            verdict = "PASS" if median <= limit else "FAIL"
            failures += verdict == "FAIL"
            cells = "".join(
                f"{statistics.median(p[0] for p in runs):10.2f} /{statistics.median(p[1] for p in runs):5.2f}"
                for runs in times.values()
            )
            print(f"  {' '.join(command):<66}{cells}   {verdict} (limit {limit:g} s)", flush=True)
        print(f"{len(selected) - failures} of {len(selected)} within their limit (wall time)")


if __name__ == "__main__":
    main()
