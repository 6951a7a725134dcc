"""Wall time of pipeline stages as the report reads them (written by :func:`scalegmn.timing.record_stage`)."""

from __future__ import annotations

import json
import re
from pathlib import Path


def group_stages(timings: dict[str, float]) -> dict[str, tuple[int, float]]:
    """Stage → (count, total seconds), summing ``<stage>@<item>`` / ``<stage>-<item>`` per ``<stage>``."""
    groups: dict[str, tuple[int, float]] = {}
    for name, seconds in timings.items():
        stage = re.split(r"[@-]", name, maxsplit=1)[0]
        count, total = groups.get(stage, (0, 0.0))
        groups[stage] = (count + 1, total + seconds)
    return groups


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected seconds as a number, got {value!r}")
    return float(value)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except OSError as err:
        raise ValueError(f"{path}: unreadable ({err})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def _stage_record(record: object, path: Path) -> tuple[str, float]:
    if not isinstance(record, dict) or "seconds" not in record:
        raise ValueError(f"{path}: expected {{\"stage\": name, \"seconds\": s}}")
    return str(record.get("stage", path.stem)), _seconds(record["seconds"], str(path))


def read_timings(path: str | Path) -> dict[str, float]:
    """Stage → seconds from one :func:`record_stage` file, a directory of them, or one JSON ``{stage: seconds}``."""
    path = Path(path)
    if path.is_dir():
        return dict(_stage_record(_read_json(file), file) for file in sorted(path.glob("*.json")))
    data = _read_json(path)
    if isinstance(data, dict) and "stage" in data and "seconds" in data:
        return dict([_stage_record(data, path)])
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{stage: seconds}}")
    return {str(k): _seconds(v, f"{path}: {k}") for k, v in data.items()}
