"""`make repro` clears the empty rwlock a killed `dvc repro` leaves behind, and nothing else."""

import fcntl
import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("clear_stale_dvc_lock", ROOT / "scripts" / "clear_stale_dvc_lock.py")
clear = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clear)


def repo_with_rwlock(tmp_path, content):
    (tmp_path / ".dvc" / "tmp").mkdir(parents=True)
    (tmp_path / ".dvc" / "tmp" / "rwlock").write_text(content)
    return tmp_path / ".dvc" / "tmp" / "rwlock"


def test_an_empty_rwlock_left_by_a_killed_run_is_removed(tmp_path):
    rwlock = repo_with_rwlock(tmp_path, "")
    assert "removed" in clear.clear_stale_rwlock(tmp_path)
    assert not rwlock.exists()


def test_a_valid_rwlock_is_kept(tmp_path):
    rwlock = repo_with_rwlock(tmp_path, '{"read": {}, "write": {}}')
    clear.clear_stale_rwlock(tmp_path)
    assert rwlock.read_text() == '{"read": {}, "write": {}}'


def test_an_empty_rwlock_is_kept_while_dvc_holds_its_guard(tmp_path):
    rwlock = repo_with_rwlock(tmp_path, "")
    fd = os.open(rwlock.parent / "rwlock.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:  # flock locks of two open() calls conflict even within one process
        assert "left alone" in clear.clear_stale_rwlock(tmp_path)
    finally:
        os.close(fd)
    assert rwlock.exists()


def test_no_dvc_folder_is_nothing_to_do(tmp_path):
    assert clear.clear_stale_rwlock(tmp_path) == "no stale DVC rwlock"
