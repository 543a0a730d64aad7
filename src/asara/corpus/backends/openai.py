"""The ``openai`` backend: any OpenAI-compatible ``/v1/chat/completions`` server (vLLM, llama.cpp server,
Ollama, the provider itself).

:func:`run_requests` sends every request that has no stored response, with bounded concurrency (one
httpx keep-alive connection per worker, at most ``concurrency`` workers), timeouts, and retries with
exponential backoff and full jitter that honour ``Retry-After`` on 429 and 5xx answers (a Retry-After
pauses every worker, not only the one told); dropped connections, timeouts and answers that are not JSON
are retried too. Each successful answer is handed to the store *before anything else is done with it*
(before its :class:`Outcome` is reported; batched into ``put_many`` when the store has it), so a crash,
Ctrl-C or ``kill -9`` never loses a stored response, and a rerun skips every hash the store already has:
a stored response is never requested again. Usage the server does not report is stored as None, not 0.

The API key is read from the environment variable named by ``ClientSettings.api_key_env`` and sent as a
bearer token; it is never written to disk, to logs or into an error message (server messages that echo it
are scrubbed). With the variable unset no ``Authorization`` header is sent, which is what local servers
expect.

Failures a user must fix end the run with :class:`asara.errors.InputError` (one line; the CLI exits 2):
a rejected key (401/403), a wrong URL or model (404/405), a run of ``abort_after_failures`` requests in a
row that all failed (a base URL that is not a server, an API that refuses everything, a retry budget
exhausted across the board), or a store that cannot write. Everything stored before that stays stored.

    settings = ClientSettings(base_url="http://127.0.0.1:8000/v1", concurrency=32)
    check_server(settings, model="Qwen/Qwen2.5-0.5B-Instruct")   # early, clear error if it is not up
    outcomes = run_requests([(request_hash(body), body), ...], store, settings, on_outcome=progress)
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib.util
import ipaddress
import json
import math
import os
import random
import re
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx

from asara.errors import InputError

MAX_CONCURRENCY = 256
MAX_RETRIES = 20
MAX_TIMEOUT = 3600.0
MAX_TOTAL_WAIT = 86_400.0
_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
_AUTH_STATUSES = frozenset({401, 403})
_ROUTE_STATUSES = frozenset({404, 405})
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STORE_BATCH = 256
_STORE_WRITERS = 2


def _fast_failing_sniffio_import() -> None:
    """httpcore runs ``import sniffio`` twice per request; when sniffio is not installed every such import
    searches the whole path again (about 0.4 ms a request, most of the client's time). Recording the
    module as absent makes that import fail at once, exactly as it would have failed anyway."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_fast_failing_sniffio_import()


class ResponseStoreLike(Protocol):
    """What the backends need from a response store (``asara.corpus.store.ResponseStore`` is one).

    ``put`` stores durably and never overwrites. A store may also offer ``put_many(items) -> int`` to
    store several records with one flush; the backend then uses it. ``put``/``put_many`` are called from
    one worker thread at a time, ``has`` from the event-loop thread."""

    def has(self, request_hash: str) -> bool: ...

    def get(self, request_hash: str) -> dict[str, Any] | None: ...

    def put(self, request_hash: str, record: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class ClientSettings:
    """How to talk to the server. Every setting is bounded; a bad one raises InputError naming it.

    ``timeout`` bounds each attempt's reads and writes (``connect_timeout`` the connection), ``max_retries``
    the retries of one request, ``backoff_base``/``backoff_max`` the exponential backoff (full jitter:
    a uniform wait in [0, min(backoff_max, backoff_base * 2**retry)]); a ``Retry-After`` is honoured as a
    lower bound on the wait but a request whose server asks for more than ``backoff_max`` fails instead of
    hanging, and ``max_total_wait`` bounds one request's summed waits. ``abort_after_failures`` failed
    requests in a row end the run. ``max_response_bytes`` bounds one answer.
    """

    base_url: str
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    max_total_wait: float = 900.0
    abort_after_failures: int = 32
    max_response_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _check_base_url(self.base_url))
        if not isinstance(self.api_key_env, str) or not _ENV_NAME.match(self.api_key_env):
            raise InputError(
                f"not an environment variable name: {self.api_key_env!r} (give the variable's name, "
                "never the key itself)",
                field="api_key_env",
            )
        _check_int("concurrency", self.concurrency, 1, MAX_CONCURRENCY)
        _check_int("max_retries", self.max_retries, 0, MAX_RETRIES)
        _check_int("abort_after_failures", self.abort_after_failures, 1, 1_000_000)
        _check_int("max_response_bytes", self.max_response_bytes, 1024, 1024**3)
        _check_float("timeout", self.timeout, 0.0, MAX_TIMEOUT)
        _check_float("connect_timeout", self.connect_timeout, 0.0, MAX_TIMEOUT)
        _check_float("backoff_base", self.backoff_base, 0.0, 600.0)
        _check_float("backoff_max", self.backoff_max, 0.0, 3600.0)
        _check_float("max_total_wait", self.max_total_wait, 0.0, MAX_TOTAL_WAIT)
        if self.backoff_max < self.backoff_base:
            raise InputError(
                f"must be at least backoff_base ({self.backoff_base:g}), got {self.backoff_max:g}",
                field="backoff_max",
            )

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def models_url(self) -> str:
        return f"{self.base_url}/models"


def _check_base_url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("give the server's base URL, e.g. http://127.0.0.1:8000/v1", field="base_url")
    try:
        url = httpx.URL(value.strip())
    except (httpx.InvalidURL, ValueError):
        raise InputError(f"not a URL: {value!r}", field="base_url") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(
            f"not an http(s) URL with a host: {value!r} (e.g. http://127.0.0.1:8000/v1)", field="base_url"
        )
    if url.userinfo:
        raise InputError(
            "the base URL must not carry credentials; put the key in the environment variable named by "
            "--api-key-env",
            field="base_url",
        )
    if url.query or url.fragment:
        raise InputError(f"the base URL must not have a query or fragment: {value!r}", field="base_url")
    return str(url).rstrip("/")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"must be an integer in [{low}, {high}], got {value!r}", field=name)


