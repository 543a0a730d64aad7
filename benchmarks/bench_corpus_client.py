"""Corpus client benchmark: requests per second of ``asara.corpus.backends.openai.run_requests`` against a
fast local OpenAI-compatible server, and what storing each response durably costs.

Starts the loopback fake server (``tests/corpus/fake_server.py``) as its own process, so server and client
each have a core, as with a real vLLM server on another machine or GPU; the server answers at once, so
the number measured is the client's own ceiling (the issue asks for at least 500 requests/s on 2 cores).
Each configuration sends fresh requests (nothing is cached) and is repeated; the median is reported.

Stores compared: ``memory`` (a dict: the client alone) and ``disk`` (the corpus's ResponseStore,
``asara.corpus.store.ResponseStore``, one durable file per response).

    .venv/bin/python benchmarks/bench_corpus_client.py [--requests 4000] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from asara.corpus.backends.openai import ClientSettings, run_requests
from asara.corpus.store import MemoryStore, ResponseStore

ROOT = Path(__file__).resolve().parents[1]


def disk_store(folder: Path) -> tuple[str, ResponseStore]:
    return "disk (ResponseStore)", ResponseStore(folder)


def make_requests(count: int, tag: str) -> list[tuple[str, dict[str, Any]]]:
    requests = []
    for index in range(count):
        body = {
            "model": "bench-model",
            "messages": [{"role": "user", "content": f"Benchmark document {tag}-{index}."}],
            "temperature": 0.8,
            "max_tokens": 64,
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        requests.append((hashlib.sha256(text.encode()).hexdigest(), body))
    return requests


def measure(base_url: str, store: Any, count: int, concurrency: int, tag: str) -> float:
    requests = make_requests(count, tag)
    settings = ClientSettings(base_url=base_url, api_key_env="ASARA_BENCH_NO_KEY", concurrency=concurrency)
    start = time.perf_counter()
    outcomes = run_requests(requests, store, settings)
    elapsed = time.perf_counter() - start
    if any(outcome.status != "ok" for outcome in outcomes):
        raise SystemExit("a benchmark request failed")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.pop("ASARA_BENCH_NO_KEY", None)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "corpus" / "fake_server.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    rows: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        measure(base_url, MemoryStore(), 200, 8, "warm-up")
        with tempfile.TemporaryDirectory(prefix="bench-corpus-") as scratch:
            disk_name, _ = disk_store(Path(scratch))
            for concurrency in args.concurrency:
                for store_name in ("memory", disk_name):
                    rates = []
                    for repeat in range(args.repeats):
                        folder = Path(scratch) / f"{store_name[:4]}-{concurrency}-{repeat}"
                        folder.mkdir()
                        store = MemoryStore() if store_name == "memory" else disk_store(folder)[1]
                        tag = f"{store_name}-{concurrency}-{repeat}"
                        rates.append(measure(base_url, store, args.requests, concurrency, tag))
                    rows.append(
                        {
                            "concurrency": concurrency,
                            "store": store_name,
                            "requests_per_second": statistics.median(rates),
                            "min": min(rates),
                            "max": max(rates),
                        }
                    )
    finally:
        server.kill()
        server.wait()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.requests} requests per run, median of {args.repeats}, fake server in its own process")
    print(f"{'concurrency':>11}  {'store':<32} {'requests/s':>10}  {'(min-max)':>13}  vs memory")
    memory = {row["concurrency"]: row["requests_per_second"] for row in rows if row["store"] == "memory"}
    for row in rows:
        ratio = row["requests_per_second"] / memory[row["concurrency"]]
        spread = f"{row['min']:.0f}-{row['max']:.0f}"
        print(
            f"{row['concurrency']:>11}  {row['store']:<32} {row['requests_per_second']:>10.0f}  "
            f"{spread:>13}  {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
