"""The shapes a run is made of: its context, the batch specs and results passed between steps, and
the errors and fault points the steps share (no logic here)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.config import RunConfig
from flows.ingest import InputFile
from flows.state import RunLock

Progress = Callable[[str, int, int], None]


class UsageError(Exception):
    """A configuration problem the user must fix (missing RAW_DIR, unwritable OUT_DIR, ...)."""


class TooManyRejects(Exception):
    """The run finished and wrote everything, but its share of rejects is above max_reject_share."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        c = manifest["counts"]
        super().__init__(f"{c['rejects']} of {c['input_records']} input records were rejected "
                         f"({manifest['reject_share']:.0%}), above --max-reject-share "
                         f"{manifest['config']['max_reject_share']:.0%}; see rejects/ for the reasons")
        self.manifest = manifest


def fault(point: str) -> None:
    """Fault injection for the interruption tests: NEWSCLEAN_FAULT=<point> kills this process there."""
    if os.environ.get("NEWSCLEAN_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class BatchSpec:
    """Everything one batch task needs: small and picklable (paths, not data)."""

    run_id: str
    index: int
    raw_dir: str
    staging_dir: str
    files: tuple[InputFile, ...]
    config: RunConfig


@dataclass(kw_only=True)
class BatchTally:
    """What every per-batch step counts: records read, articles and rejects, the inputs' ledger rows,
    seconds per stage and bytes read."""

    records: int = 0
    articles: int = 0
    rejects: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    input_bytes: int = 0


@dataclass
class BatchResult(BatchTally):
    """What clean staged for one batch: articles, removals and rejects (Parquet)."""

    index: int
    articles_path: str
    removals_path: str
    rejects_path: str
    removals: int = 0
    removal_reasons: dict[str, int] = field(default_factory=dict)
    task_run_id: str | None = None  # the Prefect task run that cleaned this batch, when run by the flow
    worker: str = ""  # host:pid of the process that cleaned it


@dataclass
class RunContext:
    run_id: str
    raw_dir: Path
    out_dir: Path
    staging_dir: Path
    config: RunConfig
    lock: RunLock
    batches: list[BatchSpec]
    files_seen: int
    files_new: int
    files_skipped: int
    started: float
    started_at: str
    rolled_back: list[str]
    manifest: dict[str, Any]


@dataclass
class IngestResult(BatchTally):
    """What ingest staged for one batch: raw articles (pickle), rejects, line-key counts and the
    stories those counts came from (Parquet)."""

    index: int
    raw_path: str
    rejects_path: str
    counts_path: str
    stories_path: str = ""  # absent when recurring-line learning is off
