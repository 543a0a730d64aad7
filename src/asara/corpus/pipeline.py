"""The stages over a corpus folder: generate, check, dedupe, export and import.

Every stage goes chunk by chunk through the plan (memory stays flat), stores what it produces before
reporting it, and can be interrupted at any point and run again: responses already stored are never
requested again. The network backends (:mod:`asara.corpus.backends.openai`, :mod:`asara.corpus.batchfiles`,
:mod:`asara.corpus.judge`) are imported only when a stage needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from asara.corpus import checks, spec
from asara.corpus.backends import template as template_backend
from asara.corpus.dedupe import Deduper, Sketch, sketch
from asara.corpus.folder import TEMPLATE_PARAMS, CorpusFolder
from asara.corpus.manifest import CHECK_SCHEMA, DEDUPE_SCHEMA
from asara.corpus.prompts import GenerationParams
from asara.corpus.requests import request_hash
from asara.errors import InputError
from asara.io.atomic import atomic_path, write_json
from asara.montecarlo.executors import Executor, SerialExecutor

Progress = Callable[[int, int], None]
TEMPLATE_BATCH = 1000  # responses flushed to disk together


def _network_module(name: str) -> ModuleType:
    """A network module of the corpus package, or a one-line error when this build lacks it."""
    try:
        return importlib.import_module(f"asara.corpus.{name}")
    except ModuleNotFoundError as error:
        if error.name is not None and error.name.startswith("asara.corpus"):
            raise InputError(f"this build of asara lacks asara.corpus.{name}", field="backend") from None
        raise


def _active_generation(folder: CorpusFolder) -> tuple[str, GenerationParams]:
    generation = folder.generation()
    if generation is None:
        raise InputError(
            f"nothing generated yet; run `asara corpus generate {folder.path}` first", field="DIR"
        )
    return generation


@dataclass
class GenerateSummary:
    requested: int
    stored: int
    failed: int
    already_stored: int


def generate_template(folder: CorpusFolder, progress: Progress | None = None) -> GenerateSummary:
    """Offline template documents for every planned document not yet stored."""
    folder.set_generation("template", TEMPLATE_PARAMS)
    store = folder.store
    stored = already = 0
    for chunk in range(folder.chunks):
        table = folder.plan_chunk(chunk)
        rows = table.to_pylist()
        requests = folder.requests(table, TEMPLATE_PARAMS)
        items = [(h, body, row) for (h, body), row in zip(requests, rows, strict=True)]
        for start in range(0, len(items), TEMPLATE_BATCH):
            batch = items[start : start + TEMPLATE_BATCH]
            new = template_backend.generate(batch, store, TEMPLATE_PARAMS.model)
            stored += new
            already += len(batch) - new
            if progress is not None:
                progress(chunk * spec.CHUNK + start + len(batch), folder.documents)
    return GenerateSummary(folder.documents, stored, 0, already)


def generate_openai(
    folder: CorpusFolder, params: GenerationParams, settings: Any, progress: Progress | None = None
) -> GenerateSummary:
    """Send every planned request whose response is not stored to an OpenAI-compatible server.

    ``settings`` is an ``asara.corpus.backends.openai.ClientSettings``. Each response is stored before
    anything else; failures are recorded (and retried by the next run)."""
    backend = _network_module("backends.openai")
    params.check()
    folder.set_generation("openai", params)
    store = folder.store
    stored = failed = already = 0
    done = 0
    for chunk in range(folder.chunks):
        table = folder.plan_chunk(chunk)
        requests = folder.requests(table, params)
        pending = [(h, body) for h, body in requests if not store.has(h)]
        already += len(requests) - len(pending)
        base = done + len(requests) - len(pending)

        def on_outcome(outcome: Any, _count: list[int] = [0], _base: int = base) -> None:  # noqa: B006
            _count[0] += 1
            if progress is not None:
                progress(_base + _count[0], folder.documents)

        outcomes = backend.run_requests(pending, store, settings, on_outcome=on_outcome) if pending else []
        failures = [
            {"request_hash": o.request_hash, "attempts": o.attempts, "error": o.error}
            for o in outcomes
            if o.status != "ok"
        ]
        folder.record_failures(failures)
        failed += len(failures)
        stored += len(outcomes) - len(failures)
        done += len(requests)
    return GenerateSummary(folder.documents, stored, failed, already)


def export_batches(folder: CorpusFolder, fmt: str, out: Path, params: GenerationParams | None) -> list[Path]:
    """Batch request files for every request not yet stored (split at the provider's limits)."""
    batchfiles = _network_module("batchfiles")
    if params is not None:
        params.check()
        folder.set_generation(fmt, params)
    backend, active = _active_generation(folder)
    if backend == "template":
        raise InputError(
            "the corpus was generated with the template backend; pass --model to export", field="--model"
        )
    store = folder.store
    paths: list[Path] = []
    for chunk in range(folder.chunks):
        requests = [(h, b) for h, b in folder.requests(folder.plan_chunk(chunk), active) if not store.has(h)]
        if not requests:
            continue
        target = out if folder.chunks == 1 else out.with_name(f"{out.stem}-{chunk:05d}{out.suffix}")
        paths.extend(batchfiles.export_batch(requests, fmt, target, folder.corpus_id))
    return paths


def import_batch(folder: CorpusFolder, path: Path) -> Any:
    """Store the successful responses of a provider's results file; failed lines are recorded."""
    batchfiles = _network_module("batchfiles")
    _, params = _active_generation(folder)
    hashes: set[str] = set()
    for chunk in range(folder.chunks):
        hashes.update(h for h, _ in folder.requests(folder.plan_chunk(chunk), params))
    summary = batchfiles.import_results(path, folder.corpus_id, hashes, folder.store)
    failed: dict[str, str] = dict(summary.failed)  # request hash -> the provider's reason
    folder.record_failures([{"request_hash": h, "attempts": 1, "error": why} for h, why in failed.items()])
    return summary


def chunk_documents(
    folder: CorpusFolder, chunk: int, params: GenerationParams
) -> tuple[list[dict[str, Any]], list[str], list[str | None]]:
    """(plan rows, request hashes, texts or None) of one plan chunk."""
    table = folder.plan_chunk(chunk)
    rows = table.to_pylist()
    hashes = [h for h, _ in folder.requests(table, params)]
    store = folder.store
    texts: list[str | None] = []
    for h in hashes:
        record = store.get(h)
        texts.append(None if record is None else str(record["text"]))
    return rows, hashes, texts


@dataclass
class JudgeSettings:
    model: str
    client: Any  # ClientSettings of the OpenAI-compatible backend


def _cheap_check_chunk(task: tuple[str, int]) -> tuple[list[str | None], list[str | None]]:
    """(request hash, comma-joined flags) per document of one plan chunk; None where not generated.
    A pure function of the corpus folder: Dask workers run it on a shared filesystem."""
    folder = CorpusFolder.open(Path(task[0]))
    _, params = _active_generation(folder)
    rows, hashes, texts = chunk_documents(folder, task[1], params)
    flags: list[str | None] = []
    checked_hashes: list[str | None] = []
    for row, h, text in zip(rows, hashes, texts, strict=True):
        if text is None:
            flags.append(None)
            checked_hashes.append(None)
        else:
            flags.append(",".join(checks.cheap_flags(text, row)))
            checked_hashes.append(h)
    return checked_hashes, flags


def run_checks(
    folder: CorpusFolder,
    judge: JudgeSettings | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> dict[str, int]:
    """Cheap checks on every generated document (on ``executor``'s workers, one plan chunk a task) and,
    with ``judge``, the LLM judge; writes checks.parquet.

    Judge answers are stored like any response (under their own request hash), so running the check again
    asks the judge only about new documents."""
    _, params = _active_generation(folder)
    judge_module = _network_module("judge") if judge is not None else None
    openai_module = _network_module("backends.openai") if judge is not None else None
    store = folder.store
    counts = {"checked": 0, "flagged": 0, "judged": 0, "judge_failed": 0}
    target = folder.path / "checks.parquet"
    tasks = [(str(folder.path), chunk) for chunk in range(folder.chunks)]
    with atomic_path(target) as temporary:
        writer = pq.ParquetWriter(temporary, CHECK_SCHEMA, compression="zstd")
        try:
            for chunk, (checked_hashes, flags) in enumerate(
                (executor or SerialExecutor()).map(_cheap_check_chunk, tasks)
            ):
                n = len(flags)
                columns: dict[str, list[Any]] = {f.name: [None] * n for f in CHECK_SCHEMA}
                columns["id"] = list(range(chunk * spec.CHUNK, chunk * spec.CHUNK + n))
                columns["request_hash"] = checked_hashes
                columns["check_flags"] = flags
                for i in range(n):
                    if flags[i] is not None:
                        columns["judged"][i] = False
                        columns["judge_flags"][i] = ""
                        counts["checked"] += 1
                if judge_module is not None and openai_module is not None and judge is not None:
                    rows, _, texts = chunk_documents(folder, chunk, params)
                    judge_requests: dict[int, tuple[str, dict[str, Any]]] = {}
                    for i, text in enumerate(texts):
                        if text is not None:
                            body = judge_module.judge_request(text, judge.model)
                            judge_requests[i] = (request_hash(body), body)
                    pending = [(h, b) for h, b in judge_requests.values() if not store.has(h)]
                    if pending:
                        openai_module.run_requests(pending, store, judge.client)
                    for i, (h, _) in judge_requests.items():
                        _apply_judgement(judge_module, store.get(h), rows[i], columns, i, judge.model, counts)
                for i in range(n):
                    if columns["check_flags"][i] or columns["judge_flags"][i]:
                        counts["flagged"] += 1
                writer.write_table(pa.table(columns, schema=CHECK_SCHEMA), row_group_size=spec.CHUNK)
                if progress is not None:
                    progress(chunk + 1, folder.chunks)
        finally:
            writer.close()
    return counts


def _apply_judgement(
    judge_module: Any,
    record: dict[str, Any] | None,
    row: dict[str, Any],
    columns: dict[str, list[Any]],
    i: int,
    model: str,
    counts: dict[str, int],
) -> None:
    columns["judge_model"][i] = model
    if record is None:
        columns["judge_flags"][i] = "judge request failed"
        counts["judge_failed"] += 1
        return
    try:
        judged = judge_module.parse_judgement(str(record["text"]))
    except ValueError:
        columns["judge_flags"][i] = "judge answer unparseable"
        return
    counts["judged"] += 1
    columns["judged"][i] = True
    columns["judged_genre"][i] = judged.genre
    columns["judged_setting"][i] = judged.setting
    columns["judged_opportunities"][i] = int(judged.opportunities)
    columns["judged_years"][i] = float(judged.years_in_production)
    columns["judged_ai_defects"][i] = bool(judged.ai_defects)
    columns["judge_confidence"][i] = float(judged.confidence)
    # Messages such as "genre: spec 'fiction', judged 'news'" contain commas: joined with "; ".
    messages = judge_module.disagreements(judged, row)
    columns["judge_flags"][i] = "; ".join(f"judge {message}" for message in messages)


def _sketch_chunk(task: tuple[str, int]) -> tuple[list[str | None], Sketch]:
    """Request hashes (None where not generated) and the dedup sketch of one plan chunk's documents."""
    folder = CorpusFolder.open(Path(task[0]))
    _, params = _active_generation(folder)
    rows, hashes, texts = chunk_documents(folder, task[1], params)
    present = [i for i, t in enumerate(texts) if t is not None]
    part = sketch([rows[i]["id"] for i in present], [texts[i] or "" for i in present])
    return [h if t is not None else None for h, t in zip(hashes, texts, strict=True)], part


def run_dedupe(
    folder: CorpusFolder,
    threshold: float = 0.8,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Exact and near-duplicate clusters of the generated documents; writes dedupe.parquet and dedupe.json.

    The sketches (signatures and table counts) are computed one plan chunk a task on ``executor``'s
    workers; clustering runs here, in bounded memory."""
    _active_generation(folder)
    chunk_hashes: list[list[str | None]] = []
    tasks = [(str(folder.path), chunk) for chunk in range(folder.chunks)]
    with Deduper(folder.documents, threshold, workdir=folder.path) as deduper:
        for chunk, (hashes, part) in enumerate((executor or SerialExecutor()).map(_sketch_chunk, tasks)):
            deduper.add_sketch(part)
            chunk_hashes.append(hashes)
            if progress is not None:
                progress(chunk + 1, 2 * folder.chunks)
        result = deduper.finish()
    position = {int(doc_id): k for k, doc_id in enumerate(result.ids)}
    target = folder.path / "dedupe.parquet"
    with atomic_path(target) as temporary:
        writer = pq.ParquetWriter(temporary, DEDUPE_SCHEMA, compression="zstd")
        try:
            for chunk in range(folder.chunks):
                start = chunk * spec.CHUNK
                hashes_in_chunk = chunk_hashes[chunk]
                n = len(hashes_in_chunk)
                exact: list[bool | None] = [None] * n
                cluster: list[int | None] = [None] * n
                duplicate: list[bool | None] = [None] * n
                for i in range(n):
                    k = position.get(start + i)
                    if k is None:
                        continue
                    exact[i] = bool(result.exact_duplicate[k])
                    cluster[i] = int(result.cluster[k]) if result.cluster[k] >= 0 else None
                    duplicate[i] = bool(result.duplicate[k])
                table = pa.table(
                    {
                        "id": pa.array(np.arange(start, start + n), pa.int64()),
                        "request_hash": pa.array(hashes_in_chunk, pa.string()),
                        "exact_duplicate": pa.array(exact, pa.bool_()),
                        "duplicate_cluster": pa.array(cluster, pa.int64()),
                        "duplicate": pa.array(duplicate, pa.bool_()),
                    },
                    schema=DEDUPE_SCHEMA,
                )
                writer.write_table(table, row_group_size=spec.CHUNK)
                if progress is not None:
                    progress(folder.chunks + chunk + 1, 2 * folder.chunks)
        finally:
            writer.close()
    write_json(folder.path / "dedupe.json", result.report)
    return result.report
