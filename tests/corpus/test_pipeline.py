"""The template pipeline end to end: new -> generate -> check -> dedupe -> manifest -> status, resume,
kill-and-resume, and bad input (one line, exit 2, nothing lost)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from asara.corpus.folder import CorpusFolder
from asara.corpus.manifest import STATUS_KEYS
from tests.corpus.helpers import MINIMAL_SPEC, assert_one_line_exit_2, corpus, corpus_json, spec_file

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("corpus") / "c"
    corpus("new", str(directory), "--spec", "production-stories", "--documents", "120", "--seed", "3")
    corpus("generate", str(directory), "--quiet")
    corpus("check", str(directory))
    corpus("dedupe", str(directory))
    return directory


def test_status_has_exactly_the_documented_keys(built: Path) -> None:
    status = corpus_json("status", str(built))
    assert tuple(status) == STATUS_KEYS
    assert status["planned"] == status["generated"] == 120
    assert status["failed"] == 0 and status["checked"] == 120
    assert status["kept"] == 120 - status["flagged"] - status["duplicates"]
    assert status["completion_tokens"] > 0 and status["cost"] == 0.0


def test_manifest_is_one_row_per_document_and_readable_by_pandas(built: Path) -> None:
    frame = pd.read_parquet(built / "manifest.parquet")
    assert len(frame) == 120 and list(frame["id"]) == list(range(120))
    for column in ("kind", "genre", "status", "text_hash", "request_hash", "template_hash", "model",
                   "prompt_tokens", "cost", "check_flags", "duplicate_cluster", "kept"):  # fmt: skip
        assert column in frame.columns
    assert set(frame["status"]) == {"generated"}
    texts = pd.read_parquet(built / "texts")
    assert len(texts) == 120
    merged = frame.merge(texts, on=["id", "request_hash"])
    assert len(merged) == 120
    assert all(len(t.split()) > 100 for t in merged["text"])


def test_generate_again_sends_nothing_and_keeps_every_response(built: Path) -> None:
    responses = sorted((built / "responses").rglob("*.json"))
    before = {p: p.stat().st_ino for p in responses}
    output = corpus("generate", str(built), "--quiet")
    assert "0 responses stored, 120 already stored" in output
    assert {p: p.stat().st_ino for p in sorted((built / "responses").rglob("*.json"))} == before


def test_new_on_a_folder_with_another_corpus_is_refused(built: Path, monkeypatch: Any, capsys: Any) -> None:
    plan = (built / "plan.parquet").read_bytes()
    assert_one_line_exit_2(
        ["new", str(built), "--spec", "production-stories", "--documents", "121"],
        "another corpus",
        monkeypatch,
        capsys,
    )
    assert (built / "plan.parquet").read_bytes() == plan
    # The same plan again is accepted and changes nothing.
    assert "Already planned" in corpus(
        "new", str(built), "--spec", "production-stories", "--documents", "120", "--seed", "3"
    )


def test_corrupt_manifest_is_one_line_and_rebuilt_from_the_store(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, MINIMAL_SPEC), "--documents", "10")
    corpus("generate", str(directory), "--quiet")
    (directory / "manifest.parquet").write_bytes(b"PAR1 not really")
    assert_one_line_exit_2(["status", str(directory)], "corrupt", monkeypatch, capsys)
    assert len(list((directory / "responses").rglob("*.json"))) == 10
    corpus("manifest", str(directory))
    assert corpus_json("status", str(directory))["generated"] == 10


def test_commands_on_a_folder_without_a_corpus_are_one_line(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    assert_one_line_exit_2(["status", str(tmp_path)], "no corpus", monkeypatch, capsys)
    assert_one_line_exit_2(["generate", str(tmp_path), "--backend", "nope"], "no corpus", monkeypatch, capsys)


def test_bad_generate_flags_are_one_line(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, MINIMAL_SPEC), "--documents", "3")
    assert_one_line_exit_2(
        ["generate", str(directory), "--backend", "nope"], "--backend", monkeypatch, capsys
    )
    assert_one_line_exit_2(
        ["generate", str(directory), "--backend", "openai"], "--model", monkeypatch, capsys
    )
    assert_one_line_exit_2(
        ["generate", str(directory), "--backend", "openai", "--model", "m", "--base-url", "ftp://x"],
        "--base-url",
        monkeypatch,
        capsys,
    )
    assert_one_line_exit_2(
        [
            "generate",
            str(directory),
            "--backend",
            "openai",
            "--model",
            "m",
            "--base-url",
            "http://127.0.0.1:9",
            "--concurrency",
            "0",
        ],
        "--concurrency",
        monkeypatch,
        capsys,
    )
    assert_one_line_exit_2(
        ["dedupe", str(directory), "--threshold", "0.2"], "--threshold", monkeypatch, capsys
    )


def test_sigkill_during_generate_loses_nothing_and_resumes(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", "production-stories", "--documents", "2000", "--seed", "1")
    env = {**os.environ, "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "asara.cli.main", "corpus", "generate", str(directory), "--quiet"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any((directory / "responses").rglob("*.json")):
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    first = {p.name: p.stat().st_ino for p in (directory / "responses").rglob("*.json")}
    for path in (directory / "responses").rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # every stored response is complete
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{len(first):,} already stored" in result.stdout
    after = {p.name: p.stat().st_ino for p in (directory / "responses").rglob("*.json")}
    assert len(after) == 2000
    assert all(after[name] == inode for name, inode in first.items())  # nothing stored was rewritten
    folder = CorpusFolder.open(directory)
    assert pq.ParquetFile(folder.path / "manifest.parquet").metadata.num_rows == 2000


def test_status_right_after_new_counts_every_document_planned(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, MINIMAL_SPEC), "--documents", "7")
    status = corpus_json("status", str(directory))
    assert status["planned"] == 7 and status["generated"] == 0 and status["kept"] == 0
    assert status["cost"] == 0.0
