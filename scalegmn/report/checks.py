"""Rows of the symmetry checker (``scalegmn check-symmetry --out``) and of the augmentation self-check
(``scalegmn selfcheck --out``): JSON lists of flat records, or an object holding such a list, in one file
or in a directory of such files (e.g. one per model); several are read with :func:`load_check_files`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LIST_KEYS = ("rows", "results", "checks")


def load_check_rows(path: str | Path) -> list[dict[str, Any]]:
    """The records of a check file (a JSON list, or the list under ``rows``/``results``/``checks``), or of
    every ``*.json`` file of a directory in name order."""
    path = Path(path)
    if path.is_dir():
        return [row for file in sorted(path.glob("*.json")) for row in load_check_rows(file)]
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise ValueError(f"{path}: unreadable ({err})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, dict):
        data = next((data[k] for k in LIST_KEYS if isinstance(data.get(k), list)), None)
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ValueError(f"{path}: expected a list of records (or an object with one under {'/'.join(LIST_KEYS)})")
    return data


def load_check_files(paths: list[Path]) -> list[dict[str, Any]]:
    """The records of every file (or directory) of ``paths``, in that order."""
    return [row for path in paths for row in load_check_rows(path)]


SYMMETRY_FIELDS = ("model", "transform", "max_rel_change", "holds", "claimed")


def symmetry_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """The symmetry checker's rows of every file of ``paths``; ``ValueError`` naming a file whose rows lack a
    field of :data:`SYMMETRY_FIELDS` (e.g. written before models declared their claims)."""
    rows = []
    for path in paths:
        for row in load_check_rows(path):
            missing = [k for k in SYMMETRY_FIELDS if k not in row]
            if missing or not all(isinstance(row[k], bool) for k in ("holds", "claimed")):
                raise ValueError(f"{path}: symmetry row without {', '.join(missing) or 'boolean holds/claimed'} "
                                 "(write it again with `scalegmn check-symmetry MODEL --out`)")
            rows.append(row)
    return rows


def failed_fields(row: dict[str, Any]) -> set[str]:
    """The fields that make a check row fail. A symmetry row (``holds`` and ``claimed``) fails on ``holds``
    only where the symmetry is claimed; other rows on boolean fields (``passed``, ...) that differ from the
    row's ``expected`` value (default true)."""
    if isinstance(row.get("holds"), bool) and isinstance(row.get("claimed"), bool):
        return {"holds"} if row["claimed"] and not row["holds"] else set()
    expected = row.get("expected", True)
    return {k for k, v in row.items() if isinstance(v, bool) and k != "expected" and v != expected}


def passed(row: dict[str, Any]) -> bool:
    """Whether every boolean field of a check row has its expected value."""
    return not failed_fields(row)
