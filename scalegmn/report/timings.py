"""Wall time of pipeline stages: each stage records ``<directory>/<stage>.json``; the report reads them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scalegmn.io import write_json

TIMINGS_DIR = Path("reports/timings")


def timing_path(name: str, directory: str | Path = TIMINGS_DIR) -> Path:
    """``<directory>/<name>.json`` with characters other than letters, digits and ``@._-`` replaced by ``_``."""
    return Path(directory) / (re.sub(r"[^A-Za-z0-9@._-]+", "_", name) + ".json")


@contextmanager
def record_stage(name: str, directory: str | Path = TIMINGS_DIR) -> Iterator[None]:
    """Time the block and, if it succeeds, write ``{"stage": name, "seconds": s}`` to :func:`timing_path`.

    Name matrix stages ``<stage>@<item>`` or ``<stage>-<item>`` (e.g. ``train-genpred-relu-gmn-seed0``):
    the report sums them per ``<stage>``."""
    start = time.perf_counter()
    yield
    write_json(timing_path(name, directory), {"stage": name, "seconds": round(time.perf_counter() - start, 3)})


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
