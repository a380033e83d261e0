"""What the small benchmark scripts share: best-of-N timing and printing (and saving) their results.

The scripts run as files (`python bench/clean.py ...`), so this module is imported as `timing`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Seconds of the fastest of `repeat` calls: a shared machine's noise only ever adds time."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def emit(result: dict[str, Any], json_path: str | Path | None = None) -> None:
    """Print the result as JSON and, when a path is given, write it there too."""
    text = json.dumps(result, indent=2)
    print(text)
    if json_path:
        Path(json_path).write_text(text + "\n", encoding="utf-8")
