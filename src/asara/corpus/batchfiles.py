"""Provider batch files: export requests for the OpenAI Batch API or Anthropic Message Batches, import
their result files into the response store.

**custom_id.** Every request line carries ``custom_id = <corpus tag>_<request hash>``: the corpus tag is
the first 16 hex digits of sha256(corpus id), the request hash is its 32 bytes in unpadded base64url
(43 characters); 60 characters in all, within both providers' rules (Anthropic: ``^[a-zA-Z0-9_-]{1,64}$``).
Results are matched on it, so lines may come back in any order, and a result file made for another
corpus is recognised and refused.

**Files and limits.** ``export_batch(..., out=Path("batch.jsonl"))`` writes ``batch.jsonl`` and, when the
requests exceed one file's limit (OpenAI: 50,000 requests or 200 MB; Anthropic: 100,000 requests or
256 MB; MB = 10**6 bytes, to stay on the safe side), ``batch-2.jsonl``, ``batch-3.jsonl``, ...; all files
appear together, atomically, or none does.

**Submitting.** OpenAI: upload each file with purpose ``batch`` and create a batch with endpoint
``/v1/chat/completions`` and completion window ``24h``; download the output file (and the error file, if
any). Anthropic: the create call takes one JSON object ``{"requests": [...]}``; each line of the file is
one element, so send ``{"requests": [<the file's lines, comma-separated>]}`` (e.g.
``jq -s '{requests: .}' batch.jsonl``) to ``POST /v1/messages/batches``, then download the results JSONL.
Import every result file with :func:`import_results` (``asara corpus import DIR FILE.jsonl``); importing
one twice is harmless.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Collection, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from asara.corpus.backends.openai import ResponseStoreLike, completion_record
from asara.errors import InputError
from asara.io.atomic import atomic_path

BatchFormat = Literal["openai-batch", "anthropic-batch"]
FORMATS: tuple[BatchFormat, ...] = ("openai-batch", "anthropic-batch")


@dataclass(frozen=True)
class BatchLimits:
    """At most ``max_requests`` lines and ``max_bytes`` bytes in one batch file."""

    max_requests: int
    max_bytes: int


LIMITS: dict[BatchFormat, BatchLimits] = {
    "openai-batch": BatchLimits(max_requests=50_000, max_bytes=200_000_000),
    # Anthropic counts the whole {"requests": [...]} body; leave room for its 15 framing bytes.
    "anthropic-batch": BatchLimits(max_requests=100_000, max_bytes=256_000_000 - 1024),
}
MAX_RESULT_LINE_BYTES = 16 * 1024 * 1024
_CUSTOM_ID = re.compile(r"^([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_ANTHROPIC_KEYS = frozenset(
    {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed"}
)
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def corpus_tag(corpus_id: str) -> str:
    """The 16 hex digits that mark a corpus's custom_ids."""
    if not isinstance(corpus_id, str) or not corpus_id:
        raise InputError("the corpus id must be a non-empty string", field="corpus_id")
    return hashlib.sha256(corpus_id.encode()).hexdigest()[:16]


def custom_id(corpus_id: str, request_hash: str) -> str:
    """``<corpus tag>_<request hash in base64url>`` (60 characters)."""
    if not isinstance(request_hash, str) or not _HASH.match(request_hash):
        raise InputError(
            f"not a request hash (64 lowercase hex digits): {request_hash!r}", field="request_hash"
        )
    encoded = base64.urlsafe_b64encode(bytes.fromhex(request_hash)).decode().rstrip("=")
    return f"{corpus_tag(corpus_id)}_{encoded}"


def parse_custom_id(value: str) -> tuple[str, str] | None:
    """(corpus tag, request hash) from a custom_id this module wrote, or None."""
    match = _CUSTOM_ID.match(value)
    if match is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(match.group(2) + "=")
    except (binascii.Error, ValueError):
        return None
    return (match.group(1), raw.hex()) if len(raw) == 32 else None


