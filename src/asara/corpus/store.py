"""Stored responses, one file per request hash, never overwritten.

Layout: ``DIR/abc/abcd...ef.json`` (4,096 folders by the hash's first three hex digits, so a folder holds
about 3,700 files at 15 million responses). A response is written to a temporary file, flushed to disk, and
then *hard-linked* to its final name: the link fails if the name exists (a stored response is never
replaced) and the final name only ever points at complete, durable bytes. Memory use does not grow with the
number of responses; every method is safe to call from several threads (or from asyncio via a thread).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from asara.errors import InputError

_HASH = re.compile(r"^[0-9a-f]{64}$")
SOURCES = ("template", "openai", "openai-batch", "anthropic-batch")
REQUIRED_KEYS = (
    "request_hash",
    "text",
    "finish_reason",
    "usage",
    "model",
    "source",
    "attempts",
    "received_at",
)


def _check_hash(request_hash: str) -> None:
    if not isinstance(request_hash, str) or not _HASH.match(request_hash):
        raise InputError(
            f"not a request hash (64 lowercase hex digits): {request_hash!r}", field="request_hash"
        )


def check_record(request_hash: str, record: Mapping[str, Any]) -> None:
    """A record must be complete, carry its own hash and a known source."""
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise InputError(f"response record lacks {', '.join(missing)}", field="record")
    if record["request_hash"] != request_hash:
        raise InputError("response record carries another request hash", field="record.request_hash")
    if record["source"] not in SOURCES:
        raise InputError(f"unknown source {record['source']!r} (one of {', '.join(SOURCES)})", field="record")
    if not isinstance(record["text"], str):
        raise InputError("response text must be a string", field="record.text")


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class ResponseStore:
    """Successful responses by request hash."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(
                f"cannot create {self.directory}: {error.strerror or error}", field="store"
            ) from None
        if not self.directory.is_dir():
            raise InputError(f"{self.directory} is not a folder", field="store")

    def path(self, request_hash: str) -> Path:
        _check_hash(request_hash)
        return self.directory / request_hash[:3] / f"{request_hash}.json"

    def has(self, request_hash: str) -> bool:
        return self.path(request_hash).is_file()

    def get(self, request_hash: str) -> dict[str, Any] | None:
        path = self.path(request_hash)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(f"stored response {path} is corrupt (not JSON)", field="store") from None
        if not isinstance(record, dict):
            raise InputError(f"stored response {path} is not a JSON object", field="store")
        return record

    def put(self, request_hash: str, record: Mapping[str, Any]) -> None:
        """Store ``record`` durably unless a response for ``request_hash`` is already stored."""
        self.put_many([(request_hash, record)])

    def put_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Store several records with one flush to disk for all of them; returns how many were new.

        Each final name appears only after its bytes are on disk (write temporaries, flush them, then
        link), so a crash at any point leaves either no response or a complete one."""
        pending: list[tuple[Path, Path]] = []
        try:
            for request_hash, record in items:
                check_record(request_hash, record)
                target = self.path(request_hash)
                if target.exists():
                    continue
                data = json.dumps(dict(record), ensure_ascii=False, allow_nan=False).encode()
                temporary = self._write_temporary(target.parent, data, flush=False)
                pending.append((temporary, target))
            if not pending:
                return 0
            if len(pending) == 1:
                with open(pending[0][0], "rb") as handle:
                    os.fsync(handle.fileno())
            else:
                os.sync()  # one flush for the batch instead of one fsync per file
            stored = 0
            folders: set[Path] = set()
            for temporary, target in pending:
                try:
                    os.link(temporary, target)
                    stored += 1
                    folders.add(target.parent)
                except FileExistsError:
                    pass  # another writer stored it first: keep theirs
            if len(folders) == 1:
                _fsync_directory(folders.pop())
            elif folders:
                os.sync()  # the new names of the batch, in one flush
            return stored
        except OSError as error:
            raise InputError(
                f"cannot store a response in {self.directory}: {error.strerror or error}", field="store"
            ) from None
        finally:
            for temporary, _ in pending:
                with contextlib.suppress(OSError):
                    temporary.unlink()

    def _write_temporary(self, folder: Path, data: bytes, flush: bool) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".", suffix=".partial", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                if flush:
                    stream.flush()
                    os.fsync(stream.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    def hashes(self) -> Iterator[str]:
        """Every stored request hash (streamed; order is by folder, not insertion)."""
        for folder in sorted(self.directory.iterdir()):
            if not folder.is_dir() or len(folder.name) != 3:
                continue
            for entry in os.scandir(folder):
                name = entry.name
                if name.endswith(".json") and _HASH.match(name[:-5]):
                    yield name[:-5]


class MemoryStore:
    """The store's contract in memory (never overwrites a stored response; nothing durable): for tests,
    benchmarks and dry runs of the client. ``puts`` counts every write asked for."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.puts = 0

    def has(self, request_hash: str) -> bool:
        return request_hash in self.records

    def get(self, request_hash: str) -> dict[str, Any] | None:
        return self.records.get(request_hash)

    def put(self, request_hash: str, record: Mapping[str, Any]) -> None:
        self.puts += 1
        self.records.setdefault(request_hash, dict(record))
