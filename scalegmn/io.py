"""Safe file and directory output: write under a temporary name beside the target, then rename over it.

A directory output is only ever replaced when it does not exist, is empty, or is a previous output of the
same kind (recognised by the marker file :data:`OUTPUT_MARKER` every :func:`atomic_dir` writes), unless
``overwrite`` is given; it may never equal, contain or lie inside one of the inputs. Temporaries are named
``.<name>.<host>-<pid>.<random>.tmp``: one left behind by a killed process (same host, pid no longer
alive) is removed by the next write of the same target.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUTPUT_MARKER = ".scalegmn-output"
LEGACY_TMP_AGE_S = 24 * 3600.0
_LEGACY_RANDOM = re.compile(r"[a-z0-9_]{8}")  # tempfile.mkstemp's random part


class OutputError(ValueError):
    """An output path that cannot be written without losing or corrupting other data."""


def _host() -> str:
    return socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def _owner_tag() -> str:
    return f"{_host()}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(path: Path, name: str) -> bool:
    """Whether ``path`` (a sibling ``.<name>.*.tmp`` / ``.old``) is a temporary of a dead process of ours:
    ``<host>-<pid>.<random>`` with this host and a pid no longer alive, or (``.tmp`` only) an older
    version's ``.<name>.<8 mkstemp characters>.tmp`` more than a day old."""
    suffix = path.name.rsplit(".", 1)[-1]
    middle = path.name[len(name) + 2 :].rsplit(".", 1)[0].split(".")
    if len(middle) == 2:
        host, sep, pid = middle[0].rpartition("-")
        return bool(sep) and pid.isdigit() and host == _host() and not _pid_alive(int(pid))
    if suffix != "tmp" or len(middle) != 1 or not _LEGACY_RANDOM.fullmatch(middle[0]):
        return False  # not ours: another target's temporary or a user's file
    try:
        return time.time() - path.lstat().st_mtime > LEGACY_TMP_AGE_S
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove temporaries of ``target`` left by killed writers (see the module docstring); returns them.

    A writer killed between moving the previous output aside and moving the new one in leaves ``target``
    missing and the previous output as ``.<name>.<owner>.old``: that one is renamed back, not removed.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    name = glob.escape(target.name)
    for pattern in (f".{name}.*.old", f".{name}.*.tmp"):
        for path in sorted(target.parent.glob(pattern)):
            if not _is_stale(path, target.name):
                continue
            if path.suffix == ".old" and not os.path.lexists(target):
                path.rename(target)
                continue
            _remove(path)
            removed.append(path)
    return removed


def _temporary(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{_owner_tag()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    return tmp


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output_dir(path: str | os.PathLike, kind: str, *, overwrite: bool = False,
                     inputs: Iterable[str | os.PathLike] = ()) -> None:
    """``OutputError`` naming ``path`` unless directory ``path`` may be replaced by an output of ``kind``.

    Refused: ``path`` equal to, inside or containing one of ``inputs`` (always); an existing file, or a
    non-empty directory that is not a previous ``kind`` output (without ``overwrite``).
    """
    if os.path.islink(path) and not overwrite:
        raise OutputError(f"{path}: is a symbolic link; write to the folder it points to, or pass --overwrite "
                          "to replace the link by a folder")
    target = Path(path).resolve()
    cwd = Path.cwd().resolve()
    if _within(cwd, target):
        raise OutputError(f"{path}: is the current folder or contains it; choose a folder below it")
    for source in inputs:
        src = Path(source).resolve()
        if _within(target, src) or _within(src, target):
            relation = "is" if target == src else "is inside" if _within(target, src) else "contains"
            raise OutputError(f"{path}: the output {relation} the input {source}; choose another output folder")
    if overwrite or not os.path.lexists(target):
        return
    if not target.is_dir() or target.is_symlink():
        raise OutputError(f"{path}: exists and is not a folder; remove it or pass --overwrite to replace it")
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return
    found = output_kind(target)
    if found == kind:
        return
    what = f"a {found} output, not a {kind}" if found else "files that scalegmn did not write"
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise OutputError(f"{path}: folder exists and holds {what} ({shown}); nothing was written. "
                      "Choose a new or empty folder, or pass --overwrite to replace it")


def output_kind(path: str | os.PathLike) -> str | None:
    """The kind recorded by :func:`atomic_dir` in directory ``path``, or ``None``."""
    marker = Path(path) / OUTPUT_MARKER
    try:
        kind = json.loads(marker.read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


@contextmanager
def atomic_dir(path: str | os.PathLike, kind: str, *, overwrite: bool = False,
               inputs: Iterable[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a fresh temporary directory path (not yet created) beside ``path``; on success it replaces
    ``path`` and is marked as a ``kind`` output. Checked first with :func:`check_output_dir`.

    On error the temporary is removed and ``path`` is left untouched.
    """
    target = Path(os.path.abspath(path))
    check_output_dir(target, kind, overwrite=overwrite, inputs=inputs)
    tmp = _temporary(target)
    try:
        yield tmp
        tmp.mkdir(exist_ok=True)
        (tmp / OUTPUT_MARKER).write_text(json.dumps({"kind": kind}) + "\n")
        if os.path.lexists(target):
            old = tmp.with_suffix(".old")
            target.rename(old)
            tmp.rename(target)
            _remove(old)
        else:
            tmp.rename(target)
    finally:
        if os.path.lexists(tmp):
            _remove(tmp)


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; on success it replaces file ``path``.

    ``OutputError`` if ``path`` is an existing directory (a file never replaces a folder). On error the
    temporary is removed and an existing ``path`` is left untouched.
    """
    target = Path(os.path.abspath(path))
    if target.is_dir():
        raise OutputError(f"{path}: is a folder; a file cannot replace it")
    tmp = _temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if os.path.lexists(tmp):
            _remove(tmp)


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of the file at ``path`` (read in ``chunk``-byte blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text)


@contextmanager
def exclusive_lock(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on file ``path`` for the block (released on exit, also when the
    process is killed); the file records the holder and is removed on a normal exit. ``OutputError``
    naming the holder if another process holds it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = target.read_text().strip() if target.exists() else "unknown"
            os.close(fd)
            raise OutputError(f"{target}: {what} is in use by another process ({holder or 'unknown'}); "
                              "wait for it to finish or choose another folder") from None
        try:
            same = os.stat(target).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file between our open and lock: lock the new one
    try:
        os.ftruncate(fd, 0)
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode())
        yield
    finally:
        target.unlink(missing_ok=True)
        os.close(fd)
