"""Ending a process once its work is done, without tearing the interpreter down.

A process that has called numba's compiled kernels spends 0.45-0.85 s at exit freeing numba's
compiler state with the rest of the interpreter (measured after a 100-page HTML run: 0.60-0.87 s
from the CLI's last line to the process's end, 0.04 s with this). The command line pays that after
every run, and the worker pool paid it inside every run with two workers or more: the run waits for
its workers to exit before clustering (0.63-0.69 s). What a normal exit does that matters is done
first, in the interpreter's order: threads that are not daemons joined and the threading module's
exit callbacks (Prefect's log and event workers send what they hold), the atexit handlers (the
worker pool's shutdown, logging's flush, Prefect's), the standard streams flushed; only the
freeing of memory the operating system reclaims anyway is skipped.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import NoReturn


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed stream or a pipe whose reader went away
            pass


def exit_now(code: int) -> NoReturn:
    """End this process with `code` as the interpreter's own exit begins (threads that are not
    daemons joined and the threading module's exit callbacks run: Prefect's log and event workers
    drain there; then the atexit handlers), with the streams flushed, and nothing torn down."""
    threading._shutdown()  # type: ignore[attr-defined]  # what Py_FinalizeEx calls first
    atexit._run_exitfuncs()
    _flush_streams()
    os._exit(code)


def _worker_exit() -> None:
    # By now the worker's run has ended with multiprocessing's own exit function, and the interpreter
    # has joined the threads; registered last, this runs first of the atexit handlers, so logging's
    # (registered before it) is done here.
    logging.shutdown()
    _flush_streams()
    os._exit(0)


def in_worker() -> None:
    """A pool worker's initializer: its exit, once the pool is shut down, skips the teardown.
    A worker ends only when its pool sends it away (the pool does not read its exit code); a
    worker that dies mid-task is caught by the pool as before."""
    atexit.register(_worker_exit)
