"""Request identity and the response store: never overwritten, durable, thread-safe."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asara.corpus.requests import canonical_json, request_hash
from asara.corpus.store import ResponseStore
from asara.errors import InputError


def record(h: str, text: str = "hello") -> dict[str, Any]:
    return {
        "request_hash": h,
        "text": text,
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
        "model": "m",
        "source": "openai",
        "attempts": 1,
        "received_at": "2026-01-01T00:00:00+00:00",
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_hash_ignores_key_order_and_matches_the_definition(body: dict[str, Any]) -> None:
    reordered = dict(reversed(list(body.items())))
    assert request_hash(body) == request_hash(reordered)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert canonical_json(body) == text
    assert request_hash(body) == hashlib.sha256(text.encode()).hexdigest()


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"temperature": float("nan")})


def test_put_get_never_overwrites(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r")
    h = request_hash({"model": "m", "messages": []})
    assert not store.has(h) and store.get(h) is None
    store.put(h, record(h, "first"))
    store.put(h, record(h, "second"))
    assert store.get(h)["text"] == "first"  # type: ignore[index]
    assert list(store.hashes()) == [h]
    assert not list(store.path(h).parent.glob("*.partial"))


def test_bad_records_and_hashes_are_refused(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r")
    h = "a" * 64
    with pytest.raises(InputError):
        store.put(h, record("b" * 64))
    with pytest.raises(InputError):
        store.put(h, {**record(h), "source": "elsewhere"})
    with pytest.raises(InputError):
        store.has("../../etc/passwd")


def test_concurrent_writers_store_each_response_once(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r")
    hashes = [request_hash({"i": i}) for i in range(200)]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for h in hashes[offset:] + hashes[:offset]:
                store.put(h, record(h, f"writer {offset}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k * 50,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(store.hashes()) == sorted(hashes)
    for h in hashes:
        stored = store.get(h)
        assert stored is not None and stored["request_hash"] == h


def test_put_many_counts_new_records(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r")
    hashes = [request_hash({"i": i}) for i in range(10)]
    assert store.put_many([(h, record(h)) for h in hashes[:5]]) == 5
    assert store.put_many([(h, record(h)) for h in hashes]) == 5
