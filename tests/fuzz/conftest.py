"""Shared settings of the fuzz suite: a few examples in `make test`, many on demand.

ASARA_FUZZ_EXAMPLES=2000 pytest tests/fuzz   # the longer run
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.fuzz.budget import EXAMPLES

settings.register_profile(
    "asara-fuzz",
    max_examples=EXAMPLES or 25,
    deadline=None,
    derandomize=not EXAMPLES,  # the default run is reproducible; the long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
