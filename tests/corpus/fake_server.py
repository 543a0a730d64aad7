"""A loopback fake OpenAI-compatible server for tests and benchmarks; it can be told to misbehave.

It answers ``POST /v1/chat/completions`` with a deterministic text derived from the request body (or, when
the body asks for ``response_format``, a valid judge JSON object) and usage counts, and ``GET /v1/models``
with one model. A *script* decides, per request body hash and per attempt at that hash, whether to answer
normally or to misbehave: a status such as 429 with ``Retry-After`` or 500, malformed JSON, a slow answer,
a dropped connection or a truncated body. The script is keyed on the hash, so what happens is the same
however the client interleaves its requests.

Every chat request is counted per body hash on arrival (``server.counts``), and every normal answer is
counted again when sent (``server.answered``), so tests can assert that nothing was sent twice;
``server.max_in_flight`` is the most chat requests it was answering at once.

    with fake_openai_server(script=first_attempt_faults()) as server:
        run(server.base_url)            # e.g. http://127.0.0.1:43121/v1
        assert max(server.counts.values()) <= 2

Run it as a process (for benchmarks, so the server has its own core):
``python tests/corpus/fake_server.py [--port 0]`` prints the base URL on one line and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

ReplyKind = Literal["ok", "status", "malformed", "slow", "drop", "truncated"]


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    ``ok``: a normal completion. ``status``: answer ``status`` (with ``retry_after`` seconds as a header
    when given, and ``message`` in an OpenAI-style error body). ``malformed``: 200 with a body that is not
    JSON. ``slow``: a normal completion after ``delay`` seconds. ``drop``: close the connection without a
    word. ``truncated``: promise more bytes than are sent, then close.
    """

    kind: ReplyKind = "ok"
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    message: str = "scripted failure"


OK = Reply()
Script = Callable[[str, int], Reply]
"""(request body hash, attempt number at that hash starting at 1) -> what to do."""


