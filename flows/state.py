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

from flows.history import restore
from flows.sink import SKETCH_FIELDS, TABLES, write_json_atomic

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
    pa.field("survivor_id", pa.string()),
    pa.field("kept", pa.bool_()),
    pa.field("content_hash", pa.string()),
    pa.field("url_key", pa.string()),
    pa.field("published_ts", pa.float64()),
    pa.field("run_id", pa.string()),
    *SKETCH_FIELDS,
])


STATE_DIRS = (*TABLES, "state/index", "state/ledger", "state/lines", "state/merges")


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


class StateCorrupt(RuntimeError):
    """A state file cannot be read."""


def read_index_file(out_dir: Path, stem: str) -> pa.Table:
    """One state/index file's rows (StateCorrupt when unreadable)."""
    path = out_dir / "state" / "index" / f"{stem}.parquet"
    try:
        return pq.read_table(path).select(INDEX.names).cast(INDEX)
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise StateCorrupt(f"state/index file {path} is unreadable: {exc}") from exc


def index_files(out_dir: Path) -> list[tuple[str, int]]:
    """(file stem, rows) of each state/index file, in name (= run) order."""
    files = sorted(p for p in (out_dir / "state" / "index").glob("*.parquet") if not p.name.startswith((".", "_")))
    return [(p.stem, pq.read_metadata(p).num_rows) for p in files]


def table_files(out_dir: Path, table: str) -> list[Path]:
    return sorted(p for p in (out_dir / table).glob("*.parquet") if not p.name.startswith((".", "_")))


def rebuild_index(out_dir: Path, params: Any, run_id: str,
                  reason: str = "state/index was missing or unreadable", aside_name: str = "index-broken",
                  ) -> tuple[pa.Table, str]:
    """Rebuild state/index from the articles/ and duplicates/ tables already written.

    The sketches are recomputed from the clean text (paragraphs are the text's blank-line
    separated blocks, exactly what the sketches were made of), clusters and survivors come from
    the rows' cluster_id and duplicate_of. The broken index files are moved aside
    (state/index-broken-<run_id>/), never deleted. Returns the index and a note for the manifest.
    """
    from dedupe.corpus import Sketcher

    sketcher = Sketcher(params)
    cols = ["article_id", "cluster_id", "content_hash", "url_key", "published_at", "text", "run_id"]
    parts = []
    for table in ("articles", "duplicates"):
        for f in table_files(out_dir, table):
            t = pq.read_table(f)
            dup = t.column("duplicate_of") if "duplicate_of" in t.column_names else pa.nulls(t.num_rows, pa.string())
            parts.append((t.select(cols), dup, table == "articles"))
    rows: dict[str, Any] = {k: [] for k in INDEX.names}
    for t, dup, kept in parts:
        for r, d in zip(t.to_pylist(), dup.to_pylist(), strict=True):
            sk = sketcher.sketch_text((r["text"] or "").split("\n\n"))
            published = r["published_at"]
            values = {"article_id": r["article_id"], "cluster_id": r["cluster_id"], "survivor_id": d or r["article_id"],
                      "kept": kept, "content_hash": r["content_hash"], "url_key": r["url_key"],
                      "published_ts": published.timestamp() if published else None,
                      "text_chars": len(r["text"] or ""), "run_id": r["run_id"],
                      "signature": sk.signature.astype("<u4").tobytes(), "n_shingles": sk.n_shingles,
                      "para_keys": sk.para_keys.tolist()}
            for k, v in values.items():
                rows[k].append(v)
    index = pa.table(rows, schema=INDEX)
    idx_dir = out_dir / "state" / "index"
    broken = sorted(p for p in idx_dir.glob("*.parquet")) if idx_dir.exists() else []
    if broken:
        aside = out_dir / "state" / f"{aside_name}-{run_id}"
        aside.mkdir(parents=True, exist_ok=True)
        for p in broken:
            os.replace(p, aside / p.name)
    from flows.sink import write_table_atomic

    write_table_atomic(index, idx_dir / f"{run_id}-rebuilt.parquet")
    note = (f"{reason}; rebuilt from {index.num_rows} rows of articles/ and "
            f"duplicates/" + (f" (the earlier files were moved to state/{aside_name}-{run_id}/)" if broken else ""))
    return index, note


def line_count_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in (out_dir / "state" / "lines").glob("*.parquet") if not p.name.startswith((".", "_")))


def latest_line_counts(out_dir: Path) -> Path | None:
    """Line-key counts of all earlier runs (cleaners/recurring.py): the latest snapshot in state/lines
    (each run commits the merged counts; older snapshots are removed after it), None before the first."""
    files = line_count_files(out_dir)
    return files[-1] if files else None


SKETCH_PARAMS = ("num_perm", "seed", "shingle_words")


class StateMismatch(RuntimeError):
    """state/ was written with other sketch settings than this run's."""


def _saved_sketch_params(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / "state" / "sketch.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def outdated_token_hash(out_dir: Path, params: Any) -> str | None:
    """The token hash that state/'s signatures were made with, when it is not this version's while the
    settings are the same (signatures from an older newsclean: the index is rebuilt from the text)."""
    from dedupe.minhash import HASH_SCHEME

    saved = _saved_sketch_params(out_dir)
    if saved is None or any(saved.get(k) != getattr(params, k) for k in SKETCH_PARAMS):
        return None
    scheme = saved.get("token_hash", "xxh32-utf8")  # before the scheme was recorded: xxh32 of the UTF-8 bytes
    return None if scheme == HASH_SCHEME else scheme


def check_sketch_params(out_dir: Path, params: Any, index_rows: int) -> None:
    """Refuse to compare signatures made with different settings: that would silently find nothing."""
    saved = _saved_sketch_params(out_dir)
    if saved is None or index_rows == 0:
        return
    saved.pop("token_hash", None)  # a different token hash is not refused: the index is rebuilt
    mine = {k: getattr(params, k) for k in SKETCH_PARAMS}
    if any(saved.get(k) != v for k, v in mine.items()):
        raise StateMismatch(
            f"state/ in {out_dir} holds signatures made with {saved}, this run uses {mine}; "
            "use the same settings, or a new output folder")


def write_sketch_params(out_dir: Path, params: Any) -> None:
    from dedupe.minhash import HASH_SCHEME

    write_json_atomic({**{k: getattr(params, k) for k in SKETCH_PARAMS}, "token_hash": HASH_SCHEME},
                      out_dir / "state" / "sketch.json")


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
        restore(out_dir, out_dir / ".staging" / run_id)  # earlier files it had rewritten (flows/history.py)
        for sub in STATE_DIRS:
            d = out_dir / sub
            for p in d.glob(f"{run_id}*.parquet"):
                p.unlink(missing_ok=True)
        remove_tree(out_dir / ".staging" / run_id)
        for d in (out_dir / "state" / "keys").glob(f"{run_id}*"):
            remove_tree(d)
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
