"""How much fuzzing: a few examples in `make test`, ASARA_FUZZ_EXAMPLES=N on demand."""

from __future__ import annotations

import os

EXAMPLES = int(os.environ.get("ASARA_FUZZ_EXAMPLES", "0") or 0)


def examples(default: int) -> int:
    """``default`` examples in the normal run; ASARA_FUZZ_EXAMPLES in the long one."""
    return EXAMPLES or default
