"""Atomic writes leave complete files with the permissions any new file would get."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from asara.errors import InputError
from asara.io.atomic import atomic_path, write_json


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_get_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        target = tmp_path / "run.json"
        write_json(target, {"a": 1})
        assert _mode(target) == 0o644
    finally:
        os.umask(previous)


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_text("{}", encoding="utf-8")
    target.chmod(0o640)
    write_json(target, {"a": 2})
    assert _mode(target) == 0o640 and '"a": 2' in target.read_text(encoding="utf-8")


def test_an_error_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.parametrize("where", ["file-as-folder", "directory-as-file"])
def test_unwritable_targets_are_one_line_input_errors(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "run.json" if where == "file-as-folder" else tmp_path
    with pytest.raises(InputError) as caught:
        write_json(target, {"a": 1})
    assert caught.value.field == "out" and "cannot write" in str(caught.value)
