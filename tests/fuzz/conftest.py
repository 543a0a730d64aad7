"""Shared settings of the fuzz suite: a few examples in `make test`, many on demand.

ASARA_FUZZ_EXAMPLES=2000 pytest tests/fuzz   # the longer run
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("ASARA_FUZZ_EXAMPLES", "0") or 0)

settings.register_profile(
    "asara-fuzz",
    max_examples=EXAMPLES or 25,
    deadline=None,
    derandomize=not EXAMPLES,  # the default run is reproducible; the long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


def examples(default: int) -> int:
    """``default`` examples in the normal run; ASARA_FUZZ_EXAMPLES in the long one."""
    return EXAMPLES or default
