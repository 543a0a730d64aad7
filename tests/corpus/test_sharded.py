"""Checks and dedup over plan chunks on a Dask LocalCluster give exactly the serial results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from asara.corpus import pipeline, spec
from asara.corpus.folder import CorpusFolder
from asara.montecarlo.executors import DaskExecutor, local_dask_cluster
from tests.corpus.helpers import assert_one_line_exit_2, corpus


def test_checks_and_dedupe_on_dask_equal_the_serial_run(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(spec, "CHUNK", 16)  # five chunks of a 70-document corpus (threads see the patch)
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", "technical-incident-reports", "--documents", "70", "--seed", "2")
    corpus("generate", str(directory), "--quiet")
    folder = CorpusFolder.open(directory)
    assert folder.chunks == 5
    serial_checks = pipeline.run_checks(folder)
    serial_report = pipeline.run_dedupe(folder, 0.8)
    serial_tables = {name: pq.read_table(directory / name) for name in ("checks.parquet", "dedupe.parquet")}
    from distributed import Client

    with local_dask_cluster(2, processes=False) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        executor = DaskExecutor(client)
        assert pipeline.run_checks(folder, executor=executor) == serial_checks
        assert pipeline.run_dedupe(folder, 0.8, executor=executor) == serial_report
    for name, table in serial_tables.items():
        assert pq.read_table(directory / name).equals(table), name
    assert json.loads((directory / "dedupe.json").read_text())["documents"] == 70


def test_bad_workers_is_one_line(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", "production-stories", "--documents", "3")
    corpus("generate", str(directory), "--quiet")
    assert_one_line_exit_2(["check", str(directory), "--workers", "0"], "--workers", monkeypatch, capsys)
    assert_one_line_exit_2(["dedupe", str(directory), "--dask", "nonsense"], "dask", monkeypatch, capsys)


@pytest.mark.parametrize("command", ["check", "dedupe"])
def test_two_local_workers_give_the_serial_files(tmp_path: Path, command: str) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", "production-stories", "--documents", "30", "--seed", "9")
    corpus("generate", str(directory), "--quiet")
    corpus(command, str(directory), "--workers", "1")
    name = "checks.parquet" if command == "check" else "dedupe.parquet"
    serial = pq.read_table(directory / name)
    corpus(command, str(directory), "--workers", "2")
    assert pq.read_table(directory / name).equals(serial)
