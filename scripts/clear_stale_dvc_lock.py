"""Remove DVC's read/write lock file when a killed `dvc repro` left it empty (then every later `dvc repro`
fails with "Unable to read RWLock-file ... JSON structure is corrupted").

DVC rewrites ``.dvc/tmp/rwlock`` in place while holding ``.dvc/tmp/rwlock.lock``; a process killed between
the truncation and the write leaves an empty file. The file is removed only when it is empty (or blank)
and no process holds ``rwlock.lock``, so a running DVC is never disturbed. Usage:
``python scripts/clear_stale_dvc_lock.py [REPO]`` (prints what it did; exit 0).
"""

import fcntl
import os
import sys
from pathlib import Path


def clear_stale_rwlock(repo: Path) -> str:
    """Remove an empty ``.dvc/tmp/rwlock`` of ``repo`` when unused; returns what was done."""
    tmp = repo / ".dvc" / "tmp"
    rwlock = tmp / "rwlock"
    if not rwlock.is_file() or rwlock.read_text().strip():
        return "no stale DVC rwlock"
    fd = os.open(tmp / "rwlock.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return f"{rwlock} is empty but DVC is running (rwlock.lock held); left alone"
    try:
        if rwlock.is_file() and not rwlock.read_text().strip():
            rwlock.unlink()
            return f"removed the empty {rwlock} left by a killed DVC run"
        return "no stale DVC rwlock"
    finally:
        os.close(fd)


if __name__ == "__main__":
    print(clear_stale_rwlock(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
