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


def read_timings(path: str | Path) -> dict[str, float]:
    """Stage → seconds from a directory of :func:`record_stage` files or one JSON ``{stage: seconds}``."""
    path = Path(path)
    if path.is_dir():
        timings = {}
        for file in sorted(path.glob("*.json")):
            record = _read_json(file)
            if not isinstance(record, dict) or "seconds" not in record:
                raise ValueError(f"{file}: expected {{\"stage\": name, \"seconds\": s}}")
            timings[str(record.get("stage", file.stem))] = _seconds(record["seconds"], str(file))
        return timings
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{stage: seconds}}")
    return {str(k): _seconds(v, f"{path}: {k}") for k, v in data.items()}
