"""Web playground benchmark: response times of POST /api/sie/run against a running server on 127.0.0.1.

Starts ``asara web`` on a free port (or uses ``--url`` for a server you started), waits until it answers,
then times full HTTP round trips for 1e5 and 1e6 samples of the paper baseline, several times each with a
different seed per request (nothing is cached), and reports the median, min and max wall time together
with the server's own compute time (the ``X-Compute-Seconds`` header).

    .venv/bin/python benchmarks/bench_web.py [--repeats 7] [--url http://127.0.0.1:8000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ASARA = Path(sys.executable).parent / "asara"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/sie/presets", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no server answered at {url}")


def measure(client: httpx.Client, url: str, samples: int, repeats: int) -> dict[str, float | int]:
    # One untimed request first, so the numbers describe a warm server.
    client.post(f"{url}/api/sie/run", json={"scenario": "paper-baseline", "samples": samples, "seed": 10_000})
    walls, computes = [], []
    for seed in range(repeats):
        body = {"scenario": "paper-baseline", "samples": samples, "seed": seed}
        started = time.perf_counter()
        response = client.post(f"{url}/api/sie/run", json=body)
        walls.append(time.perf_counter() - started)
        response.raise_for_status()
        assert response.json()["samples"] == samples
        computes.append(float(response.headers["X-Compute-Seconds"]))
    return {
        "samples": samples,
        "repeats": repeats,
        "wall_median_s": statistics.median(walls),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "compute_median_s": statistics.median(computes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    process = None
    url = args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [str(ASARA), "web", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_until_up(url)
        with httpx.Client(timeout=120) as client:
            results = [measure(client, url, n, args.repeats) for n in (100_000, 1_000_000)]
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    record = {"url": url, "cores": os.cpu_count(), "results": results}
    if args.json:
        print(json.dumps(record, indent=2))
        return
    print(
        f"POST /api/sie/run, paper-baseline, server {url}, {os.cpu_count()} cores, "
        f"{args.repeats} requests each"
    )
    print(f"{'samples':>10}  {'median':>8}  {'min':>8}  {'max':>8}  {'server compute (median)':>24}")
    for r in results:
        print(
            f"{r['samples']:>10,}  {r['wall_median_s']:>7.3f}s  {r['wall_min_s']:>7.3f}s  "
            f"{r['wall_max_s']:>7.3f}s  {r['compute_median_s']:>23.3f}s"
        )


if __name__ == "__main__":
    main()
