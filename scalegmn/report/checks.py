"""Rows of the symmetry checker (``scalegmn check-symmetry --out``) and of the augmentation self-check
(``scalegmn selfcheck --out``): JSON lists of flat records, or an object holding such a list, in one file
or in a directory of such files (e.g. one per model)."""

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


def failed_fields(row: dict[str, Any]) -> set[str]:
    """Boolean fields (``invariant``, ``passed``, ...) that differ from the row's ``expected`` value (default
    true; a model that is not invariant by design, e.g. a plain MLP, may say ``"expected": false``)."""
    expected = row.get("expected", True)
    return {k for k, v in row.items() if isinstance(v, bool) and k != "expected" and v != expected}


def passed(row: dict[str, Any]) -> bool:
    """Whether every boolean field of a check row has its expected value."""
    return not failed_fields(row)
