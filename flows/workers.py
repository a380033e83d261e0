"""A pool of long-lived worker processes for the per-batch steps (ingest, clean).

Prefect's own process task runner costs seconds per flow and ~150 ms per task here, so CPU
parallelism comes from this pool instead: each batch task (one Prefect task per batch, in
threads) hands its work to the pool and waits. Workers start with `spawn` (safe beside the
threads of Prefect and pyarrow) when a run's batch steps start and are shut down once they are
done (`shutdown`), before the run's corpus-wide step: their memory (a few hundred MB each after
a batch of articles) is then free for clustering, which is where a large run peaks. A process
serving many runs pays their start (about a second) once per run.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from flows import quickexit

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size = 0


def pool(workers: int) -> ProcessPoolExecutor:
    """The shared pool with `workers` processes (recreated if a different size is asked for)."""
    global _pool, _size
    with _lock:
        if _pool is None or _size != workers:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=quickexit.in_worker)
            _size = workers
        return _pool


def run(fn: Callable[..., T], *args: Any, workers: int = 1) -> T:
    """fn(*args) in this process (workers <= 1) or in a pool worker."""
    if workers <= 1:
        return fn(*args)
    return pool(workers).submit(fn, *args).result()


@atexit.register
def shutdown() -> None:
    """Stop the pool's workers (the next `pool` call starts new ones)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
