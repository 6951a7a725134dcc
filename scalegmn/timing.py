"""Wall time of a pipeline stage, recorded as ``{"stage": name, "seconds": s}`` (read by the report)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scalegmn.io import write_json


@contextmanager
def record_stage(name: str, path: str | Path) -> Iterator[None]:
    """Time the block and, if it succeeds, write ``{"stage": name, "seconds": s}`` to ``path``.

    Name matrix stages ``<stage>@<item>`` (e.g. ``train@genpred-relu-gmn-0``): the report sums them per
    ``<stage>``."""
    start = time.perf_counter()
    yield
    write_json(path, {"stage": name, "seconds": round(time.perf_counter() - start, 3)})
