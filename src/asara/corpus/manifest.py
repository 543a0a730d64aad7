"""The manifest: ``DIR/manifest.parquet``, one row per document, assembled from the plan, the stored
responses and the check and dedupe results; the texts go to ``DIR/texts/part-NNNNN.parquet`` beside it.

Both are plain Parquet (pandas, pyarrow, DuckDB and Hugging Face ``datasets`` read them). The manifest is
rebuilt chunk by chunk (memory stays flat); a text shard is rewritten only when the responses it holds
changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from asara.corpus import spec
from asara.corpus.costs import PriceTable
from asara.corpus.folder import CorpusFolder
from asara.errors import InputError
from asara.io.atomic import atomic_path

CHECK_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("request_hash", pa.string()),
        ("check_flags", pa.string()),
        ("judged", pa.bool_()),
        ("judged_genre", pa.string()),
        ("judged_setting", pa.string()),
        ("judged_opportunities", pa.int64()),
        ("judged_years", pa.float64()),
        ("judged_ai_defects", pa.bool_()),
        ("judge_confidence", pa.float64()),
        ("judge_flags", pa.string()),
        ("judge_model", pa.string()),
    ]
)
DEDUPE_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("request_hash", pa.string()),
        ("exact_duplicate", pa.bool_()),
        ("duplicate_cluster", pa.int64()),
        ("duplicate", pa.bool_()),
    ]
)
TEXT_SCHEMA = pa.schema([("id", pa.int64()), ("request_hash", pa.string()), ("text", pa.string())])
GENERATION_FIELDS: list[tuple[str, pa.DataType]] = [
    ("template", pa.string()),
    ("template_hash", pa.string()),
    ("backend", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("request_hash", pa.string()),
    ("text_hash", pa.string()),
    ("text_words", pa.int64()),
    ("text_shard", pa.string()),
    ("model", pa.string()),
    ("temperature", pa.float64()),
    ("max_tokens", pa.int64()),
    ("source", pa.string()),
    ("finish_reason", pa.string()),
    ("attempts", pa.int64()),
    ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()),
    ("cost", pa.float64()),
]
STATE_FIELDS: list[tuple[str, pa.DataType]] = [
    ("checked", pa.bool_()),
    ("flagged", pa.bool_()),
    ("deduplicated", pa.bool_()),
    ("duplicate", pa.bool_()),
    ("kept", pa.bool_()),
]
MANIFEST_SCHEMA = pa.schema(
    list(spec.PLAN_SCHEMA)
    + [pa.field(n, t) for n, t in GENERATION_FIELDS]
    + [f for f in CHECK_SCHEMA if f.name not in ("id", "request_hash")]
    + [f for f in DEDUPE_SCHEMA if f.name not in ("id", "request_hash", "duplicate")]
    + [pa.field(n, t) for n, t in STATE_FIELDS]
)
STATUS_KEYS = (
    "planned",
    "generated",
    "failed",
    "checked",
    "flagged",
    "duplicates",
    "kept",
    "prompt_tokens",
    "completion_tokens",
    "cost",
)


def _stage_chunk(path: Path, schema: pa.Schema, folder: CorpusFolder, chunk: int) -> pa.Table | None:
    """A stage file's rows for one plan chunk (None when the stage has not run)."""
    if not path.is_file():
        return None
    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows != folder.documents or parquet.num_row_groups != folder.chunks:
            raise InputError(f"{path} does not match the plan; run its stage again", field="DIR")
        table = parquet.read_row_group(chunk)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{path} is corrupt ({error}); run its stage again", field="DIR") from None
    if not table.schema.equals(schema):
        raise InputError(f"{path} has an unexpected layout; run its stage again", field="DIR")
    return table


def text_shard_path(folder: CorpusFolder, chunk: int) -> Path:
    return folder.path / "texts" / f"part-{chunk:05d}.parquet"


def _write_text_shard(folder: CorpusFolder, chunk: int, rows: list[tuple[int, str, str]]) -> None:
    digest = hashlib.sha256("".join(h for _, h, _ in rows).encode()).hexdigest()
    target = text_shard_path(folder, chunk)
    if target.is_file():
        try:
            metadata = pq.read_schema(target).metadata or {}
            if metadata.get(b"asara.digest", b"").decode() == digest:
                return
        except (OSError, pa.ArrowException):
            pass  # unreadable: rewrite it from the stored responses
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.int64()),
            "request_hash": pa.array([r[1] for r in rows], pa.string()),
            "text": pa.array([r[2] for r in rows], pa.string()),
        },
        schema=TEXT_SCHEMA.with_metadata({"asara.digest": digest, "asara.corpus_id": folder.corpus_id}),
    )
    with atomic_path(target) as temporary:
        pq.write_table(table, temporary, compression="zstd")


