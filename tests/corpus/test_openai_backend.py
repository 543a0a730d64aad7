"""The OpenAI-compatible backend against a loopback fake server that misbehaves: nothing lost, nothing
sent twice, every request with a final outcome, and one clear error when the run cannot succeed."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import asara
from asara.corpus.backends.openai import (
    ClientSettings,
    Outcome,
    backoff_delay,
    check_server,
    completion_record,
    environment_proxy,
    parse_retry_after,
    run_requests,
)
from asara.corpus.store import MemoryStore, ResponseStore
from asara.errors import InputError
from tests.corpus.fake_server import (
    Reply,
    always,
    body_hash,
    default_text,
    fake_openai_server,
    first_attempt_faults,
    planned_failures,
)

KEY_ENV = "ASARA_TEST_CORPUS_KEY"


class FullDiskStore(MemoryStore):
    def put(self, request_hash: str, record: dict[str, Any]) -> None:
        if len(self.records) >= 5:
            raise OSError(28, "No space left on device")
        super().put(request_hash, record)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def make_requests(count: int, model: str = "gen-model") -> list[tuple[str, dict[str, Any]]]:
    requests = []
    for index in range(count):
        body = {
            "model": model,
            "messages": [{"role": "user", "content": f"Write document number {index} about a patient AI."}],
            "temperature": 0.8,
            "max_tokens": 64,
        }
        requests.append((body_hash(body), body))
    return requests


def fast(base_url: str, **overrides: Any) -> ClientSettings:
    """Settings with millisecond backoff, so misbehaviour costs the tests no time."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "api_key_env": KEY_ENV,
        "concurrency": 8,
        "timeout": 5.0,
        "connect_timeout": 2.0,
        "backoff_base": 0.001,
        "backoff_max": 0.01,
    }
    values.update(overrides)
    return ClientSettings(**values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- nothing lost, nothing sent twice ----------------------------------------------------------------


def test_every_request_is_answered_once_whatever_the_server_does() -> None:
    requests = make_requests(240)
    store = MemoryStore()
    seen: list[Outcome] = []
    with fake_openai_server(script=first_attempt_faults()) as server:
        outcomes = run_requests(requests, store, fast(server.base_url, concurrency=16), seen.append)
    assert [outcome.request_hash for outcome in outcomes] == [request_hash for request_hash, _ in requests]
    assert {outcome.status for outcome in outcomes} == {"ok"}
    assert sorted(seen, key=lambda o: o.request_hash) == sorted(outcomes, key=lambda o: o.request_hash)
    for request_hash, body in requests:
        # Every scripted failure was retried, and nothing beyond it was sent: exactly one answer each.
        assert server.counts[request_hash] == 1 + planned_failures(request_hash)
        assert server.answered[request_hash] == 1
        record = store.records[request_hash]
        assert record["text"] == default_text(body)
        assert record["attempts"] == server.counts[request_hash]
        assert record["source"] == "openai" and record["model"] == "gen-model"
        assert record["usage"]["completion_tokens"] == len(default_text(body).split())
        assert record["finish_reason"] == "stop"
    assert {planned_failures(h) for h, _ in requests} == {0, 1, 3}  # the script exercised every fault
    assert store.puts == len(requests)


def test_concurrency_is_bounded() -> None:
    with fake_openai_server(delay=0.01) as server:
        run_requests(make_requests(60), MemoryStore(), fast(server.base_url, concurrency=5))
    assert server.max_in_flight == 5


def test_stored_responses_are_never_requested_again() -> None:
    requests = make_requests(30)
    store = MemoryStore()
    with fake_openai_server() as server:
        run_requests(requests[:12], store, fast(server.base_url))
        first = dict(server.counts)
        outcomes = run_requests(requests, store, fast(server.base_url))
    assert {h: server.counts[h] for h, _ in requests[:12]} == first  # not one re-sent
    assert all(server.counts[h] == 1 for h, _ in requests)
    assert [outcome.attempts for outcome in outcomes[:12]] == [0] * 12
    assert all(outcome.attempts == 1 and outcome.status == "ok" for outcome in outcomes[12:])


def test_a_hash_listed_twice_is_sent_once() -> None:
    requests = make_requests(3)
    doubled = requests + requests[:2]
    calls: list[Outcome] = []
    with fake_openai_server() as server:
        outcomes = run_requests(doubled, MemoryStore(), fast(server.base_url), calls.append)
    assert len(outcomes) == 5 and outcomes[3] == outcomes[0]
    assert len(calls) == 3 and set(server.counts.values()) == {1}


def test_retry_after_is_honoured() -> None:
    requests = make_requests(1)

    def script(_hash: str, attempt: int) -> Reply:
        return Reply("status", 429, retry_after="1") if attempt == 1 else Reply()

    with fake_openai_server(script=script) as server:
        (outcome,) = run_requests(requests, MemoryStore(), fast(server.base_url, backoff_max=5.0))
    arrivals = server.arrivals[requests[0][0]]
    assert outcome.status == "ok" and outcome.attempts == 2
    assert arrivals[1] - arrivals[0] >= 0.95


def test_a_retry_after_holds_off_every_worker_not_only_the_one_told() -> None:
    requests = make_requests(12)
    told = requests[0][0]

    def script(request_hash: str, attempt: int) -> Reply:
        return Reply("status", 429, retry_after="1") if request_hash == told and attempt == 1 else Reply()

    with fake_openai_server(script=script, delay=0.05) as server:
        run_requests(requests, MemoryStore(), fast(server.base_url, concurrency=2, backoff_max=5.0))
    start = server.arrivals[told][0]
    during_pause = [t for times in server.arrivals.values() for t in times if start + 0.2 < t < start + 0.9]
    assert during_pause == []
    assert server.chat_requests == 13


def test_a_retry_after_beyond_the_cap_fails_the_request_instead_of_hanging() -> None:
    requests = make_requests(2)
    script = always(Reply("status", 429, retry_after="86400", message="daily quota exhausted"))
    with fake_openai_server(script=script) as server, pytest.raises(InputError, match="86400 s") as error:
        run_requests(requests, MemoryStore(), fast(server.base_url, backoff_max=1.0))
    assert "daily quota exhausted" in str(error.value)
    assert server.chat_requests == 2


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_a_cap_and_never_below_retry_after() -> None:
    settings = ClientSettings(base_url="http://127.0.0.1:1/v1", backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(0)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [backoff_delay(retry, settings, None, rng) for _ in range(2000)]
        assert 0.0 <= min(delays) < 0.05 * ceiling and 0.95 * ceiling < max(delays) <= ceiling
    assert all(backoff_delay(1, settings, 3.0, rng) >= 3.0 for _ in range(100))


def test_a_slow_answer_times_out_and_is_retried() -> None:
    requests = make_requests(2)

    def script(_hash: str, attempt: int) -> Reply:
        return Reply("slow", delay=0.6) if attempt == 1 else Reply()

    store = MemoryStore()
    with fake_openai_server(script=script) as server:
        outcomes = run_requests(requests, store, fast(server.base_url, timeout=0.2))
    assert [outcome.attempts for outcome in outcomes] == [2, 2]
    assert set(store.records) == {h for h, _ in requests}
    assert all(server.counts[h] == 2 for h, _ in requests)


def test_non_retryable_answers_fail_at_once_and_the_rest_go_on() -> None:
    requests = make_requests(40)
    bad = {h for h, _ in requests if int(h[:4], 16) % 3 == 0}

    def script(request_hash: str, _attempt: int) -> Reply:
        return Reply("status", 400, message="prompt too long") if request_hash in bad else Reply()

    store = MemoryStore()
    with fake_openai_server(script=script) as server:
        outcomes = run_requests(requests, store, fast(server.base_url))
    failed = {outcome.request_hash: outcome for outcome in outcomes if outcome.status == "failed"}
    assert set(failed) == bad and 0 < len(bad) < 40
    assert all(o.attempts == 1 and o.error == "HTTP 400: prompt too long" for o in failed.values())
    assert set(store.records) == {h for h, _ in requests} - bad
    assert all(server.counts[h] == 1 for h in bad)


def test_an_exhausted_retry_budget_fails_that_request_only() -> None:
    requests = make_requests(12)
    doomed = requests[0][0]

    def script(request_hash: str, _attempt: int) -> Reply:
        return Reply("status", 503, message="overloaded") if request_hash == doomed else Reply()

    with fake_openai_server(script=script) as server:
        outcomes = run_requests(requests, MemoryStore(), fast(server.base_url, max_retries=2))
    assert outcomes[0] == Outcome(doomed, "failed", 3, "HTTP 503: overloaded (gave up after 3 attempts)")
    assert server.counts[doomed] == 3
    assert all(outcome.status == "ok" for outcome in outcomes[1:])


def test_an_oversized_answer_is_refused_not_read() -> None:
    requests = make_requests(3)
    with fake_openai_server(responder=lambda _body: "word " * 2000) as server:
        with pytest.raises(InputError, match="max_response_bytes"):
            run_requests(requests, MemoryStore(), fast(server.base_url, max_response_bytes=2048))
        assert server.chat_requests == 3  # failed without retrying


# -- runs that cannot succeed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply("status", 400, message="unsupported parameter"), "unsupported parameter"),
        (Reply("status", 500, message="engine down"), "engine down"),
        (Reply("drop"), "connection failed"),
        (Reply("malformed"), "not valid JSON"),
    ],
)
def test_an_api_that_fails_everything_stops_early_and_keeps_what_is_stored(
    reply: Reply, fragment: str
) -> None:
    requests = make_requests(200)
    store = MemoryStore()
    store.put("0" * 64, {"request_hash": "0" * 64, "text": "kept"})
    with fake_openai_server(script=always(reply)) as server:
        settings = fast(server.base_url, max_retries=1, abort_after_failures=10, concurrency=4)
        with pytest.raises(InputError, match="requests in a row failed") as error:
            run_requests(requests, store, settings)
    assert fragment in str(error.value)
    assert server.chat_requests <= 2 * (10 + 4)  # stopped after about ten requests, not two hundred
    assert store.records == {"0" * 64: {"request_hash": "0" * 64, "text": "kept"}}


