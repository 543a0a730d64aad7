"""Start-up benchmark (run on demand: `.venv/bin/python benchmarks/bench_startup.py --compare REV`).

Times the light commands (``asara --help``, ``asara version``, ``asara sie presets``) as a user runs
them: a fresh interpreter each time (``python -m asara.cli.main``), N runs each, reporting the median
and the minimum (the minimum is the least disturbed by other load on a shared machine), next to a bare
``python -c pass``. With ``--compare REV`` the same commands from the sources of git revision REV run in
alternating rounds, so that load spreads over both. The target is at most 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import sources_of  # benchmarks/revision.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [["--help"], ["version"], ["sie", "presets"]]


def seconds(command: list[str], source: Path) -> float:
    environment = {**os.environ, "PYTHONPATH": str(source)}
    started = time.perf_counter()
    subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--compare", metavar="REV", help="also time the sources of this git revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this tree": ROOT / "src"}
        if args.compare:
            trees[args.compare] = sources_of(args.compare, Path(scratch))
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            times.setdefault(("python -c pass", ""), []).append(seconds([sys.executable, "-c", "pass"], ROOT))
            for command in COMMANDS:
                for name, source in trees.items():
                    run = [sys.executable, "-m", "asara.cli.main", *command]
                    times.setdefault((" ".join(["asara", *command]), name), []).append(seconds(run, source))
    print(f"{args.runs} runs each (seconds)")
    for (command, tree), values in times.items():
        label = f"{command} [{tree}]" if tree else command
        print(f"  {label:<40} median {statistics.median(values):.3f}   min {min(values):.3f}")


if __name__ == "__main__":
    main()
