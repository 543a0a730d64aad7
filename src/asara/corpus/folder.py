"""The corpus folder: what each stage reads and writes, and nothing else.

    DIR/corpus.json        corpus id, spec, seed, document count, prompt template (written once)
    DIR/plan.parquet       one row per document spec, row groups of spec.CHUNK documents
    DIR/generation.json    the generation parameters of the latest `generate` (model, temperature, ...)
    DIR/responses/         ResponseStore: one file per request hash, never overwritten
    DIR/failures.jsonl     one line per request that ended failed (retried by the next `generate`)
    DIR/checks.parquet     cheap checks and judge results per document
    DIR/dedupe.parquet     duplicate clusters per document; DIR/dedupe.json the report
    DIR/manifest.parquet   one row per document, assembled from all of the above
    DIR/texts/part-NNNNN.parquet   the texts (id, request_hash, text), one shard per plan chunk
    DIR/prices.toml        the user's price table (see asara.corpus.costs)

Every file is written atomically; the only appended file (failures.jsonl) is read line by line and a torn
last line is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from asara import __version__
from asara.corpus import prompts, spec
from asara.corpus.prompts import GenerationParams
from asara.corpus.requests import canonical_json, request_hash
from asara.corpus.store import ResponseStore
from asara.errors import InputError
from asara.io.atomic import atomic_path, write_json

FORMAT = 1
TEMPLATE_PARAMS = GenerationParams(model="asara-template-v1", temperature=0.0)


def corpus_id(spec_document: Mapping[str, Any], seed: int, documents: int, template: str) -> str:
    """The identity of a corpus: its validated spec, seed, size and prompt template."""
    content = {"spec": spec_document, "seed": seed, "documents": documents, "template": template}
    return "corpus-" + hashlib.sha256(canonical_json(content).encode()).hexdigest()[:20]


class CorpusFolder:
    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self.spec = spec.parse_spec(meta["spec"])

    # ---- creation and opening -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        corpus_spec: spec.CorpusSpec,
        documents: int,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[CorpusFolder, bool]:
        """Plan a new corpus in ``path``; returns (folder, created). An identical plan already there is
        reused; a different one is refused (nothing is overwritten)."""
        spec.check_document_count(documents)
        spec.check_seed(seed)
        spec_document = corpus_spec.model_dump(mode="json")
        template = prompts.template(prompts.CURRENT_TEMPLATE)
        meta = {
            "format": FORMAT,
            "corpus_id": corpus_id(spec_document, seed, documents, template.label),
            "name": corpus_spec.name,
            "seed": seed,
            "documents": documents,
            "template": template.label,
            "template_hash": template.hash,
            "spec": spec_document,
            "asara_version": __version__,
        }
        if path.exists() and not path.is_dir():
            raise InputError(f"{path} exists and is not a folder", field="DIR")
        if (path / "corpus.json").exists():
            existing = cls.open(path)
            if existing.meta["corpus_id"] != meta["corpus_id"]:
                raise InputError(
                    f"{path} already holds another corpus ({existing.meta['corpus_id']}); "
                    "choose a new folder",
                    field="DIR",
                )
            if not existing.plan_path.is_file():
                existing.write_plan(progress)
            return existing, False
        if path.is_dir() and any(path.iterdir()):
            raise InputError(f"{path} is not empty and holds no corpus; choose a new folder", field="DIR")
        folder = cls(path, meta)
        folder.write_plan(progress)
        write_json(path / "corpus.json", meta)  # last: a folder with corpus.json has a complete plan
        return folder, True

    @classmethod
    def open(cls, path: Path) -> CorpusFolder:
        target = path / "corpus.json"
        if not target.is_file():
            raise InputError(
                f"{path} holds no corpus (no corpus.json); create one with `asara corpus new`", field="DIR"
            )
        try:
            meta = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"{target} is corrupt: {error}", field="DIR") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError(f"{target} is not a corpus file of format {FORMAT}", field="DIR")
        for key in ("corpus_id", "seed", "documents", "template", "spec"):
            if key not in meta:
                raise InputError(f"{target} lacks {key!r}", field="DIR")
        return cls(path, meta)

    # ---- plan --------------------------------------------------------------------------------------------
    @property
    def plan_path(self) -> Path:
        return self.path / "plan.parquet"

    @property
    def documents(self) -> int:
        return int(self.meta["documents"])

    @property
    def corpus_id(self) -> str:
        return str(self.meta["corpus_id"])

    @property
    def chunks(self) -> int:
        return spec.chunk_count(self.documents)

    def write_plan(self, progress: Callable[[int, int], None] | None = None) -> None:
        with atomic_path(self.plan_path) as temporary:
            writer = pq.ParquetWriter(temporary, spec.PLAN_SCHEMA, compression="zstd")
            try:
                for table in spec.expand(self.spec, int(self.meta["seed"]), self.documents):
                    writer.write_table(table, row_group_size=spec.CHUNK)
                    if progress is not None:
                        progress(int(table.column("id")[-1].as_py()) + 1, self.documents)
            finally:
                writer.close()

    def plan_chunk(self, chunk: int) -> pa.Table:
        try:
            parquet = pq.ParquetFile(self.plan_path)
            if parquet.metadata.num_rows != self.documents or parquet.num_row_groups != self.chunks:
                raise InputError(f"{self.plan_path} does not match corpus.json", field="DIR")
            return parquet.read_row_group(chunk)
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"{self.plan_path} is corrupt: {error}", field="DIR") from None

    def plan_chunks(self) -> Iterator[pa.Table]:
        for chunk in range(self.chunks):
            yield self.plan_chunk(chunk)

    # ---- requests and responses --------------------------------------------------------------------------
    @property
    def store(self) -> ResponseStore:
        return ResponseStore(self.path / "responses")

    def generation(self) -> tuple[str, GenerationParams] | None:
        """(backend, parameters) of the latest `generate`, or None before the first."""
        target = self.path / "generation.json"
        if not target.is_file():
            return None
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
            return str(data["backend"]), GenerationParams(**data["params"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"{target} is corrupt: {error}", field="DIR") from None

    def set_generation(self, backend: str, params: GenerationParams) -> None:
        write_json(self.path / "generation.json", {"backend": backend, "params": params.to_dict()})

    def requests(self, table: pa.Table, params: GenerationParams) -> list[tuple[str, dict[str, Any]]]:
        """(request hash, body) for each document of a plan chunk."""
        label = str(self.meta["template"])
        result = []
        for row in table.to_pylist():
            body = prompts.request_body(row, params, label)
            result.append((request_hash(body), body))
        return result

    # ---- failures ----------------------------------------------------------------------------------------
    @property
    def failures_path(self) -> Path:
        return self.path / "failures.jsonl"

    def record_failures(self, failures: list[dict[str, Any]]) -> None:
        """Append failed outcomes (request_hash, attempts, error); durable before returning."""
        if not failures:
            return
        lines = "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures)
        try:
            with open(self.failures_path, "a", encoding="utf-8") as stream:
                stream.write(lines)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as error:
            raise InputError(
                f"cannot write {self.failures_path}: {error.strerror or error}", field="DIR"
            ) from None

    def failures(self) -> dict[str, str]:
        """Request hash -> last error, for every request recorded as failed."""
        result: dict[str, str] = {}
        if not self.failures_path.is_file():
            return result
        with open(self.failures_path, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    entry = json.loads(line)
                    result[str(entry["request_hash"])] = str(entry.get("error", ""))
        return result