def test_a_small_run_in_which_every_request_fails_is_an_error() -> None:
    script = always(Reply("status", 422, message="bad schema"))
    expected = r"all 3 requests .* failed \(last: HTTP 422: bad schema\)"
    with fake_openai_server(script=script) as server, pytest.raises(InputError, match=expected):
        run_requests(make_requests(3), MemoryStore(), fast(server.base_url))


def test_a_base_url_that_is_not_a_server_is_one_clear_error() -> None:
    settings = fast(f"http://127.0.0.1:{free_port()}/v1", max_retries=1, abort_after_failures=3)
    with pytest.raises(InputError, match="cannot reach") as reached:
        check_server(settings)
    assert "\n" not in str(reached.value)
    with pytest.raises(InputError, match="connection failed"):
        run_requests(make_requests(20), MemoryStore(), settings)


def test_a_full_disk_stops_the_run_and_keeps_what_was_stored() -> None:
    requests = make_requests(60)
    store = FullDiskStore()
    with fake_openai_server() as server:
        with pytest.raises(InputError, match="No space left on device"):
            run_requests(requests, store, fast(server.base_url, concurrency=2))
        sent = server.chat_requests
    assert len(store.records) == 5 and sent < 60


def test_a_failing_progress_callback_is_not_swallowed() -> None:
    def explode(_outcome: Outcome) -> None:
        raise RuntimeError("progress bar broke")

    store = MemoryStore()
    with fake_openai_server() as server, pytest.raises(RuntimeError, match="progress bar broke"):
        run_requests(make_requests(10), store, fast(server.base_url, concurrency=1), explode)
    assert len(store.records) >= 1  # what arrived before it was stored all the same