def build_manifest(
    folder: CorpusFolder, prices: PriceTable, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Rebuild ``DIR/manifest.parquet`` and the text shards from everything stored."""
    generation = folder.generation()
    store = folder.store
    failures = folder.failures()
    target = folder.path / "manifest.parquet"
    metadata = {
        "asara.corpus_id": folder.corpus_id,
        "asara.generation": json.dumps(
            None if generation is None else {"backend": generation[0], "params": generation[1].to_dict()}
        ),
    }
    with atomic_path(target) as temporary:
        writer = pq.ParquetWriter(temporary, MANIFEST_SCHEMA.with_metadata(metadata), compression="zstd")
        try:
            for chunk in range(folder.chunks):
                table = folder.plan_chunk(chunk)
                writer.write_table(
                    _manifest_chunk(
                        folder, chunk, table, generation, store, failures, prices
                    ).replace_schema_metadata(metadata),
                    row_group_size=spec.CHUNK,
                )
                if progress is not None:
                    progress(chunk + 1, folder.chunks)
        finally:
            writer.close()
    return target


def _manifest_chunk(
    folder: CorpusFolder,
    chunk: int,
    table: pa.Table,
    generation: Any,
    store: Any,
    failures: dict[str, str],
    prices: PriceTable,
) -> pa.Table:
    n = table.num_rows
    columns: dict[str, list[Any]] = {name: [None] * n for name, _ in GENERATION_FIELDS}
    columns["template"] = [folder.meta["template"]] * n
    columns["template_hash"] = [folder.meta["template_hash"]] * n
    columns["status"] = ["planned"] * n
    texts: list[tuple[int, str, str]] = []
    ids = table.column("id").to_pylist()
    if generation is not None:
        backend, params = generation
        requests = folder.requests(table, params)
        shard = str(text_shard_path(folder, chunk).relative_to(folder.path))
        for i, (request_hash, body) in enumerate(requests):
            columns["backend"][i] = backend
            columns["request_hash"][i] = request_hash
            columns["model"][i] = body["model"]
            columns["temperature"][i] = body["temperature"]
            columns["max_tokens"][i] = body["max_tokens"]
            record = store.get(request_hash)
            if record is None:
                if request_hash in failures:
                    columns["status"][i] = "failed"
                    columns["error"][i] = failures[request_hash]
                continue
            text = str(record["text"])
            usage = record.get("usage") or {}
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
            cost = prices.cost(
                str(record.get("model", body["model"])), str(record["source"]), prompt, completion
            )
            columns["status"][i] = "generated"
            columns["text_hash"][i] = hashlib.sha256(text.encode()).hexdigest()
            columns["text_words"][i] = len(text.split())
            columns["text_shard"][i] = shard
            columns["source"][i] = record["source"]
            columns["finish_reason"][i] = record.get("finish_reason")
            columns["attempts"][i] = int(record.get("attempts") or 1)
            columns["prompt_tokens"][i] = prompt
            columns["completion_tokens"][i] = completion
            columns["cost"][i] = None if math.isnan(cost) else cost
            texts.append((ids[i], request_hash, text))
        _write_text_shard(folder, chunk, texts)
    arrays = {field.name: table.column(field.name) for field in spec.PLAN_SCHEMA}
    for name, kind in GENERATION_FIELDS:
        arrays[name] = pa.array(columns[name], kind)
    generated = [s == "generated" for s in columns["status"]]
    hashes = columns["request_hash"]
    checks = _stage_chunk(folder.path / "checks.parquet", CHECK_SCHEMA, folder, chunk)
    checked = [False] * n
    flagged = [False] * n
    for field in CHECK_SCHEMA:
        if field.name in ("id", "request_hash"):
            continue
        values: list[Any] = [None] * n
        if checks is not None:
            stored = checks.column(field.name).to_pylist()
            checked_hashes = checks.column("request_hash").to_pylist()
            for i in range(n):
                if generated[i] and checked_hashes[i] == hashes[i]:
                    values[i] = stored[i]
        arrays[field.name] = pa.array(values, field.type)
    if checks is not None:
        flags = arrays["check_flags"].to_pylist()
        judge_flags = arrays["judge_flags"].to_pylist()
        for i in range(n):
            checked[i] = flags[i] is not None
            flagged[i] = bool(flags[i]) or bool(judge_flags[i])
    dedupe = _stage_chunk(folder.path / "dedupe.parquet", DEDUPE_SCHEMA, folder, chunk)
    deduplicated = [False] * n
    duplicate = [False] * n
    exact: list[Any] = [None] * n
    cluster: list[Any] = [None] * n
    if dedupe is not None:
        deduped_hashes = dedupe.column("request_hash").to_pylist()
        stored_exact = dedupe.column("exact_duplicate").to_pylist()
        stored_cluster = dedupe.column("duplicate_cluster").to_pylist()
        stored_duplicate = dedupe.column("duplicate").to_pylist()
        for i in range(n):
            if generated[i] and deduped_hashes[i] == hashes[i]:
                deduplicated[i] = True
                exact[i] = stored_exact[i]
                cluster[i] = stored_cluster[i]
                duplicate[i] = bool(stored_duplicate[i])
    arrays["exact_duplicate"] = pa.array(exact, pa.bool_())
    arrays["duplicate_cluster"] = pa.array(cluster, pa.int64())
    kept = [
        g and c and not f and d and not x
        for g, c, f, d, x in zip(generated, checked, flagged, deduplicated, duplicate, strict=True)
    ]
    arrays["checked"] = pa.array(checked, pa.bool_())
    arrays["flagged"] = pa.array(flagged, pa.bool_())
    arrays["deduplicated"] = pa.array(deduplicated, pa.bool_())
    arrays["duplicate"] = pa.array(duplicate, pa.bool_())
    arrays["kept"] = pa.array(kept, pa.bool_())
    return pa.table([arrays[f.name] for f in MANIFEST_SCHEMA], schema=MANIFEST_SCHEMA)


def open_manifest(folder: CorpusFolder) -> pq.ParquetFile:
    path = folder.path / "manifest.parquet"
    if not path.is_file():
        raise InputError(
            f"{path} does not exist yet; run `asara corpus generate {folder.path}` first", field="DIR"
        )
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except (OSError, pa.ArrowException) as error:
        raise InputError(
            f"{path} is corrupt ({error}); rebuild it with `asara corpus manifest {folder.path}`", field="DIR"
        ) from None
    metadata = schema.metadata or {}
    if (
        metadata.get(b"asara.corpus_id", b"").decode() != folder.corpus_id
        or parquet.metadata.num_rows != folder.documents
    ):
        raise InputError(
            f"{path} belongs to another corpus or plan; rebuild it with "
            f"`asara corpus manifest {folder.path}`",
            field="DIR",
        )
    missing = [f.name for f in MANIFEST_SCHEMA if f.name not in schema.names]
    if missing:
        raise InputError(
            f"{path} lacks columns {', '.join(missing[:5])}; rebuild it with `asara corpus manifest`",
            field="DIR",
        )
    return parquet


@dataclass
class Status:
    planned: int
    generated: int
    failed: int
    checked: int
    flagged: int
    duplicates: int
    kept: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in STATUS_KEYS}


def status(folder: CorpusFolder) -> Status:
    """Counts by stage and status, tokens and cost, read from the manifest (streamed by row group)."""
    parquet = open_manifest(folder)
    totals = dict.fromkeys(STATUS_KEYS[:-1], 0)
    cost = 0.0
    unpriced = False
    columns = [
        "status",
        "checked",
        "flagged",
        "duplicate",
        "kept",
        "prompt_tokens",
        "completion_tokens",
        "cost",
    ]
    try:
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=columns)
            status_values = table.column("status").to_pylist()
            totals["planned"] += len(status_values)
            totals["generated"] += status_values.count("generated")
            totals["failed"] += status_values.count("failed")
            for key, column in (
                ("checked", "checked"),
                ("flagged", "flagged"),
                ("duplicates", "duplicate"),
                ("kept", "kept"),
            ):
                totals[key] += sum(1 for v in table.column(column).to_pylist() if v)
            for key in ("prompt_tokens", "completion_tokens"):
                totals[key] += sum(v for v in table.column(key).to_pylist() if v is not None)
            for state, value in zip(status_values, table.column("cost").to_pylist(), strict=True):
                if state != "generated":
                    continue
                if value is None:
                    unpriced = True
                else:
                    cost += value
    except (OSError, pa.ArrowException) as error:
        raise InputError(
            f"{folder.path / 'manifest.parquet'} is corrupt ({error}); "
            "rebuild it with `asara corpus manifest`",
            field="DIR",
        ) from None
    return Status(**totals, cost=None if unpriced else cost)
