"""What later runs need (state/): the ledger of processed inputs, the article index, the run lock.

Every state file is written atomically and named after the run that wrote it, so a run that
dies before its commit leaves files that the next run recognises and removes (see `recover`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flows.sink import TABLES, write_json_atomic

LEDGER = pa.schema([
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("size", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
    pa.field("digest", pa.string()),
    pa.field("run_id", pa.string()),
])
INDEX = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("cluster_id", pa.string()),
    pa.field("kept", pa.bool_()),
    pa.field("content_hash", pa.string()),
    pa.field("url_key", pa.string()),
    pa.field("published_ts", pa.float64()),
    pa.field("text_chars", pa.int64()),
    pa.field("run_id", pa.string()),
])


STATE_DIRS = (*TABLES, "state/index", "state/ledger", "state/lines")


class OutputLocked(RuntimeError):
    """Another live run holds OUT_DIR."""


@dataclass(frozen=True)
class LedgerEntry:
    size: int
    mtime_ns: int
    digest: str


def _read_dir(path: Path, schema: pa.Schema) -> pa.Table:
    files = sorted(p for p in path.glob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(p).select(schema.names).cast(schema) for p in files])


def read_ledger(out_dir: Path) -> dict[str, LedgerEntry]:
    """source_file -> the latest processed version of it."""
    t = _read_dir(out_dir / "state" / "ledger", LEDGER)
    out: dict[str, LedgerEntry] = {}
    for r in t.sort_by("run_id").to_pylist():
        out[r["source_file"]] = LedgerEntry(r["size"], r["mtime_ns"], r["digest"])
    return out


def read_index(out_dir: Path) -> pa.Table:
    """Every article of earlier runs (kept and duplicates) with its dedup keys."""
    return _read_dir(out_dir / "state" / "index", INDEX)


def read_line_counts(out_dir: Path) -> pa.Table:
    """Line-key counts of earlier runs (cleaners/recurring.py), one row per key and run."""
    files = sorted(p for p in (out_dir / "state" / "lines").glob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        return pa.table({"key": pa.array([], pa.uint64()), "site_scope": pa.array([], pa.bool_()),
                         "n": pa.array([], pa.int64()), "n_body": pa.array([], pa.int64())})
    return pa.concat_tables([pq.read_table(p) for p in files])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """An exclusive lock on OUT_DIR: a lock file with the holder's run id, pid, host and start time.

    A lock whose holder was on this host and is no longer alive is stale and is taken over.
    """

    def __init__(self, out_dir: Path, run_id: str) -> None:
        self.path = out_dir / ".newsclean.lock"
        self.run_id = run_id
        self.held = False

    def acquire(self, wait_seconds: float = 0.0) -> None:
        deadline = time.monotonic() + wait_seconds
        info = {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now(UTC).isoformat(timespec="seconds")}
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and self._stale(holder):
                    self.path.unlink(missing_ok=True)
                    continue
                if time.monotonic() >= deadline:
                    h = holder or {}
                    raise OutputLocked(
                        f"output is locked by run {h.get('run_id', '?')} since {h.get('since', '?')} "
                        f"(pid {h.get('pid', '?')} on {h.get('host', '?')}); wait for it to finish, "
                        f"or delete {self.path} if that process is gone") from None
                time.sleep(0.5)
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(info, fh)
            self.held = True
            return

    def _holder(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    @staticmethod
    def _stale(holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname():
            return False
        pid = holder.get("pid")
        return isinstance(pid, int) and not _pid_alive(pid)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def recover(out_dir: Path) -> list[str]:
    """Roll back runs that started but never committed: remove their files, mark their manifests aborted.

    Only called while holding the lock, so any run still marked 'running' is dead.
    Returns the ids of the runs rolled back.
    """
    runs_dir = out_dir / "runs"
    rolled: list[str] = []
    if not runs_dir.is_dir():
        return rolled
    for mf in sorted(runs_dir.glob("*.json")):
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if manifest.get("status") != "running":
            continue
        run_id = str(manifest.get("run_id") or mf.stem)
        for sub in STATE_DIRS:
            d = out_dir / sub
            for p in d.glob(f"{run_id}*.parquet"):
                p.unlink(missing_ok=True)
        remove_tree(out_dir / ".staging" / run_id)
        manifest["status"] = "aborted"
        manifest["aborted_note"] = ("this run was interrupted before it committed; its files were removed "
                                    "by the next run and its inputs processed again")
        write_json_atomic(manifest, mf)
        rolled.append(run_id)
    # temp files of interrupted writes are never visible to readers (dot-names) but take space
    for sub in (*STATE_DIRS, "runs"):
        for p in (out_dir / sub).glob(".*.tmp"):
            p.unlink(missing_ok=True)
    return rolled


def remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for p in sorted(path.rglob("*"), key=lambda x: len(x.parts), reverse=True):
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        else:
            p.unlink(missing_ok=True)
    path.rmdir()
