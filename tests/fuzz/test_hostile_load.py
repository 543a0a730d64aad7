"""A real server under a hostile mix of requests: no 5xx but 503, memory under the stated cap, and a
valid request still answered afterwards."""

from __future__ import annotations

from tests.fuzz.budget import EXAMPLES
from tests.fuzz.hostile import MEMORY_CAP_BYTES, hammer, server


def test_hostile_load_keeps_memory_under_the_cap() -> None:
    with server(timeout=2.0) as (url, process):
        outcome = hammer(url, process, requests=EXAMPLES or 32)
    assert outcome.healthy_after
    assert outcome.rss_peak < MEMORY_CAP_BYTES, outcome
    bad = {
        status: n for status, n in outcome.statuses.items() if (status >= 500 and status != 503) or status < 0
    }
    assert not bad, outcome.statuses
