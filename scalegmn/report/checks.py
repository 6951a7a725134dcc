"""Rows of the symmetry checker (``scalegmn check-symmetry --out``) and of the augmentation self-check
(``scalegmn selfcheck --out``): JSON lists of flat records, or an object holding such a list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LIST_KEYS = ("rows", "results", "checks")


def load_check_rows(path: str | Path) -> list[dict[str, Any]]:
    """The records of a check file: a JSON list, or the list under ``rows``/``results``/``checks``."""
    path = Path(path)
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


def passed(row: dict[str, Any]) -> bool:
    """A check row passes when none of its boolean fields (``invariant``, ``passed``, ...) is false."""
    return all(v is not False for v in row.values())