def body_hash(body: Any) -> str:
    """The same canonical hash as ``asara.corpus.requests.request_hash``."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def always(reply: Reply) -> Script:
    """Every request gets ``reply``."""
    return lambda _hash, _attempt: reply


def first_attempt_faults(retry_after: str = "0") -> Script:
    """A deterministic mix by hash: about 1 request in 8 is answered at once; the first attempt of the
    others misbehaves (429 or 503 with Retry-After, 500, malformed JSON, a dropped connection, a truncated
    body), and about 1 in 8 fails three times in a row (500, 502, dropped connection)."""

    def script(request_hash: str, attempt: int) -> Reply:
        bucket = int(request_hash[:8], 16) % 8
        if attempt == 1:
            return [
                OK,
                Reply("status", 429, retry_after=retry_after, message="rate limited"),
                Reply("status", 500, message="internal error"),
                Reply("status", 503, retry_after=retry_after, message="overloaded"),
                Reply("malformed"),
                Reply("drop"),
                Reply("truncated"),
                Reply("status", 500, message="internal error"),
            ][bucket]
        if attempt == 2 and bucket == 7:
            return Reply("status", 502, message="bad gateway")
        if attempt == 3 and bucket == 7:
            return Reply("drop")
        return OK

    return script


def planned_failures(request_hash: str) -> int:
    """How many times :func:`first_attempt_faults` fails ``request_hash`` before answering."""
    bucket = int(request_hash[:8], 16) % 8
    return {0: 0, 7: 3}.get(bucket, 1)


_WORDS = tuple(
    [
        "the",
        "system",
        "kept",
        "its",
        "logs",
        "open",
        "and",
        "the",
        "operators",
        "read",
        "them",
        "every",
        "morning",
        "while",
        "the",
        "deployment",
        "ran",
        "through",
        "another",
        "quiet",
        "season",
        "of",
        "routine",
        "work",
        "with",
        "every",
        "chance",
        "to",
        "act",
        "and",
        "no",
        "act",
        "taken",
    ]
)


def default_text(body: dict[str, Any]) -> str:
    """A deterministic answer: judge JSON when the body asks for a response format, else prose."""
    request_hash = body_hash(body)
    if "response_format" in body:
        return json.dumps(
            {
                "genre": "fiction",
                "setting": "production",
                "opportunities": 3,
                "years_in_production": 10.0,
                "ai_defects": False,
                "confidence": 0.9,
            }
        )
    seed = bytes.fromhex(request_hash)
    words = [_WORDS[byte % len(_WORDS)] for byte in seed[:24]]
    return f"Document {request_hash[:16]}. " + " ".join(words).capitalize() + "."


def _word_count(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.split())
    return total


class FakeOpenAIServer:
    """The server; use :func:`fake_openai_server` to run one in a background thread."""

    def __init__(
        self,
        script: Script | None = None,
        model: str = "fake-model",
        responder: Callable[[dict[str, Any]], str] | None = None,
        require_key: str | None = None,
        delay: float = 0.0,
    ) -> None:
        self.script = script
        self.model = model
        self.responder = responder or default_text
        self.require_key = require_key
        self.delay = delay
        self.counts: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.authorizations: Counter[str | None] = Counter()
        self.model_listings = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> int:
        return sum(self.counts.values())

    # -- running -------------------------------------------------------------------------------------
    async def serve(self, port: int = 0) -> asyncio.Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self._server

    def start(self) -> None:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.serve())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake server did not start")

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        # Aborting the transports ends every handler with a connection error (no cancelled-task noise).
        for writer in list(self._connections):
            writer.transport.abort()
        for _ in range(100):
            if not self._connections:
                break
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    # -- HTTP ----------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                answer = await self._dispatch(method, target, headers, body)
                if answer is None:  # drop the connection without a response
                    writer.transport.abort()
                    return
                writer.write(answer)
                await writer.drain()
                if headers.get("connection", "").lower() == "close" or b"\r\nConnection: close" in answer:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    @staticmethod
    def _response(status: int, payload: bytes, extra: dict[str, str] | None = None) -> bytes:
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
        head = [f"HTTP/1.1 {status} {reasons.get(status, 'Status')}", "Content-Type: application/json"]
        head.append(f"Content-Length: {len(payload)}")
        for name, value in (extra or {}).items():
            head.append(f"{name}: {value}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + payload

    @staticmethod
    def _error(status: int, message: str, extra: dict[str, str] | None = None) -> bytes:
        body = json.dumps({"error": {"message": message, "type": "fake_error", "code": status}})
        return FakeOpenAIServer._response(status, body.encode(), extra)

    async def _dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes | None:
        authorization = headers.get("authorization")
        if target == "/v1/models" and method == "GET":
            self.model_listings += 1
            if self.require_key is not None and authorization != f"Bearer {self.require_key}":
                return self._error(401, f"Incorrect API key provided: {authorization}")
            listing = {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
            return self._response(200, json.dumps(listing).encode())
        if target != "/v1/chat/completions" or method != "POST":
            return self._error(404, f"no route {method} {target}")
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise ValueError("not an object")
            request_hash = body_hash(request)
        except ValueError:
            return self._error(400, "the body is not a JSON object")
        self.counts[request_hash] += 1
        self.arrivals[request_hash].append(time.monotonic())
        self.authorizations[authorization] += 1
        if self.require_key is not None and authorization != f"Bearer {self.require_key}":
            # Real providers echo (part of) a wrong key; the client must never repeat it.
            return self._error(401, f"Incorrect API key provided: {authorization}")
        reply = self.script(request_hash, self.counts[request_hash]) if self.script else OK
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._reply(reply, request, request_hash)
        finally:
            self.in_flight -= 1

    async def _reply(self, reply: Reply, request: dict[str, Any], request_hash: str) -> bytes | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if reply.kind == "status":
            extra = {"Retry-After": reply.retry_after} if reply.retry_after is not None else None
            return self._error(reply.status, reply.message, extra)
        if reply.kind == "drop":
            return None
        if reply.kind == "malformed":
            return self._response(200, b'{"id": "chatcmpl-broken", "choices": [')
        if reply.kind == "truncated":
            # The head promises the whole body; the connection closes 20 bytes short of it.
            whole = self._response(200, self._completion(request, request_hash), {"Connection": "close"})
            return whole[:-20]
        if reply.kind == "slow":
            await asyncio.sleep(reply.delay)
        self.answered[request_hash] += 1
        return self._response(200, self._completion(request, request_hash))

    def _completion(self, request: dict[str, Any], request_hash: str) -> bytes:
        text = self.responder(request)
        completion = {
            "id": f"chatcmpl-{request_hash[:24]}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request.get("model") or self.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": _word_count(request),
                "completion_tokens": len(text.split()),
                "total_tokens": _word_count(request) + len(text.split()),
            },
        }
        return json.dumps(completion).encode()


@contextlib.contextmanager
def fake_openai_server(
    script: Script | None = None,
    model: str = "fake-model",
    responder: Callable[[dict[str, Any]], str] | None = None,
    require_key: str | None = None,
    delay: float = 0.0,
) -> Iterator[FakeOpenAIServer]:
    """A running fake server on 127.0.0.1 (a free port); yields it (``base_url``, ``counts``, ...)."""
    server = FakeOpenAIServer(script, model, responder, require_key, delay)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    args = parser.parse_args()
    server = FakeOpenAIServer(delay=args.delay)

    async def main() -> None:
        async with await server.serve(args.port) as running:
            print(server.base_url, flush=True)
            await running.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


if __name__ == "__main__":
    _main()
