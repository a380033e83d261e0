"""The core pipeline as plain Python: plan -> process batches (ingest, clean, collapse) -> finalize.

`run_pipeline` runs it without Prefect; flows/flow.py wraps the same three steps as a flow with
one task per batch. Large data moves between steps as Parquet files in OUT_DIR/.staging/<run_id>/.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import time
from collections.abc import Sequence
from concurrent.futures import Future, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cleaners import patterns
from flows import history, workers
from flows.batch import DEFAULT_COLLAPSE, clean_batch, clean_one, collapse_one, ingest_batch, learn_recurring
from flows.config import RunConfig
from flows.finalize import _remove_empty, build_corpus, finalize_run, load_or_rebuild_index
from flows.ingest import InputFile, discover, file_digest, split_jsonl
from flows.runs import (
    BatchResult,
    BatchSpec,
    IngestResult,
    Progress,
    RunContext,
    TooManyRejects,
    UsageError,
    fault,
)
from flows.sink import write_json_atomic
from flows.state import (
    STATE_DIRS,
    RunLock,
    read_ledger,
    recover,
    remove_tree,
)

__all__ = [
    "DEFAULT_COLLAPSE", "BatchResult", "BatchSpec", "IngestResult", "Progress", "RunContext", "TooManyRejects",
    "UsageError", "build_corpus", "check_dirs", "clean_batch", "clean_one", "collapse_one", "fail_run", "fault",
    "finalize_run", "ingest_batch", "learn_recurring", "load_or_rebuild_index", "plan_batches", "run_pipeline",
    "start_run", "versions",
]


def new_run_id() -> str:
    """Sortable and unique: UTC time plus random bits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("newsclean", "prefect", "trafilatura", "datasketch", "pyarrow", "charset-normalizer", "courlan"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def check_dirs(raw_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Validate RAW_DIR and OUT_DIR; raise UsageError with a message that says what to change."""
    raw, out = Path(raw_dir), Path(out_dir)
    if not raw.exists():
        raise UsageError(f"raw folder '{raw}' does not exist; pass the folder that holds the scraped files")
    if not raw.is_dir():
        raise UsageError(f"raw folder '{raw}' is not a folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"output folder '{out}' exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"output folder '{out}' is not writable: {exc.strerror or exc}") from None
    if raw.resolve() == out.resolve() or out.resolve() in raw.resolve().parents:
        raise UsageError(f"output folder '{out}' must not contain the raw folder '{raw}'")
    return raw, out


def plan_batches(files: Sequence[InputFile], run_id: str, raw_dir: Path, staging: Path,
                 config: RunConfig) -> list[BatchSpec]:
    """The run's batches: files in order, at most config.batch_bytes / config.batch_files each.

    Never cut by the worker count (a small run with several workers may wait on its last batch):
    an earlier version cut small runs into smaller batches when there were several workers, which
    then changed the output, because ingest counted the copies of a story once per batch in
    recurring-line learning. learn_recurring now counts each story once in the whole run (its
    first copy in file order), so the batches no longer decide the output; they stay a function of
    the input and of --batch-mb / --batch-files so that a run's plan is easy to reason about."""
    batches: list[BatchSpec] = []
    cur: list[InputFile] = []
    size = 0
    limit = config.batch_bytes
    for f in (part for whole in files for part in split_jsonl(whole, limit)):
        part_size = (f.end if f.end is not None else f.size) - f.start
        if cur and (size + part_size > limit or len(cur) >= config.batch_files):
            batches.append(BatchSpec(run_id, len(batches), str(raw_dir), str(staging), tuple(cur), config))
            cur, size = [], 0
        cur.append(f)
        size += part_size
    if cur:
        batches.append(BatchSpec(run_id, len(batches), str(raw_dir), str(staging), tuple(cur), config))
    return batches


def start_run(raw_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
              config: RunConfig | None = None, *, lock_wait: float = 0.0) -> RunContext:
    """Check the folders, take the lock, roll back interrupted runs, find new inputs and plan batches."""
    config = config or RunConfig()
    raw, out = check_dirs(raw_dir, out_dir)
    try:
        patterns.catalogue_with(tuple(config.rules_files))
        config.corpus_params().check()
    except (patterns.CatalogueError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    run_id = new_run_id()
    lock = RunLock(out, run_id)
    lock.acquire(lock_wait)
    try:
        started = time.perf_counter()
        rolled = recover(out)
        files = discover(raw)
        ledger = {} if config.reprocess else read_ledger(out)
        todo: list[InputFile] = []
        skipped = 0
        for f in files:
            prev = ledger.get(f.source_file)
            if prev is not None and prev.size == f.size and prev.mtime_ns == os.stat(f.path).st_mtime_ns:
                skipped += 1
                continue
            if prev is not None and prev.size == f.size:
                try:
                    with open(f.path, "rb") as fh:
                        if file_digest(fh.read()) == prev.digest:
                            skipped += 1
                            continue
                except OSError:
                    pass
            todo.append(f)
        staging = out / ".staging" / run_id
        staging.mkdir(parents=True, exist_ok=True)
        batches = plan_batches(todo, run_id, raw, staging, config)
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest: dict[str, Any] = {
            "run_id": run_id, "status": "running", "started_at": started_at, "finished_at": None,
            "raw_dir": str(raw.resolve()), "out_dir": str(out.resolve()), "host": socket.gethostname(),
            "pid": os.getpid(), "config": config.to_dict(), "versions": versions(),
            "inputs": {"files_seen": len(files), "files_new_or_changed": len(todo), "files_unchanged_skipped": skipped,
                       "batches": len(batches)},
            "rolled_back_runs": rolled,
        }
        write_json_atomic(manifest, out / "runs" / f"{run_id}.json")
        return RunContext(run_id, raw, out, staging, config, lock, batches, len(files), len(todo), skipped,
                          started, started_at, rolled, manifest)
    except BaseException:
        lock.release()
        raise


# ------------------------------------------------------------------------------------- per batch


def fail_run(ctx: RunContext, error: BaseException) -> None:
    """Record a failed run: manifest says so, staged files removed, lock released; no table file is left."""
    try:
        history.restore(ctx.out_dir, ctx.staging_dir)  # earlier files this run had rewritten
        for sub in STATE_DIRS:
            for p in (ctx.out_dir / sub).glob(f"{ctx.run_id}*.parquet"):
                p.unlink(missing_ok=True)
        ctx.manifest.update({"status": "failed", "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "error": f"{type(error).__name__}: {error}"})
        write_json_atomic(ctx.manifest, ctx.out_dir / "runs" / f"{ctx.run_id}.json")
        remove_tree(ctx.out_dir / "state" / "keys" / ctx.run_id)
        remove_tree(ctx.staging_dir)
        _remove_empty(ctx.out_dir / ".staging")
    finally:
        ctx.lock.release()


def _gather(futures: list[Future[Any]], stage: str, progress: Progress | None) -> list[Any]:
    """Results in submission order (deterministic), progress reported as they complete."""
    if progress:
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(stage, done, len(futures))
    return [f.result() for f in futures]


def run_pipeline(raw_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                 config: RunConfig | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """The whole run without Prefect: returns the finished manifest (counts, timings, config)."""
    ctx = start_run(raw_dir, out_dir, config)
    w = ctx.config.workers
    try:
        if w > 1:
            pl = workers.pool(w)
            ingested = _gather([pl.submit(ingest_batch, spec) for spec in ctx.batches], "ingest", progress)
            keys_path = learn_recurring(ctx, ingested)
            results = _gather([pl.submit(clean_batch, spec, ing, keys_path)
                               for spec, ing in zip(ctx.batches, ingested, strict=True)], "clean", progress)
            workers.shutdown()  # the corpus-wide step gets the workers' memory
        else:
            ingested = []
            for spec in ctx.batches:
                ingested.append(ingest_batch(spec))
                if progress:
                    progress("ingest", len(ingested), len(ctx.batches))
            keys_path = learn_recurring(ctx, ingested)
            results = []
            for spec, ing in zip(ctx.batches, ingested, strict=True):
                results.append(clean_batch(spec, ing, keys_path))
                if progress:
                    progress("clean", len(results), len(ctx.batches))
        return finalize_run(ctx, results, progress)
    except TooManyRejects:
        raise  # everything was written and committed; only the exit status says it failed
    except BaseException as exc:
        fail_run(ctx, exc)
        raise
