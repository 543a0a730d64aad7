"""Provider batch files: exported in each provider's request format and split at its limits; result files
(shuffled, with errored, expired and cancelled lines) imported by custom_id; other corpora refused."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asara.corpus.batchfiles import (
    BatchLimits,
    corpus_tag,
    custom_id,
    export_batch,
    import_results,
    parse_custom_id,
)
from asara.corpus.requests import request_hash as hash_of
from asara.corpus.store import MemoryStore
from asara.errors import InputError

CORPUS = "corpus-7f3a"
ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def make_requests(count: int, padding: int = 0) -> list[tuple[str, dict[str, Any]]]:
    requests = []
    for index in range(count):
        body = {
            "model": "gen-model",
            "messages": [
                {"role": "system", "content": "You write documents about deployed AI systems."},
                {"role": "user", "content": f"Write document {index}." + " pad" * padding},
            ],
            "temperature": 0.8,
            "max_tokens": 400,
            "seed": index,
        }
        requests.append((hash_of(body), body))
    return requests


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- export ------------------------------------------------------------------------------------------


def test_openai_export_is_one_request_object_a_line(tmp_path: Path) -> None:
    requests = make_requests(5)
    paths = export_batch(requests, "openai-batch", tmp_path / "batch.jsonl", CORPUS)
    assert paths == [tmp_path / "batch.jsonl"]
    lines = read_lines(paths[0])
    assert [line["body"] for line in lines] == [body for _, body in requests]
    for line, (request_hash, _) in zip(lines, requests, strict=True):
        assert set(line) == {"custom_id", "method", "url", "body"}
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        assert parse_custom_id(line["custom_id"]) == (corpus_tag(CORPUS), request_hash)


def test_anthropic_export_converts_the_chat_body(tmp_path: Path) -> None:
    requests = make_requests(3)
    (path,) = export_batch(requests, "anthropic-batch", tmp_path / "batch.jsonl", CORPUS)
    lines = read_lines(path)
    for line, (request_hash, body) in zip(lines, requests, strict=True):
        assert set(line) == {"custom_id", "params"}
        assert ANTHROPIC_ID.match(line["custom_id"])
        assert parse_custom_id(line["custom_id"]) == (corpus_tag(CORPUS), request_hash)
        assert line["params"] == {
            "model": "gen-model",
            "max_tokens": 400,
            "system": "You write documents about deployed AI systems.",
            "messages": [{"role": "user", "content": body["messages"][1]["content"]}],
            "temperature": 0.8,
        }
    # What the create call takes: {"requests": [each line]}.
    assert json.loads('{"requests":[' + ",".join(path.read_text().splitlines()) + "]}")["requests"] == lines


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"temperature": 1.3}, "temperature"),
        ({"max_tokens": None}, "max_tokens"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}, "text"),
    ],
)
def test_anthropic_export_refuses_what_it_cannot_express(
    tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    (request_hash, body), *_ = make_requests(1)
    body = {key: value for key, value in {**body, **change}.items() if value is not None}
    with pytest.raises(InputError, match=fragment):
        export_batch([(request_hash, body)], "anthropic-batch", tmp_path / "b.jsonl", CORPUS)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize("fmt", ["openai-batch", "anthropic-batch"])
def test_export_splits_at_the_request_limit(tmp_path: Path, fmt: Any) -> None:
    requests = make_requests(7)
    paths = export_batch(requests, fmt, tmp_path / "batch.jsonl", CORPUS, BatchLimits(3, 10**9))
    assert [path.name for path in paths] == ["batch.jsonl", "batch-2.jsonl", "batch-3.jsonl"]
    counts = [len(read_lines(path)) for path in paths]
    assert counts == [3, 3, 1]
    ids = [parse_custom_id(line["custom_id"]) for path in paths for line in read_lines(path)]
    assert [found[1] for found in ids if found] == [request_hash for request_hash, _ in requests]


def test_export_splits_at_the_byte_limit(tmp_path: Path) -> None:
    requests = make_requests(10, padding=50)
    (probe,) = export_batch(requests, "openai-batch", tmp_path / "probe.jsonl", CORPUS)
    line_bytes = max(len(line) + 1 for line in probe.read_bytes().splitlines())
    limit = BatchLimits(1000, int(line_bytes * 3.5))
    paths = export_batch(requests, "openai-batch", tmp_path / "batch.jsonl", CORPUS, limit)
    sizes = [path.stat().st_size for path in paths]
    assert all(size <= limit.max_bytes for size in sizes)
    assert sum(len(read_lines(path)) for path in paths) == 10
    assert len(paths) == 4  # three lines fit in each file, four files for ten lines


def test_export_refuses_a_request_over_the_byte_limit(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="alone is"):
        export_batch(make_requests(2), "openai-batch", tmp_path / "b.jsonl", CORPUS, BatchLimits(10, 100))


def test_export_refuses_to_leave_a_stale_part_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "batch.jsonl"
    export_batch(make_requests(5), "openai-batch", out, CORPUS, BatchLimits(2, 10**9))
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert sorted(before) == ["batch-2.jsonl", "batch-3.jsonl", "batch.jsonl"]
    with pytest.raises(InputError, match=r"batch-3\.jsonl"):
        export_batch(make_requests(3), "openai-batch", out, CORPUS, BatchLimits(2, 10**9))
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink"])
def test_export_never_replaces_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "batch.jsonl"
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "folder":
        out.mkdir()
    else:
        (tmp_path / "elsewhere.jsonl").write_text("precious\n")
        out.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(InputError, match=r"not a regular file|is a directory"):
        export_batch(make_requests(2), "openai-batch", out, CORPUS)
    assert out.is_fifo() if kind == "fifo" else out.is_dir() if kind == "folder" else out.is_symlink()
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


def test_an_openai_batch_holds_one_model(tmp_path: Path) -> None:
    requests = make_requests(3)
    other = {**requests[2][1], "model": "judge-model"}
    mixed = [*requests[:2], (hash_of(other), other)]
    with pytest.raises(InputError, match=r"one model.*'gen-model' and 'judge-model'"):
        export_batch(mixed, "openai-batch", tmp_path / "b.jsonl", CORPUS)
    # Anthropic batches may mix models.
    (path,) = export_batch(mixed, "anthropic-batch", tmp_path / "b.jsonl", CORPUS)
    assert [line["params"]["model"] for line in read_lines(path)] == ["gen-model", "gen-model", "judge-model"]


def test_export_of_nothing_and_of_unknown_formats_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing to export"):
        export_batch([], "openai-batch", tmp_path / "b.jsonl", CORPUS)
    with pytest.raises(InputError, match="format"):
        export_batch(make_requests(1), "gemini-batch", tmp_path / "b.jsonl", CORPUS)  # type: ignore[arg-type]


@given(st.binary(min_size=32, max_size=32), st.text(min_size=1, max_size=200))
def test_custom_id_round_trips_within_anthropic_rules(raw: bytes, corpus_id: str) -> None:
    identifier = custom_id(corpus_id, raw.hex())
    assert ANTHROPIC_ID.match(identifier) and len(identifier) <= 64
    assert parse_custom_id(identifier) == (corpus_tag(corpus_id), raw.hex())


# -- provider result fixtures ------------------------------------------------------------------------


def openai_success(identifier: str, index: int) -> dict[str, Any]:
    return {
        "id": f"batch_req_{index}",
        "custom_id": identifier,
        "response": {
            "status_code": 200,
            "request_id": f"req_{index}",
            "body": {
                "id": f"chatcmpl-{index}",
                "object": "chat.completion",
                "created": 1711652795,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"Document text {index}."},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 22, "completion_tokens": 2 + index, "total_tokens": 24 + index},
                "system_fingerprint": "fp_3ba",
            },
        },
        "error": None,
    }


def openai_error(identifier: str, index: int) -> dict[str, Any]:
    return {
        "id": f"batch_req_{index}",
        "custom_id": identifier,
        "response": None,
        "error": {"code": "batch_expired", "message": "This request could not be executed before the window"},
    }


def openai_http_error(identifier: str, index: int) -> dict[str, Any]:
    return {
        "id": f"batch_req_{index}",
        "custom_id": identifier,
        "response": {
            "status_code": 400,
            "request_id": f"req_{index}",
            "body": {"error": {"message": "max_tokens is too large", "type": "invalid_request_error"}},
        },
        "error": None,
    }


def anthropic_line(identifier: str, index: int, kind: str) -> dict[str, Any]:
    if kind == "succeeded":
        result: dict[str, Any] = {
            "type": "succeeded",
            "message": {
                "id": f"msg_{index}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [
                    {"type": "text", "text": f"Chapter {index}. "},
                    {"type": "text", "text": "The end."},
                ],
                "stop_reason": "max_tokens" if index % 2 else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 30, "output_tokens": 100 + index},
            },
        }
    elif kind == "errored":
        result = {
            "type": "errored",
            "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "bad prompt"}},
        }
    else:
        result = {"type": kind}
    return {"custom_id": identifier, "result": result}


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_openai_results_shuffled_with_errors(tmp_path: Path) -> None:
    requests = make_requests(12)
    hashes = [request_hash for request_hash, _ in requests]
    lines = []
    for index, request_hash in enumerate(hashes):
        identifier = custom_id(CORPUS, request_hash)
        maker = openai_error if index % 4 == 1 else openai_http_error if index % 4 == 2 else openai_success
        lines.append(maker(identifier, index))
    random.Random(4).shuffle(lines)
    results = write_jsonl(tmp_path / "output.jsonl", lines)
    store = MemoryStore()
    summary = import_results(results, CORPUS, set(hashes), store)
    succeeded = [request_hash for index, request_hash in enumerate(hashes) if index % 4 in (0, 3)]
    assert set(store.records) == set(succeeded)
    assert set(summary.failed) == set(hashes) - set(succeeded)
    assert summary.stored == len(succeeded) and summary.lines == 12 and summary.unknown == 0
    assert "batch_expired" in summary.failed[hashes[1]] and "HTTP 400" in summary.failed[hashes[2]]
    record = store.records[hashes[3]]
    assert record == {
        "request_hash": hashes[3],
        "text": "Document text 3.",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 22, "completion_tokens": 5},
        "model": "gpt-4o-mini-2024-07-18",
        "source": "openai-batch",
        "attempts": 1,
        "received_at": record["received_at"],
    }
    # Importing again stores nothing new and loses nothing.
    again = import_results(results, CORPUS, set(hashes), store)
    assert again.stored == 0 and again.already_stored == len(succeeded)
    assert store.records[hashes[3]] is record


def test_anthropic_results_shuffled_with_errored_expired_and_canceled(tmp_path: Path) -> None:
    requests = make_requests(16)
    hashes = [request_hash for request_hash, _ in requests]
    kinds = ["succeeded", "errored", "expired", "canceled"]
    lines = [anthropic_line(custom_id(CORPUS, h), i, kinds[i % 4]) for i, h in enumerate(hashes)]
    random.Random(9).shuffle(lines)
    store = MemoryStore()
    summary = import_results(write_jsonl(tmp_path / "results.jsonl", lines), CORPUS, hashes, store)
    succeeded = hashes[0::4]
    assert set(store.records) == set(succeeded)
    assert summary.formats == {"anthropic-batch"}
    assert {reason.split(":")[0] for reason in summary.failed.values()} == {
        "anthropic batch errored",
        "anthropic batch expired",
        "anthropic batch canceled",
    }
    assert "bad prompt" in summary.failed[hashes[1]]
    first = store.records[hashes[0]]
    assert first["text"] == "Chapter 0. The end."
    assert first["usage"] == {"prompt_tokens": 30, "completion_tokens": 100}
    assert first["finish_reason"] == "stop" and first["source"] == "anthropic-batch"
    assert store.records[hashes[4]]["finish_reason"] == "stop"  # index 4: end_turn


def test_a_failed_line_does_not_hide_a_success_for_the_same_request(tmp_path: Path) -> None:
    (request_hash, _), *_ = make_requests(1)
    identifier = custom_id(CORPUS, request_hash)
    lines = [anthropic_line(identifier, 0, "expired"), anthropic_line(identifier, 0, "succeeded")]
    store = MemoryStore()
    summary = import_results(write_jsonl(tmp_path / "r.jsonl", lines), CORPUS, [request_hash], store)
    assert store.has(request_hash) and summary.failed == {}


def test_a_file_from_another_corpus_is_refused(tmp_path: Path) -> None:
    requests = make_requests(3)
    hashes = [request_hash for request_hash, _ in requests]
    lines = [openai_success(custom_id("another-corpus", h), i) for i, h in enumerate(hashes)]
    store = MemoryStore()
    with pytest.raises(InputError, match="line 1 belongs to another corpus"):
        import_results(write_jsonl(tmp_path / "other.jsonl", lines), CORPUS, hashes, store)
    assert store.records == {}


def test_a_malformed_line_is_named_and_what_came_before_stays_stored(tmp_path: Path) -> None:
    requests = make_requests(3)
    hashes = [request_hash for request_hash, _ in requests]
    path = tmp_path / "r.jsonl"
    good = json.dumps(openai_success(custom_id(CORPUS, hashes[0]), 0))
    path.write_text(good + "\n\n" + '{"custom_id": "x", "respo\n' + good + "\n", encoding="utf-8")
    store = MemoryStore()
    with pytest.raises(InputError, match=r"r\.jsonl line 3 is not JSON"):
        import_results(path, CORPUS, hashes, store)
    assert set(store.records) == {hashes[0]}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ({"id": "x"}, "no custom_id"),
        ({"custom_id": "doc-1", "result": {"type": "succeeded"}}, "not written by asara"),
        ({"custom_id": "CUSTOM", "other": 1}, "not written by asara"),
        ("neither", "neither an OpenAI nor an Anthropic"),
        ({"result": {"type": "exploded"}}, "unknown result type"),
        ({"response": "nope", "error": None}, "neither a response nor an error"),
    ],
)
def test_lines_that_are_not_results_are_refused(tmp_path: Path, line: Any, fragment: str) -> None:
    (request_hash, _), *_ = make_requests(1)
    identifier = custom_id(CORPUS, request_hash)
    if line == "neither":
        line = {"custom_id": identifier, "answer": 42}
    elif "custom_id" not in line and "id" not in line:
        line = {"custom_id": identifier, **line}
    with pytest.raises(InputError, match=fragment):
        import_results(write_jsonl(tmp_path / "r.jsonl", [line]), CORPUS, [request_hash], MemoryStore())


def test_results_for_requests_this_corpus_no_longer_asks_for_are_counted_not_stored(tmp_path: Path) -> None:
    requests = make_requests(2)
    hashes = [request_hash for request_hash, _ in requests]
    lines = [openai_success(custom_id(CORPUS, h), i) for i, h in enumerate(hashes)]
    store = MemoryStore()
    summary = import_results(write_jsonl(tmp_path / "r.jsonl", lines), CORPUS, hashes[:1], store)
    assert set(store.records) == {hashes[0]} and summary.unknown == 1


def test_an_overlong_line_is_refused_with_its_number(tmp_path: Path) -> None:
    (request_hash, _), *_ = make_requests(1)
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(openai_success(custom_id(CORPUS, request_hash), 0)) + "\n" + "x" * 5000 + "\n")
    store = MemoryStore()
    with pytest.raises(InputError, match="line 2 is longer than 1000 bytes"):
        import_results(path, CORPUS, [request_hash], store, max_line_bytes=1000)


def test_a_missing_or_odd_results_path_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        import_results(tmp_path / "absent.jsonl", CORPUS, [], MemoryStore())
    with pytest.raises(InputError, match="not a regular file"):
        import_results(tmp_path, CORPUS, [], MemoryStore())


def test_export_then_provider_then_import_round_trip(tmp_path: Path) -> None:
    """A provider's whole loop: read our request files, answer every line (some expire), import."""
    requests = make_requests(9)
    hashes = {request_hash for request_hash, _ in requests}
    paths = export_batch(requests, "anthropic-batch", tmp_path / "batch.jsonl", CORPUS, BatchLimits(4, 10**9))
    answers = []
    for index, line in enumerate(line for path in paths for line in read_lines(path)):
        answers.append(anthropic_line(line["custom_id"], index, "expired" if index == 5 else "succeeded"))
    random.Random(1).shuffle(answers)
    store = MemoryStore()
    summary = import_results(write_jsonl(tmp_path / "results.jsonl", answers), CORPUS, hashes, store)
    assert summary.stored == 8 and len(summary.failed) == 1
    assert set(store.records) | set(summary.failed) == hashes