# -- the key -----------------------------------------------------------------------------------------


def test_the_key_is_sent_as_a_bearer_token_and_not_at_all_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai_server() as server:
        run_requests(make_requests(2), MemoryStore(), fast(server.base_url))
        assert server.authorizations == Counter({None: 2})
        monkeypatch.setenv(KEY_ENV, "sk-test-1234")
        run_requests(make_requests(3)[2:], MemoryStore(), fast(server.base_url))
        assert server.authorizations[None] == 2 and server.authorizations["Bearer sk-test-1234"] == 1


def test_a_rejected_key_stops_the_run_and_never_appears_in_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-live-very-secret-987"
    monkeypatch.setenv(KEY_ENV, secret)
    with fake_openai_server(require_key="sk-the-right-one") as server:
        settings = fast(server.base_url, concurrency=2)
        with pytest.raises(InputError) as refused:
            run_requests(make_requests(50), MemoryStore(), settings)
        with pytest.raises(InputError) as listed:
            check_server(settings)
        assert server.chat_requests <= 2
    for error in (refused.value, listed.value):
        assert "HTTP 401" in str(error) and KEY_ENV in str(error)
        assert secret not in str(error) and secret not in repr(error.args)
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err


def test_check_server_lists_models_and_knows_a_wrong_model_or_path() -> None:
    with fake_openai_server(model="served-model") as server:
        assert check_server(fast(server.base_url)) == ["served-model"]
        assert check_server(fast(server.base_url), model="served-model") == ["served-model"]
        with pytest.raises(InputError, match="does not list model 'other'"):
            check_server(fast(server.base_url), model="other")
        with pytest.raises(InputError, match="HTTP 404"):
            check_server(fast(server.base_url.removesuffix("/v1")))
        with pytest.raises(InputError, match="usually ends in /v1"):
            run_requests(make_requests(5), MemoryStore(), fast(server.base_url.removesuffix("/v1")))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "127.0.0.1:8000"}, "base_url"),
        ({"base_url": "ftp://host/v1"}, "base_url"),
        ({"base_url": "http://user:sk-secret@127.0.0.1/v1"}, "base_url"),
        ({"base_url": "http://127.0.0.1/v1?x=1"}, "base_url"),
        ({"base_url": ""}, "base_url"),
        ({"api_key_env": "sk-abc123 key"}, "api_key_env"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 10_000}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"max_retries": 100}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": 1e9}, "timeout"),
        ({"backoff_base": 2.0, "backoff_max": 1.0}, "backoff_max"),
        ({"max_total_wait": float("inf")}, "max_total_wait"),
        ({"abort_after_failures": 0}, "abort_after_failures"),
        ({"max_response_bytes": 10}, "max_response_bytes"),
    ],
)
def test_settings_are_bounded(overrides: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {"base_url": "http://127.0.0.1:8000/v1", **overrides}
    with pytest.raises(InputError) as error:
        ClientSettings(**values)
    assert error.value.field == field
    assert "sk-secret" not in str(error.value)


def test_a_base_url_is_normalised() -> None:
    assert (
        ClientSettings(base_url=" http://127.0.0.1:8000/v1/ ").chat_url
        == "http://127.0.0.1:8000/v1/chat/completions"
    )


# -- kill -9 and resume ------------------------------------------------------------------------------

DRIVER = """
import json, os, sys
from pathlib import Path
from asara.corpus.backends.openai import ClientSettings, run_requests
from asara.corpus.store import ResponseStore

base_url, requests_file, folder = sys.argv[1:4]
requests = [tuple(pair) for pair in json.loads(Path(requests_file).read_text())]
settings = ClientSettings(base_url=base_url, api_key_env="ASARA_TEST_CORPUS_KEY", concurrency=4,
                          backoff_base=0.001, backoff_max=0.01, timeout=5.0)
outcomes = run_requests(requests, ResponseStore(Path(folder)), settings)
ok = sum(outcome.status == "ok" for outcome in outcomes)
print(json.dumps({"ok": ok, "skipped": sum(outcome.attempts == 0 for outcome in outcomes)}))
"""


def stored(folder: Path) -> set[str]:
    return set(ResponseStore(folder).hashes()) if folder.exists() else set()


def test_kill_9_mid_run_then_resume_resends_nothing_stored(tmp_path: Path) -> None:
    requests = make_requests(150)
    hashes = {request_hash for request_hash, _ in requests}
    (tmp_path / "requests.json").write_text(json.dumps(requests))
    (tmp_path / "driver.py").write_text(DRIVER)
    folder = tmp_path / "responses"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(asara.__file__).parents[1])}
    env.pop(KEY_ENV, None)
    with fake_openai_server(script=first_attempt_faults(), delay=0.01) as server:
        command = [
            sys.executable,
            str(tmp_path / "driver.py"),
            server.base_url,
            str(tmp_path / "requests.json"),
        ]
        command.append(str(folder))
        snapshots = []
        for kill_after in (30, 80):  # two crashes at different points
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while len(stored(folder)) < kill_after and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert process.poll() is None, "the run finished before it could be killed"
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            snapshots.append((stored(folder), Counter(server.counts)))
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert finished.returncode == 0, finished.stderr
        assert json.loads(finished.stdout)["ok"] == 150
        final = Counter(server.counts)
        answered = Counter(server.answered)
    assert stored(folder) == hashes
    for at_kill, counts_at_kill in snapshots:
        assert kill_after_ok(at_kill, counts_at_kill, final)
    assert 30 <= len(snapshots[0][0]) < len(snapshots[1][0]) < 150
    # Whatever was stored at the first crash was answered exactly once; a response is asked for again
    # only if it was in flight when a process died (at most 4 at a time, two crashes).
    assert all(answered[h] == 1 for h in snapshots[0][0])
    assert sum(answered[h] - 1 for h in hashes) <= 2 * 4
    store = ResponseStore(folder)
    assert all((store.get(h) or {}).get("request_hash") == h for h in hashes)


