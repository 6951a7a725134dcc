"""Which files' SHA-256 was already checked: so a dataset can be verified on every open at the cost of
hashing each shard once.

A file counts as verified while its (resolved path, size, mtime, inode) match a successful check made in
this process or recorded in ``$SCALEGMN_CACHE_DIR/verified.json`` (default ``~/.cache/scalegmn``). Editing
a file changes its mtime and forces a new check; a byte flipped with the mtime restored is only caught by
an explicit ``verify=True``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scalegmn.io import write_json

_checked: set[str] = set()


def cache_file() -> Path:
    """The persistent record of verified files."""
    root = os.environ.get("SCALEGMN_CACHE_DIR")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "scalegmn"
    return Path(root) / "verified.json"


def _key(path: Path, sha256: str) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{sha256}"


def _current(key: str) -> bool:
    """Whether the file of a recorded ``key`` is unchanged (else the entry is dropped)."""
    path, sha256 = key.split("|", 1)[0], key.rsplit("|", 1)[-1]
    try:
        return _key(Path(path), sha256) == key
    except OSError:
        return False


def _load() -> dict[str, bool]:
    try:
        record = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def clear_process_record() -> None:
    """Forget this process's checks (the cache file is kept)."""
    _checked.clear()


def unverified(files: list[tuple[Path, str]]) -> set[Path]:
    """The paths of ``files`` (``(path, sha256)`` pairs) not checked against their SHA-256 since they last
    changed (the record file is read once)."""
    record = _load()
    keys = {path: _key(path, sha256) for path, sha256 in files}
    return {path for path, key in keys.items() if key not in _checked and not record.get(key)}


def mark_verified(paths: list[tuple[Path, str]]) -> None:
    """Record that each ``(path, sha256)`` was checked (in this process, and in the cache file if writable)."""
    keys = [_key(p, s) for p, s in paths]
    _checked.update(keys)
    record = _load()
    if all(record.get(k) for k in keys):
        return
    record = {k: True for k in record if _current(k)} | dict.fromkeys(keys, True)
    try:
        write_json(cache_file(), record)
    except OSError:
        pass  # a read-only cache only costs re-hashing in the next process
