"""A hostile mix of requests against a real ``asara web`` server on 127.0.0.1, measuring its memory.

Used by tests/fuzz/test_hostile_load.py (a short run) and on demand for the full measurement:

    PYTHONPATH=src:. python -m tests.fuzz.hostile 1000
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import psutil

MEMORY_CAP_BYTES = 1536 * 2**20
"""The server's stated memory cap under hostile load (docs/web.md): 1.5 GiB resident."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(timeout: float = 2.0) -> Iterator[tuple[str, psutil.Process]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "asara.cli.main", "web", "--port", str(port), "--timeout", str(timeout)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/limits", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                problem = process.stderr.read().decode()[-500:] if process.stderr else ""
                raise RuntimeError(f"the server did not start: {problem}")
            time.sleep(0.2)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _scenario(**changes: object) -> dict[str, object]:
    return {"name": "hostile", **changes}


HOSTILE: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("POST", "/api/sie/run", json.dumps({"samples": 1_000_000, "seed": 1}).encode(), {}),
    (
        "POST",
        "/api/sie/run",
        json.dumps(
            {
                "scenario": _scenario(inputs={"limit_years": {"kind": "fixed", "value": 1e308}}),
                "samples": 1_000_000,
            }
        ).encode(),
        {},
    ),
    (
        "POST",
        "/api/sie/run",
        json.dumps(
            {
                "scenario": _scenario(inputs={"limit_years": {"kind": "fixed", "value": 1e6}}),
                "samples": 1_000_000,
            }
        ).encode(),
        {},
    ),
    (
        "POST",
        "/api/sie/run",
        json.dumps({"scenario": _scenario(software_share=1e-308), "samples": 1000}).encode(),
        {},
    ),
    (
        "POST",
        "/api/sie/run",
        json.dumps(
            {
                "scenario": _scenario(
                    software_share=0.005, inputs={"limit_years": {"kind": "fixed", "value": 12}}
                ),
                "samples": 1_000_000,
            }
        ).encode(),
        {},
    ),
    (
        "POST",
        "/api/sie/sensitivity",
        json.dumps(
            {"scenario": _scenario(inputs={"limit_years": {"kind": "fixed", "value": 1e308}})}
        ).encode(),
        {},
    ),
    ("POST", "/api/sie/sensitivity", json.dumps({"samples": 8192, "seed": 3}).encode(), {}),
    ("POST", "/api/sie/samples", json.dumps({"samples": 200_000, "format": "csv"}).encode(), {}),
    ("POST", "/api/sie/explain", json.dumps({"scenario": "extension-data", "samples": 200_000}).encode(), {}),
    ("POST", "/api/sie/run", b'{"samples": ' + b"9" * 4400 + b"}", {}),
    ("POST", "/api/sie/run", b'{"scenario": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", {}),
    ("POST", "/api/sie/run", b"x" * 70_000, {}),
    ("POST", "/api/sie/toml", json.dumps({"scenario": {"name": "\u540d\u524d"}}).encode(), {}),
    ("POST", "/api/sie/run", b'{"samples": 100}', {"content-type": "text/plain"}),
    ("GET", "/api/limits", b"", {"host": "attacker.example"}),
    ("DELETE", "/api/sie/run", b"", {}),
]


@dataclass
class Outcome:
    requests: int
    statuses: Counter[int]
    rss_before: int
    rss_after: int
    rss_peak: int
    seconds: float
    healthy_after: bool


def hammer(url: str, process: psutil.Process, requests: int, concurrency: int = 8) -> Outcome:
    def rss() -> int:
        return int(process.memory_info().rss)

    with httpx.Client(timeout=60) as warm:
        warm.post(f"{url}/api/sie/run", json={"samples": 20_000})
    before = rss()
    peak = before
    plan = list(itertools.islice(itertools.cycle(HOSTILE), requests))

    def send(item: tuple[str, str, bytes, dict[str, str]]) -> int:
        method, path, body, headers = item
        sent = {"content-type": "application/json", **headers}
        with httpx.Client(timeout=60) as client:
            try:
                return client.request(method, f"{url}{path}", content=body, headers=sent).status_code
            except httpx.HTTPError:
                return -1

    started = time.monotonic()
    statuses: Counter[int] = Counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for status in pool.map(send, plan):
            statuses[status] += 1
            peak = max(peak, rss())
    seconds = time.monotonic() - started
    time.sleep(2.5)  # let stopped computations reach their next chunk boundary
    with httpx.Client(timeout=30) as client:
        healthy = client.post(f"{url}/api/sie/run", json={"samples": 5_000}).status_code == 200
    return Outcome(requests, statuses, before, rss(), peak, seconds, healthy)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with server() as (url, process):
        outcome = hammer(url, process, count)
    mib = 2**20
    print(
        f"{outcome.requests} hostile requests in {outcome.seconds:.1f} s; "
        f"statuses {dict(sorted(outcome.statuses.items()))}; "
        f"RSS before {outcome.rss_before / mib:.0f} MiB, peak {outcome.rss_peak / mib:.0f} MiB, "
        f"after {outcome.rss_after / mib:.0f} MiB (cap {MEMORY_CAP_BYTES / mib:.0f} MiB); "
        f"valid run afterwards: {'200' if outcome.healthy_after else 'FAILED'}"
    )


if __name__ == "__main__":
    main()
