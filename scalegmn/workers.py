"""Worker processes that start warm: a pool whose workers fork from a server that has already imported the
modules they need.

A spawned worker imports torch, PyG and the library afresh (about 5 s of CPU each on the 2-core machine), and a
train stage starts one per seed. With the ``forkserver`` start method the server imports ``preload`` once and
every worker is a fork of it: a fresh process (no OpenMP pool of the parent is inherited, the reason not to
``fork`` the parent itself) that starts in milliseconds.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor


def process_pool(workers: int, preload: Sequence[str]) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from a server that imported the modules ``preload`` (where the
    platform has ``forkserver``; spawned processes elsewhere). The callables submitted must be picklable
    (module-level functions or bound methods of picklable objects)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return ProcessPoolExecutor(workers, mp_context=context)
