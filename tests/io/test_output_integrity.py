"""Nothing that is not a regular file is replaced, and a run folder's files are replaced as one unit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from asara.errors import InputError
from asara.io.atomic import atomic_path, write_json, write_text
from asara.io.runfolder import run_folder, verify_files


def _specials(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("precious", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    return {"fifo": fifo, "link": link, "dangling": dangling}


@pytest.mark.parametrize("kind", ["fifo", "link", "dangling"])
def test_special_files_are_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    path = _specials(tmp_path)[kind]
    before = os.lstat(path)
    with pytest.raises(InputError, match="only replaces regular files"):
        write_text(path, "new")
    after = os.lstat(path)
    assert (before.st_mode, before.st_ino) == (after.st_mode, after.st_ino)
    assert (tmp_path / "target.txt").read_text(encoding="utf-8") == "precious"
    assert not (tmp_path / "nowhere").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_target_that_becomes_a_fifo_during_the_write_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(InputError), atomic_path(target) as temporary:
        temporary.write_text("{}", encoding="utf-8")
        os.mkfifo(target)
    assert os.path.exists(target) and not target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_run_folder_commits_manifest_last_with_hashes(tmp_path: Path) -> None:
    folder_path = tmp_path / "run"
    with run_folder(folder_path) as folder:
        folder.partial("data.bin").write_bytes(b"new data")
        manifest = folder.commit({"a": 1})
    assert (folder_path / "data.bin").read_bytes() == b"new data"
    written = json.loads((folder_path / "run.json").read_text(encoding="utf-8"))
    assert written == manifest and written["files"]["data.bin"]["bytes"] == 8
    verify_files(folder_path, written)
    (folder_path / "data.bin").write_bytes(b"other run")
    with pytest.raises(InputError, match="does not match"):
        verify_files(folder_path, written)


def test_an_interrupted_run_folder_keeps_the_old_pair(tmp_path: Path) -> None:
    folder_path = tmp_path / "run"
    with run_folder(folder_path) as folder:
        folder.partial("data.bin").write_bytes(b"old")
        folder.commit({"run": "old"})
    with pytest.raises(KeyboardInterrupt), run_folder(folder_path) as folder:
        folder.partial("data.bin").write_bytes(b"new, half written")
        raise KeyboardInterrupt
    assert sorted(p.name for p in folder_path.iterdir()) == ["data.bin", "run.json"]
    record = json.loads((folder_path / "run.json").read_text(encoding="utf-8"))
    assert record["run"] == "old"
    verify_files(folder_path, record)


def test_run_folder_refuses_a_manifest_that_is_a_link(tmp_path: Path) -> None:
    folder_path = tmp_path / "run"
    folder_path.mkdir()
    (folder_path / "run.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(InputError, match="symbolic link"), run_folder(folder_path):
        pass
    with pytest.raises(InputError, match="not a directory"):
        write_json(tmp_path / "file", {})
        with run_folder(tmp_path / "file"):
            pass