def _check_float(name: str, value: object, low: float, high: float) -> None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    if not low < number <= high:
        raise InputError(f"must be a number in ({low:g}, {high:g}], got {value!r}", field=name)


@dataclass(frozen=True)
class Outcome:
    """The final state of one request. ``attempts`` is 0 when its response was already stored."""

    request_hash: str
    status: Literal["ok", "failed"]
    attempts: int
    error: str | None = None


# -- classification of one attempt -------------------------------------------------------------------


@dataclass(frozen=True)
class _Success:
    record: dict[str, Any]


@dataclass(frozen=True)
class _Retry:
    error: str
    retry_after: float | None = None


@dataclass(frozen=True)
class _Fail:
    error: str


@dataclass(frozen=True)
class _Fatal:
    error: str
    field: str = "base_url"


_Attempt = _Success | _Retry | _Fail | _Fatal


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(
    retry: int, settings: ClientSettings, retry_after: float | None, rng: random.Random
) -> float:
    """The wait before retry number ``retry`` (1-based): full jitter, at least ``retry_after``."""
    ceiling = min(settings.backoff_max, settings.backoff_base * 2.0 ** (retry - 1))
    jittered = rng.uniform(0.0, ceiling)
    return jittered if retry_after is None else max(retry_after, jittered)


MIN_SECRET_LENGTH = 8
"""Shorter API keys are not masked in messages (see :class:`_Scrubber`)."""


