"""A request's identity: the sha256 of its canonical JSON body.

A body is an OpenAI chat-completions body (``model``, ``messages``, ``temperature``, ``max_tokens``, ...).
Two bodies that mean the same thing serialize to the same bytes, so a response stored under a hash is never
requested again, whichever backend or batch file carried it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters kept, NaN and infinity refused."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def request_hash(body: dict[str, Any]) -> str:
    """The hex sha256 of the body's canonical JSON."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()
