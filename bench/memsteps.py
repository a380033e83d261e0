"""Where a run's memory goes: the main process's RSS before and after recurring-line learning and
each step of the corpus-wide stage, and its peak during the step.

    python bench/memsteps.py RAW_DIR OUT_DIR [--workers 2]

Runs the plain pipeline (as `newsclean run --no-prefect`) and prints one line per step. The peak
is the kernel's high-water mark (VmHWM in /proc/self/status), reset before each step by writing 5
to /proc/self/clear_refs, so it is the true peak of the step, not a sample. Linux only. Run it
under `/usr/bin/time -v` for the wall time (its maximum RSS then shows the last step's peak, as the
resets lower it).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flows.finalize as finalize
import flows.pipeline as pipeline
from flows import history, keyindex
from flows.config import RunConfig

STEPS = [(pipeline, ["learn_recurring"]),
         (finalize, ["load_or_rebuild_index", "read_new_articles", "reachable_old", "build_corpus",
                     "corpus_cluster", "release_heap"]),
         (history, ["plan_moves", "stage_moves"]), (keyindex, ["write_keys", "compact"])]


def status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":")
            out[key] = int(value.split()[0]) // 1024
    return out


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def watched(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def step(*args: Any, **kwargs: Any) -> Any:
        reset_peak()
        before, t0 = status()["VmRSS"], time.perf_counter()
        out = f(*args, **kwargs)
        now = status()
        print(f"{name:22s} before {before:6d} MB  after {now['VmRSS']:6d} MB  peak {now['VmHWM']:6d} MB"
              f"  {time.perf_counter() - t0:6.1f} s", flush=True)
        return out
    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    if not Path("/proc/self/clear_refs").exists():
        sys.exit("needs Linux's /proc/self/clear_refs")
    for module, names in STEPS:
        for name in names:
            setattr(module, name, watched(name, getattr(module, name)))
    print(f"start: {status()['VmRSS']} MB", flush=True)
    pipeline.run_pipeline(a.raw, a.out, RunConfig(workers=a.workers))


if __name__ == "__main__":
    main()
