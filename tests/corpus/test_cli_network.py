"""`asara corpus` wired to the network modules (OpenAI-compatible backend, batch files, judge) against the
loopback fake server. Skipped where this build lacks those modules (they are developed alongside)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("asara.corpus.backends.openai")
pytest.importorskip("asara.corpus.batchfiles")
pytest.importorskip("asara.corpus.judge")
fake = pytest.importorskip("tests.corpus.fake_server")

from asara.corpus.folder import CorpusFolder  # noqa: E402
from tests.corpus.helpers import assert_one_line_exit_2, corpus, corpus_json, spec_file  # noqa: E402

SPEC = """
name = "net"
[[kinds]]
name = "story"
genre = { fiction = 1 }
opportunities = 2
years_in_production = 10
length_words = 60
"""
N = 24
FAST = ["--max-retries", "1", "--timeout", "5", "--quiet"]


def planned(tmp_path: Path) -> Path:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, SPEC), "--documents", str(N), "--seed", "4")
    return directory


def generate_args(directory: Path, server: Any) -> list[str]:
    return ["generate", str(directory), "--backend", "openai", "--base-url", server.base_url, "--model",
            "fake-model", *FAST]  # fmt: skip


def test_generate_stores_every_response_once_and_resumes(tmp_path: Path) -> None:
    directory = planned(tmp_path)
    with fake.fake_openai_server() as server:
        corpus(*generate_args(directory, server))
        assert server.chat_requests == N
        output = corpus(*generate_args(directory, server))
        assert server.chat_requests == N  # nothing re-sent
        assert f"{N} already stored" in output
    status = corpus_json("status", str(directory))
    assert status["generated"] == N and status["prompt_tokens"] > 0 and status["cost"] is None


def test_a_server_that_fails_every_request_is_one_line_and_keeps_nothing_false(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    directory = planned(tmp_path)
    with fake.fake_openai_server(fake.always(fake.Reply("status", 500))) as server:
        assert_one_line_exit_2(generate_args(directory, server), "failed", monkeypatch, capsys)
    assert corpus_json("status", str(directory))["generated"] == 0
    assert_one_line_exit_2(
        [
            "generate",
            str(directory),
            "--backend",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            *FAST,
        ],
        "",
        monkeypatch,
        capsys,
    )
    with fake.fake_openai_server() as server:
        corpus(*generate_args(directory, server))
    assert corpus_json("status", str(directory))["generated"] == N


def test_judge_results_reach_the_manifest(tmp_path: Path) -> None:
    directory = planned(tmp_path)
    with fake.fake_openai_server() as server:
        corpus(*generate_args(directory, server))
        counts = corpus_json("check", str(directory), "--judge-base-url", server.base_url, "--judge-model",
                             "fake-model", "--max-retries", "1")  # fmt: skip
        assert counts["judged"] == N
        judged_requests = server.chat_requests
        corpus("check", str(directory), "--judge-base-url", server.base_url, "--judge-model", "fake-model")
        assert server.chat_requests == judged_requests  # judge answers are stored too
    import pandas as pd

    frame = pd.read_parquet(directory / "manifest.parquet")
    assert frame["judged"].all()
    # the fake judge reads 3 opportunities and 10 years: within tolerance of the spec (2 and 10)
    assert set(frame["judged_opportunities"]) == {3}


def test_export_and_import_a_shuffled_results_file(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = planned(tmp_path)
    out = tmp_path / "batch.jsonl"
    corpus("export", str(directory), "--format", "openai-batch", "--out", str(out), "--model", "gpt-x")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == N
    results = []
    for index, line in enumerate(lines):
        if index == 0:
            results.append({"id": "b0", "custom_id": line["custom_id"], "response": None,
                            "error": {"code": "batch_expired", "message": "expired"}})  # fmt: skip
            continue
        body = {"id": "x", "object": "chat.completion", "model": "gpt-x",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "text " * 60},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 80}}  # fmt: skip
        response = {"status_code": 200, "request_id": "r", "body": body}
        results.append(
            {"id": f"b{index}", "custom_id": line["custom_id"], "response": response, "error": None}
        )
    random.Random(3).shuffle(results)
    result_file = tmp_path / "results.jsonl"
    result_file.write_text("".join(json.dumps(r) + "\n" for r in results))
    (directory / "prices.toml").write_text(
        '[models."gpt-x"]\nprompt_per_million = 1.0\ncompletion_per_million = 2.0\nbatch_multiplier = 0.5\n'
    )
    corpus("import", str(directory), str(result_file))
    status = corpus_json("status", str(directory))
    assert status["generated"] == N - 1 and status["failed"] == 1
    assert status["cost"] == pytest.approx(0.5 * (N - 1) * (100 * 1.0 + 80 * 2.0) / 1e6)
    retry = tmp_path / "retry.jsonl"
    corpus("export", str(directory), "--format", "anthropic-batch", "--out", str(retry))
    assert len(retry.read_text().splitlines()) == 1
    # a results file of another corpus is refused; nothing stored is lost
    other = tmp_path / "other"
    corpus("new", str(other), "--spec", spec_file(tmp_path, SPEC), "--documents", str(N), "--seed", "5")
    corpus(
        "export",
        str(other),
        "--format",
        "openai-batch",
        "--out",
        str(tmp_path / "o.jsonl"),
        "--model",
        "gpt-x",
    )
    assert_one_line_exit_2(["import", str(other), str(result_file)], "", monkeypatch, capsys)
    assert corpus_json("status", str(directory))["generated"] == N - 1
    assert len(list(CorpusFolder.open(directory).store.hashes())) == N - 1


def test_a_closed_port_fails_at_once_without_sending_a_request(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    import socket
    import time

    directory = planned(tmp_path)
    with socket.socket() as probe:  # a port nobody listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    args = ["generate", str(directory), "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1",
            "--model", "m", "--quiet"]  # fmt: skip
    assert_one_line_exit_2(args, "cannot reach", monkeypatch, capsys)
    assert time.monotonic() - started < 10  # not every request's retries (about a minute before)
    assert not any(CorpusFolder.open(directory).store.hashes())


def test_a_short_dummy_key_does_not_garble_messages(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = planned(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "1")  # what local servers are often given
    with fake.fake_openai_server() as server:
        base = server.base_url.removesuffix("/v1") + "/nothing"
        args = ["generate", str(directory), "--backend", "openai", "--base-url", base, "--model", "m", *FAST]
        monkeypatch.setattr("sys.argv", ["asara", "corpus", *args])
        from asara.cli.main import main

        with pytest.raises(SystemExit):
            main()
    err = capsys.readouterr().err
    assert "127.0.0.1" in err and "***" not in err, err


def test_an_import_refused_midway_shows_what_it_stored(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = planned(tmp_path)
    out = tmp_path / "batch.jsonl"
    corpus("export", str(directory), "--format", "openai-batch", "--out", str(out), "--model", "gpt-x")
    other = tmp_path / "other"
    corpus("new", str(other), "--spec", spec_file(tmp_path, SPEC), "--documents", "2", "--seed", "5")
    foreign = tmp_path / "foreign.jsonl"
    corpus("export", str(other), "--format", "openai-batch", "--out", str(foreign), "--model", "gpt-x")
    body = {"id": "x", "object": "chat.completion", "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "text " * 60},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 60}}  # fmt: skip
    ids = [json.loads(line)["custom_id"] for line in out.read_text().splitlines()[:5]]
    ids.append(json.loads(foreign.read_text().splitlines()[0])["custom_id"])  # the line that is refused
    lines = [{"id": f"b{i}", "custom_id": c, "error": None,
              "response": {"status_code": 200, "request_id": "r", "body": body}}
             for i, c in enumerate(ids)]  # fmt: skip
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert_one_line_exit_2(["import", str(directory), str(results)], "", monkeypatch, capsys)
    assert corpus_json("status", str(directory))["generated"] == 5  # stored, and the manifest says so
