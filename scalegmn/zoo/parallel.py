"""Run independent generator tasks single-threaded, in this process or in worker processes.

The generators work on many tiny matrices, where intra-op threads cost more than they give (on the
2-core machine, 2 threads were 3-5x slower than 1 under load). Each task therefore runs with one torch
thread, and parallelism comes from ``workers`` processes; a fixed thread count also keeps results
bit-identical for any number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm

from scalegmn.workers import process_pool

T = TypeVar("T")
R = TypeVar("R")


def task_seed(*parts: int) -> int:
    """A 63-bit seed derived from ``parts`` (e.g. zoo seed, block, member): the same for a task whichever
    process or piece runs it."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, dtype=np.uint64)[0] >> 1)


def _single_threaded(fn: Callable[[T, tqdm | None], R], task: T, progress: tqdm | None) -> R:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(task, progress)
    finally:
        torch.set_num_threads(threads)


def map_tasks(fn: Callable[[T, tqdm | None], R], tasks: Sequence[T], workers: int, progress: tqdm,
              units: Callable[[T], int]) -> list[R]:
    """``[fn(task, bar) for task in tasks]``, single-threaded; with ``workers > 1`` in that many worker
    processes (:func:`~scalegmn.workers.process_pool`; ``fn`` must then be a module-level function),
    advancing ``progress`` by ``units(task)`` as each task finishes."""
    if workers <= 1 or len(tasks) <= 1:
        return [_single_threaded(fn, task, progress) for task in tasks]
    with process_pool(min(workers, len(tasks)), [fn.__module__]) as pool:
        futures: list[Any] = [pool.submit(_single_threaded, fn, task, None) for task in tasks]
        for future, task in zip(futures, tasks):
            future.add_done_callback(lambda _, n=units(task): progress.update(n))
        return [f.result() for f in futures]