class _Scrubber:
    """Removes the API key from any text that may reach a message."""

    def __init__(self, key: str | None) -> None:
        # A dummy key for a local server ("1", "x", "sk") would turn every digit or letter of a message into
        # "***"; such a key is no secret worth hiding, while any real key is far longer than this.
        self.key = key if key is not None and len(key) >= MIN_SECRET_LENGTH else None

    def __call__(self, text: str) -> str:
        if self.key:
            text = text.replace(self.key, "***")
        return text


def _snippet(payload: bytes, scrub: _Scrubber, limit: int = 200) -> str:
    text = payload[:4096].decode("utf-8", errors="replace")
    try:
        data = json.loads(payload) if len(payload) <= 65_536 else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("message", data.get("detail")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error)
    text = " ".join(scrub(text).split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _usage_count(usage: object, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def completion_record(
    request_hash: str, data: object, body: dict[str, Any], source: str, attempts: int
) -> dict[str, Any] | str:
    """The store record for a chat-completion answer, or why it has no text (a string)."""
    if not isinstance(data, dict):
        return "the answer is not a JSON object"
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "the answer has no choices"
    choice = choices[0]
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    finish_reason = choice.get("finish_reason")
    if not isinstance(content, str):
        return f"the answer has no text content (finish_reason {finish_reason!r})"
    usage = data.get("usage")
    model = data.get("model") if isinstance(data.get("model"), str) else body.get("model")
    return {
        "request_hash": request_hash,
        "text": content,
        "finish_reason": finish_reason if isinstance(finish_reason, str) else None,
        "usage": {
            "prompt_tokens": _usage_count(usage, "prompt_tokens"),
            "completion_tokens": _usage_count(usage, "completion_tokens"),
        },
        "model": model,
        "source": source,
        "attempts": attempts,
        "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def environment_proxy(base_url: str) -> str | None:
    """The proxy the usual environment variables name for ``base_url`` (as ``curl`` and httpx read
    them), or None: ``https_proxy``/``http_proxy``/``all_proxy`` unless ``no_proxy`` covers the host;
    loopback servers are never proxied."""
    url = httpx.URL(base_url)
    host = url.host.lower()
    if _loopback(host):
        return None
    for entry in _env("no_proxy").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return _env(f"{url.scheme}_proxy") or _env("all_proxy") or None


def _loopback(host: str) -> bool:
    """localhost, or any address of 127.0.0.0/8 or ::1 (not only 127.0.0.1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env(name: str) -> str:
    return os.environ.get(name.lower()) or os.environ.get(name.upper()) or ""


def _key_hint(settings: ClientSettings, key: str | None) -> str:
    if key is None:
        return f"${settings.api_key_env} is not set"
    return f"check the key in ${settings.api_key_env}"


# -- the run -----------------------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        requests: Sequence[tuple[str, dict[str, Any]]],
        store: ResponseStoreLike,
        settings: ClientSettings,
        on_outcome: Callable[[Outcome], None] | None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_outcome = on_outcome
        self.unique: dict[str, dict[str, Any]] = {}
        for request_hash, body in requests:
            self.unique.setdefault(request_hash, body)
        self.outcomes: dict[str, Outcome] = {}
        self.key = os.environ.get(settings.api_key_env) or None
        self.scrub = _Scrubber(self.key)
        self.rng = random.Random()
        self.paused_until = 0.0
        self.failures_in_a_row = 0
        self.last_error: str | None = None
        self.abort: InputError | None = None
        self.error: BaseException | None = None
        self.stop = asyncio.Event()
        self.chat_url = httpx.URL(settings.chat_url)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.key is not None:
            self.headers["Authorization"] = f"Bearer {self.key}"
        self.timeouts = {
            "connect": settings.connect_timeout,
            "read": settings.timeout,
            "write": settings.timeout,
            "pool": settings.timeout,
        }
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue(
            maxsize=4 * settings.concurrency + _STORE_BATCH
        )
        put_many = getattr(store, "put_many", None)
        self.put_many: Callable[[list[tuple[str, dict[str, Any]]]], object] | None = (
            put_many if callable(put_many) else None
        )

    # outcomes ---------------------------------------------------------------------------------------
    def emit(self, outcome: Outcome) -> None:
        self.outcomes[outcome.request_hash] = outcome
        if outcome.status == "ok":
            self.failures_in_a_row = 0
        elif outcome.attempts > 0:
            self.failures_in_a_row += 1
            self.last_error = outcome.error
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception as error:  # the caller's callback: end the run and re-raise it afterwards
                self.error = self.error or error
                self.stop.set()
        if self.failures_in_a_row >= self.settings.abort_after_failures:
            self.fail_run(
                f"stopped after {self.failures_in_a_row} requests in a row failed "
                f"(last: {self.last_error}); responses already stored are kept"
            )

    def fail_run(self, message: str, field: str = "base_url") -> None:
        """Ends the run (workers stop; what was received is still stored) with InputError(message)."""
        if self.abort is None:
            self.abort = InputError(self.scrub(message), field=field)
        self.stop.set()

    # storing ----------------------------------------------------------------------------------------
    def _store_batch(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            if self.put_many is not None:
                self.put_many(batch)
            else:
                for request_hash, record in batch:
                    self.store.put(request_hash, record)
        except OSError as error:
            raise InputError(f"cannot store a response: {error.strerror or error}", field="store") from None

    async def storer(self) -> None:
        """Stores received responses in batches (one flush each), then reports them as ok.

        Up to ``_STORE_WRITERS`` batches are written at once: a flush mostly waits for the disk, and
        while one batch waits the next one can already be written."""
        writers: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(_STORE_WRITERS)
        done = False
        try:
            while not done:
                item = await self.queue.get()
                if item is None:
                    break
                batch = [item]
                while len(batch) < _STORE_BATCH and not self.queue.empty():
                    more = self.queue.get_nowait()
                    if more is None:
                        done = True
                        break
                    batch.append(more)
                await slots.acquire()
                writer = asyncio.create_task(self._write(batch, slots))
                writers.add(writer)
                writer.add_done_callback(writers.discard)
        finally:
            if writers:
                await asyncio.gather(*writers, return_exceptions=True)

    async def _write(self, batch: list[tuple[str, dict[str, Any]]], slots: asyncio.Semaphore) -> None:
        try:
            await asyncio.to_thread(self._store_batch, batch)
        except Exception as error:  # a full disk, a read-only folder, ...: stop sending at once
            self.error = self.error or error
            self.stop.set()
            return
        finally:
            slots.release()
        for request_hash, record in batch:
            self.emit(Outcome(request_hash, "ok", int(record["attempts"])))

    # sending ----------------------------------------------------------------------------------------
    async def attempt(
        self,
        transport: httpx.AsyncHTTPTransport,
        request_hash: str,
        payload: bytes,
        body: dict[str, Any],
        number: int,
    ) -> _Attempt:
        settings = self.settings
        request = httpx.Request(
            "POST",
            self.chat_url,
            content=payload,
            headers=self.headers,
            extensions={"timeout": self.timeouts},
        )
        try:
            response = await transport.handle_async_request(request)
            try:
                declared = response.headers.get("content-length")
                if (
                    declared is not None
                    and declared.isdigit()
                    and int(declared) > settings.max_response_bytes
                ):
                    return _Fail(f"answer of {declared} bytes exceeds max_response_bytes")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > settings.max_response_bytes:
                        return _Fail(f"answer exceeds max_response_bytes ({settings.max_response_bytes})")
                    chunks.append(chunk)
                data = b"".join(chunks)
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return _Retry(f"no answer within {settings.timeout:g} s")
        except httpx.TransportError as error:
            return _Retry(f"connection failed: {self.scrub(str(error)) or type(error).__name__}")
        if status == 200:
            try:
                parsed = json.loads(data)
            except ValueError:
                return _Retry("the answer is not valid JSON")
            record = completion_record(request_hash, parsed, body, "openai", number)
            if isinstance(record, dict):
                return _Success(record)
            if "no text content" in record:
                return _Fail(record)
            return _Retry(record)
        message = f"HTTP {status}: {_snippet(data, self.scrub)}"
        if status in _RETRYABLE_STATUSES:
            return _Retry(message, retry_after)
        if status in _AUTH_STATUSES:
            return _Fatal(
                f"the server refused the request ({message}); {_key_hint(settings, self.key)}", "api_key_env"
            )
        if status in _ROUTE_STATUSES:
            return _Fatal(
                f"{settings.chat_url} answered {message}; "
                "check --base-url (it usually ends in /v1) and --model"
            )
        return _Fail(message)

    async def send(
        self, transport: httpx.AsyncHTTPTransport, request_hash: str, body: dict[str, Any]
    ) -> None:
        settings = self.settings
        try:
            payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as problem:
            self.emit(Outcome(request_hash, "failed", 0, f"the request body is not JSON: {problem}"))
            return
        waited = 0.0
        number = 0
        while True:
            pause = self.paused_until - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            number += 1
            result = await self.attempt(transport, request_hash, payload, body, number)
            if isinstance(result, _Success):
                await self.queue.put((request_hash, result.record))
                return
            if isinstance(result, _Fatal):
                self.last_error = result.error
                self.emit(Outcome(request_hash, "failed", number, result.error))
                self.fail_run(result.error, result.field)
                return
            if isinstance(result, _Fail):
                self.emit(Outcome(request_hash, "failed", number, result.error))
                return
            assert isinstance(result, _Retry)
            if result.retry_after is not None and result.retry_after > settings.backoff_max:
                error = (
                    f"{result.error}; the server asks to wait {result.retry_after:.0f} s, more than "
                    f"backoff_max ({settings.backoff_max:g} s)"
                )
                self.emit(Outcome(request_hash, "failed", number, error))
                return
            if number > settings.max_retries:
                error = f"{result.error} (gave up after {number} attempts)"
                self.emit(Outcome(request_hash, "failed", number, error))
                return
            delay = backoff_delay(number, settings, result.retry_after, self.rng)
            if waited + delay > settings.max_total_wait:
                error = f"{result.error} (retry budget of {settings.max_total_wait:g} s spent)"
                self.emit(Outcome(request_hash, "failed", number, error))
                return
            waited += delay
            if result.retry_after is not None:
                # The server is rate limiting or overloaded: every worker holds off, not only this one.
                self.paused_until = max(self.paused_until, time.monotonic() + result.retry_after)
            await asyncio.sleep(delay)

    async def worker(self, transport: httpx.AsyncHTTPTransport, pending: Any) -> None:
        for request_hash, body in pending:
            if self.stop.is_set():
                return
            if self.store.has(request_hash):
                self.emit(Outcome(request_hash, "ok", 0))
                continue
            await self.send(transport, request_hash, body)

    async def run(self) -> None:
        settings = self.settings
        # One transport per worker, each with one keep-alive connection, used without httpx.AsyncClient:
        # httpcore's pool does work per request that grows with its number of connections (one shared
        # 64-connection pool fell from 600 to under 100 requests/s), and the client's auth, redirect and
        # cookie layers cost about a fifth of the time per request and are not needed for this API.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=30.0)
        # Loading the CA bundle costs tens of milliseconds: once for all transports, and only for https.
        verify: ssl.SSLContext | bool = (
            httpx.create_ssl_context() if settings.base_url.startswith("https:") else False
        )
        proxy = environment_proxy(settings.base_url)
        pending = iter(self.unique.items())
        storer = asyncio.create_task(self.storer())
        stopped = asyncio.create_task(self.stop.wait())
        async with contextlib.AsyncExitStack() as transports:
            workers = []
            for _ in range(min(settings.concurrency, len(self.unique))):
                transport = await transports.enter_async_context(
                    httpx.AsyncHTTPTransport(verify=verify, limits=limits, proxy=proxy)
                )
                workers.append(asyncio.create_task(self.worker(transport, pending)))
            finished = asyncio.gather(*workers)
            waiting: set[asyncio.Future[Any]] = {finished, stopped}
            try:
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(finished, return_exceptions=True)
                # Whatever was received is stored before the run ends, however it ends.
                if not storer.done():
                    await self.queue.put(None)
                    await storer
                stopped.cancel()
        for task in workers:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]


def run_requests(
    requests: Sequence[tuple[str, dict[str, Any]]],
    store: ResponseStoreLike,
    settings: ClientSettings,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send every request whose hash has no stored response; one :class:`Outcome` per request, in order.

    ``requests`` are (request hash, chat-completions body) pairs; a hash listed twice is sent once.
    ``on_outcome`` is called once per distinct hash as soon as its outcome is final (an ok outcome only
    after the response is stored), from the calling thread, e.g. to drive a progress bar.
    Raises InputError (after storing everything received) when the run cannot succeed; requests that had
    no outcome reported by then were not finished, and running again resumes with them.
    """
    run = _Run(requests, store, settings, on_outcome)
    if not run.unique:
        return []
    asyncio.run(run.run())
    if run.error is not None:
        raise run.error
    if run.abort is not None:
        raise run.abort
    attempted = [outcome for outcome in run.outcomes.values() if outcome.attempts > 0]
    if attempted and all(outcome.status == "failed" for outcome in attempted):
        raise InputError(
            run.scrub(
                f"all {len(attempted)} requests sent to {settings.chat_url} failed "
                f"(last: {run.last_error}); responses already stored are kept"
            ),
            field="base_url",
        )
    return [run.outcomes[request_hash] for request_hash, _ in requests]


def check_server(settings: ClientSettings, model: str | None = None, timeout: float = 10.0) -> list[str]:
    """Ask ``{base_url}/models`` whether a server is there; returns the model ids it lists.

    Raises InputError with one clear line when nothing answers, the answer is not an OpenAI-style model
    list, the key is refused, or ``model`` is given and the server lists models but not that one."""
    key = os.environ.get(settings.api_key_env) or None
    scrub = _Scrubber(key)
    headers = {"Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    wait = min(timeout, settings.timeout)
    try:
        with httpx.Client(headers=headers, timeout=httpx.Timeout(wait, connect=min(wait, 5.0))) as client:
            response = client.get(settings.models_url)
            payload = response.content[: settings.max_response_bytes]
    except httpx.TimeoutException:
        raise InputError(
            f"no answer from {settings.models_url} within {wait:g} s: is the server running?",
            field="base_url",
        ) from None
    except httpx.TransportError as error:
        reason = scrub(str(error)) or type(error).__name__
        raise InputError(
            f"cannot reach {settings.base_url} ({reason}): is the server running, and is --base-url right?",
            field="base_url",
        ) from None
    if response.status_code in _AUTH_STATUSES:
        raise InputError(
            f"{settings.models_url} refused the request (HTTP {response.status_code}: "
            f"{_snippet(payload, scrub)}); {_key_hint(settings, key)}",
            field="api_key_env",
        )
    if response.status_code != 200:
        raise InputError(
            f"{settings.models_url} answered HTTP {response.status_code} ({_snippet(payload, scrub)}): "
            "not an OpenAI-compatible server? (--base-url usually ends in /v1)",
            field="base_url",
        )
    try:
        listing = json.loads(payload)
        entries = listing["data"]
        ids = [str(entry["id"]) for entry in entries]
    except (ValueError, KeyError, TypeError):
        raise InputError(
            f"{settings.models_url} did not answer with an OpenAI-style model list: "
            "not an OpenAI-compatible server? (--base-url usually ends in /v1)",
            field="base_url",
        ) from None
    if model is not None and ids and model not in ids:
        shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        raise InputError(f"the server does not list model {model!r} (it lists: {shown})", field="model")
    return ids