# -- export ------------------------------------------------------------------------------------------


def _text_content(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise InputError(f"{where}: only text content can be sent to Anthropic", field="request")
        return "".join(parts)
    raise InputError(f"{where}: message content must be text", field="request")


def anthropic_params(body: dict[str, Any], request_hash: str = "") -> dict[str, Any]:
    """Anthropic Messages ``params`` equivalent to an OpenAI chat-completions ``body``.

    System messages become ``system``; ``max_tokens`` (or ``max_completion_tokens``) is required;
    ``stop`` becomes ``stop_sequences``; ``seed`` has no Anthropic equivalent and is dropped. Any other
    setting, or a temperature above Anthropic's 1.0, is refused rather than silently changed."""
    where = f"request {request_hash[:12]}" if request_hash else "request"
    unknown = sorted(set(body) - _ANTHROPIC_KEYS)
    if unknown:
        raise InputError(
            f"{where}: {', '.join(unknown)} cannot be expressed in an Anthropic batch", field="request"
        )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InputError(f"{where}: no model", field="request")
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InputError(f"{where}: Anthropic needs max_tokens (a positive integer)", field="request")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InputError(f"{where}: messages must be a list", field="request")
    system: list[str] = []
    turns: list[dict[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InputError(f"{where}: message {index} is not an object", field="request")
        role = message.get("role")
        text = _text_content(message.get("content"), f"{where} message {index}")
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            turns.append({"role": role, "content": text})
        else:
            raise InputError(f"{where}: message role {role!r} has no Anthropic equivalent", field="request")
    if not turns or turns[0]["role"] != "user":
        raise InputError(
            f"{where}: Anthropic needs the first non-system message to be the user's", field="request"
        )
    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if system:
        params["system"] = "\n\n".join(system)
    if "temperature" in body:
        temperature = body["temperature"]
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 <= temperature <= 1
        ):
            raise InputError(
                f"{where}: temperature {temperature!r} is outside Anthropic's range [0, 1]", field="request"
            )
        params["temperature"] = temperature
    if "top_p" in body:
        params["top_p"] = body["top_p"]
    if "stop" in body and body["stop"] is not None:
        stop = body["stop"]
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return params


def batch_line(request_hash: str, body: dict[str, Any], fmt: BatchFormat, corpus_id: str) -> bytes:
    """One request line (with its newline) in the provider's batch input format."""
    identifier = custom_id(corpus_id, request_hash)
    if fmt == "openai-batch":
        line: dict[str, Any] = {
            "custom_id": identifier,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": body,
        }
    else:
        line = {"custom_id": identifier, "params": anthropic_params(body, request_hash)}
    try:
        text = json.dumps(line, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InputError(f"request {request_hash[:12]} is not JSON: {error}", field="request") from None
    return text.encode() + b"\n"


def _refuse_non_regular(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError(f"{path} exists and is not a regular file; it is left alone", field="out")


def part_path(out: Path, number: int) -> Path:
    """``out`` for part 1, ``<stem>-<number><suffix>`` beside it for the others."""
    return out if number == 1 else out.with_name(f"{out.stem}-{number}{out.suffix}")


def export_batch(
    requests: Sequence[tuple[str, dict[str, Any]]],
    fmt: BatchFormat,
    out: Path,
    corpus_id: str,
    limits: BatchLimits | None = None,
) -> list[Path]:
    """Write the requests as provider batch JSONL, split at the provider's limits; returns the files.

    ``limits`` overrides the provider's (for tests). A hash listed twice is written once. OpenAI batch
    files hold one model each, so requests for several models are refused (export them separately).
    The files are written beside ``out`` as temporaries and all renamed into place only when every
    line is written; an existing ``<stem>-N<suffix>`` beyond the new parts is refused rather than left
    to be mistaken for part of this export."""
    if fmt not in FORMATS:
        raise InputError(f"unknown batch format {fmt!r} (one of {', '.join(FORMATS)})", field="format")
    limit = limits or LIMITS[fmt]
    if limit.max_requests < 1 or limit.max_bytes < 1:
        raise InputError("batch limits must be positive", field="limits")
    out = Path(out)
    if not requests:
        raise InputError("nothing to export: no request is waiting for a response", field="requests")
    with contextlib.ExitStack() as stack:
        paths: list[Path] = []
        handle: IO[bytes] | None = None
        lines = size = 0
        seen: set[str] = set()
        first_model: object = None
        for request_hash, body in requests:
            if request_hash in seen:
                continue
            seen.add(request_hash)
            model = body.get("model") if isinstance(body, dict) else None
            if fmt == "openai-batch" and first_model is not None and model != first_model:
                raise InputError(
                    f"an OpenAI batch holds requests for one model; these use {first_model!r} and {model!r}: "
                    "export them separately",
                    field="requests",
                )
            first_model = first_model if first_model is not None else model
            data = batch_line(request_hash, body, fmt, corpus_id)
            if len(data) > limit.max_bytes:
                raise InputError(
                    f"request {request_hash[:12]} alone is {len(data)} bytes, over the {fmt} file limit "
                    f"of {limit.max_bytes}",
                    field="request",
                )
            if handle is None or lines >= limit.max_requests or size + len(data) > limit.max_bytes:
                if handle is not None:
                    handle.close()
                paths.append(part_path(out, len(paths) + 1))
                _refuse_non_regular(paths[-1])
                temporary = stack.enter_context(atomic_path(paths[-1]))
                handle = open(temporary, "wb")  # noqa: SIM115 - closed when the part is full or below
                stack.callback(handle.close)
                lines = size = 0
            handle.write(data)
            lines += 1
            size += len(data)
        if handle is not None:
            handle.close()
        stale = part_path(out, len(paths) + 1)
        if stale.exists() or stale.is_symlink():
            raise InputError(
                f"{stale} is left from an earlier, larger export; remove it (or choose another --out) so it "
                "is not submitted with this one",
                field="out",
            )
    return paths


# -- import ------------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What one result file did. ``failed`` maps request hash -> the provider's reason (retryable)."""

    lines: int = 0
    stored: int = 0
    already_stored: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    unknown: int = 0
    formats: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "stored": self.stored,
            "already_stored": self.already_stored,
            "failed": len(self.failed),
            "unknown": self.unknown,
            "formats": sorted(self.formats),
        }


def _lines(handle: IO[bytes], path: Path, max_line_bytes: int) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        raw = handle.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes:
            raise InputError(f"{path} line {number} is longer than {max_line_bytes} bytes", field="results")
        yield number, raw


def _openai_result(
    line: dict[str, Any], request_hash: str, where: str, attempts: int
) -> dict[str, Any] | str:
    error = line.get("error")
    response = line.get("response")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else error
        code = error.get("code") if isinstance(error, dict) else None
        return f"openai batch error{f' {code}' if code else ''}: {message}"
    if not isinstance(response, dict):
        raise InputError(f"{where}: neither a response nor an error", field="results")
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        detail = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        return f"openai batch HTTP {status}: {str(detail)[:200]}"
    return completion_record(request_hash, body, {}, "openai-batch", attempts)


def _anthropic_result(
    line: dict[str, Any], request_hash: str, where: str, attempts: int
) -> dict[str, Any] | str:
    result = line["result"]
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise InputError(f"{where}: result has no type", field="results")
    kind = result["type"]
    if kind != "succeeded":
        if kind not in ("errored", "canceled", "expired"):
            raise InputError(f"{where}: unknown result type {kind!r}", field="results")
        error = result.get("error")
        if isinstance(error, dict):
            inner = error.get("error", error)
            error = inner.get("message", inner.get("type")) if isinstance(inner, dict) else inner
        return f"anthropic batch {kind}" + (f": {str(error)[:200]}" if error else "")
    message = result.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return "anthropic batch: succeeded without a message"
    texts = [
        block["text"]
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
    ]
    if not texts:
        return "anthropic batch: the message has no text"
    found = message.get("usage")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    stop = message.get("stop_reason")

    def count(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    return {
        "request_hash": request_hash,
        "text": "".join(texts),
        "finish_reason": _STOP_REASONS.get(stop, stop) if isinstance(stop, str) else None,
        "usage": {"prompt_tokens": count("input_tokens"), "completion_tokens": count("output_tokens")},
        "model": message.get("model") if isinstance(message.get("model"), str) else None,
        "source": "anthropic-batch",
        "attempts": attempts,
        "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def import_results(
    path: Path,
    corpus_id: str,
    request_hashes: Collection[str],
    store: ResponseStoreLike,
    max_line_bytes: int = MAX_RESULT_LINE_BYTES,
) -> ImportSummary:
    """Store every successful result in an OpenAI Batch or Anthropic Message Batches result file.

    Lines may come in any order and both formats may be mixed (e.g. an OpenAI output and error file
    concatenated). A result is stored only if its custom_id carries this corpus's tag and a hash in
    ``request_hashes``; results for hashes already stored are skipped (importing twice is harmless);
    results for hashes this corpus no longer asks for are counted in ``unknown``. Errored, expired and
    cancelled lines (and OpenAI error lines or non-200 responses) land in ``failed``: those documents
    stay unanswered and a later export or generate retries them. A line from another corpus, or one that
    is not a result line, raises InputError naming the line; everything stored before it stays stored.
    The file is streamed line by line (each at most ``max_line_bytes``)."""
    path = Path(path)
    tag = corpus_tag(corpus_id)
    wanted: AbstractSet[str] = (
        request_hashes if isinstance(request_hashes, AbstractSet) else set(request_hashes)
    )
    summary = ImportSummary()
    if not path.is_file():  # checked before opening: a FIFO would block, a folder is no result file
        reason = "is not a regular file" if path.exists() else "does not exist"
        raise InputError(f"{path} {reason}", field="results")
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", field="results") from None
    with handle:
        for number, raw in _lines(handle, path, max_line_bytes):
            if not raw.strip():
                continue
            where = f"{path} line {number}"
            summary.lines += 1
            try:
                line = json.loads(raw)
            except (UnicodeDecodeError, ValueError):
                raise InputError(f"{where} is not JSON", field="results") from None
            if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
                raise InputError(f"{where} has no custom_id", field="results")
            parsed = parse_custom_id(line["custom_id"])
            if parsed is None:
                raise InputError(
                    f"{where}: custom_id {line['custom_id'][:80]!r} was not written by asara corpus export",
                    field="results",
                )
            line_tag, request_hash = parsed
            if line_tag != tag:
                raise InputError(
                    f"{where} belongs to another corpus (custom_id tag {line_tag}, this corpus {tag}); "
                    "nothing from it is imported past this line",
                    field="results",
                )
            if "result" in line:
                fmt = "anthropic-batch"
                outcome = _anthropic_result(line, request_hash, where, 1)
            elif "response" in line or "error" in line:
                fmt = "openai-batch"
                outcome = _openai_result(line, request_hash, where, 1)
            else:
                raise InputError(
                    f"{where} is neither an OpenAI nor an Anthropic batch result", field="results"
                )
            summary.formats.add(fmt)
            if request_hash not in wanted:
                summary.unknown += 1
                continue
            if isinstance(outcome, str):
                if not store.has(request_hash):
                    summary.failed.setdefault(request_hash, outcome)
                continue
            if store.has(request_hash):
                summary.already_stored += 1
                summary.failed.pop(request_hash, None)
                continue
            try:
                store.put(request_hash, outcome)
            except OSError as error:
                raise InputError(
                    f"cannot store a response: {error.strerror or error}", field="store"
                ) from None
            summary.stored += 1
            summary.failed.pop(request_hash, None)
    return summary