def kill_after_ok(at_kill: set[str], counts_at_kill: Counter[str], final: Counter[str]) -> bool:
    """No request whose response was stored when the process died was sent again afterwards."""
    return all(final[h] == counts_at_kill[h] for h in at_kill)


def test_an_answer_without_text_fails_without_a_retry() -> None:
    body = {"model": "m", "messages": []}
    answer = {"choices": [{"message": {"role": "assistant", "content": None}, "finish_reason": "tool_calls"}]}
    assert completion_record("a" * 64, answer, body, "openai", 1) == (
        "the answer has no text content (finish_reason 'tool_calls')"
    )
    assert completion_record("a" * 64, {"object": "error"}, body, "openai", 1) == "the answer has no choices"
    record = completion_record("a" * 64, {"choices": [{"message": {"content": "hi"}}]}, body, "openai", 2)
    assert isinstance(record, dict)
    assert record["usage"] == {"prompt_tokens": None, "completion_tokens": None}  # unknown, not zero
    assert record["model"] == "m" and record["finish_reason"] is None and record["attempts"] == 2


def test_proxies_come_from_the_environment_but_never_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert environment_proxy("https://api.example.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert environment_proxy("https://api.example.com/v1") == "http://proxy.internal:3128"
    assert environment_proxy("http://api.example.com/v1") is None
    for loopback in ("127.0.0.1:8000", "127.0.0.2", "[::1]:8000", "localhost", "a.localhost"):
        assert environment_proxy(f"https://{loopback}/v1") is None, loopback
    monkeypatch.setenv("no_proxy", "localhost,.example.com")
    assert environment_proxy("https://api.example.com/v1") is None
    assert environment_proxy("https://api.example.org/v1") == "http://proxy.internal:3128"


class BatchingStore(MemoryStore):
    """A store that can only write in batches, as the corpus store prefers."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def put(self, request_hash: str, record: dict[str, Any]) -> None:
        raise AssertionError("put_many should have been used")

    def put_many(self, items: list[tuple[str, dict[str, Any]]]) -> int:
        time.sleep(0.01)  # a flush to disk
        self.batches.append(len(items))
        for request_hash, record in items:
            self.records.setdefault(request_hash, record)
        return len(items)


def test_a_store_with_put_many_gets_batches_and_loses_nothing() -> None:
    requests = make_requests(300)
    store = BatchingStore()
    with fake_openai_server() as server:
        outcomes = run_requests(requests, store, fast(server.base_url, concurrency=16))
    assert {outcome.status for outcome in outcomes} == {"ok"}
    assert set(store.records) == {h for h, _ in requests}
    assert sum(store.batches) == 300 and max(store.batches) > 1  # responses waited for one flush together
