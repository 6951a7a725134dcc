"""Wall time of a pipeline stage, recorded as ``{"stage": name, "seconds": s}`` (read by the report)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scalegmn.io import write_json


@dataclass
class StageClock:
    """The running clock of a stage: :meth:`seconds` since it started (what a stage's summary line prints)."""

    start: float = field(default_factory=time.perf_counter)

    def seconds(self) -> float:
        return time.perf_counter() - self.start


@contextmanager
def record_stage(name: str, path: str | Path) -> Iterator[StageClock]:
    """Time the block and, if it succeeds, write ``{"stage": name, "seconds": s}`` to ``path``; the block gets the
    :class:`StageClock`.

    Name matrix stages ``<stage>@<item>`` (e.g. ``train@genpred-relu-gmn-0``): the report sums them per
    ``<stage>``."""
    clock = StageClock()
    yield clock
    write_json(path, {"stage": name, "seconds": round(clock.seconds(), 3)})
