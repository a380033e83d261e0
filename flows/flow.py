"""The Prefect flow `clean-news`: the plain pipeline with one task per batch and a run artifact.

The flow is thin: every step is a function of flows.pipeline, callable without Prefect.
"""

from __future__ import annotations

import queue
from dataclasses import replace
from pathlib import Path
from typing import Any

from flows import prefect_env

prefect_env.configure()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_link_artifact, create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.runtime import task_run  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from flows import workers as workers  # noqa: E402
from flows.config import RunConfig  # noqa: E402
from flows.pipeline import (  # noqa: E402
    BatchResult,
    BatchSpec,
    IngestResult,
    Progress,
    RunContext,
    TooManyRejects,
    clean_batch,
    fail_run,
    finalize_run,
    ingest_batch,
    learn_recurring,
    start_run,
)
from flows.report import summary_markdown  # noqa: E402
from flows.workers import shutdown as shutdown_workers  # noqa: E402 (the flow's `workers` parameter hides the module)

# Set by the CLI to draw a progress bar; tasks run in this process, so a plain callback works.
progress_hook: Progress | None = None


@task(name="ingest-batch", task_run_name="ingest-{spec.index}", cache_policy=NO_CACHE)
def ingest_batch_task(spec: BatchSpec) -> IngestResult:
    """Read one batch of input files (thousands of articles, never one) into staged raw articles."""
    res = workers.run(ingest_batch, spec, workers=spec.config.workers)
    get_run_logger().info("ingest batch %d: %d files, %d records -> %d articles, %d rejects",
                          spec.index, len(spec.files), res.records, res.articles, res.rejects)
    return res


@task(name="learn-recurring-lines", cache_policy=NO_CACHE)
def learn_recurring_task(ctx: RunContext, ingested: list[IngestResult]) -> str:
    """Count line keys across the run and earlier runs; stage the lines learned as boilerplate."""
    path = learn_recurring(ctx, ingested)
    get_run_logger().info("learned %d recurring boilerplate lines", ctx.manifest["learned"]["recurring_lines"])
    return path


@task(name="clean-batch", task_run_name="clean-{spec.index}", cache_policy=NO_CACHE)
def clean_batch_task(spec: BatchSpec, ingested: IngestResult, recurring_path: str) -> BatchResult:
    """Clean and collapse one batch of staged articles."""
    res = workers.run(clean_batch, spec, ingested, recurring_path, workers=spec.config.workers)
    res.task_run_id = str(task_run.id) if task_run.id else None
    get_run_logger().info("clean batch %d: %d articles, %d rejects, %d removals",
                          spec.index, res.articles, res.rejects, res.removals)
    return res


@task(name="dedupe-and-write", cache_policy=NO_CACHE)
def finalize_task(ctx: RunContext, results: list[BatchResult]) -> dict[str, Any]:
    """Cluster duplicates across the run and earlier runs, write every table, commit state."""
    return finalize_run(ctx, results, progress_hook)


def _run_window(task: Any, calls: list[tuple[Any, ...]], width: int, stage: str) -> list[Any]:
    """Submit `task` for each argument tuple, at most `width` at a time; results in call order.

    Bounding the window bounds the batches in flight whatever the task runner's thread count, and
    the order of results (hence of output rows) never depends on timing. A new task is submitted
    as soon as any task in the window finishes, not the oldest: waiting on the oldest left a
    worker idle whenever a later batch finished first.
    """
    results: list[Any] = [None] * len(calls)
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()
    active: dict[int, Any] = {}
    submitted = 0

    def submit() -> None:
        nonlocal submitted
        i = submitted
        submitted += 1
        fut = task.submit(*calls[i])
        active[i] = fut
        fut.add_done_callback(lambda _fut, i=i: finished.put(i))

    while submitted < len(calls) and len(active) < max(1, width):
        submit()
    done = 0
    while active:
        i = finished.get()
        results[i] = active.pop(i).result()
        done += 1
        if progress_hook:
            progress_hook(stage, done, len(calls))
        if submitted < len(calls):
            submit()
    return results


@flow(name="clean-news", log_prints=False)
def clean_news(raw_dir: str = "raw", out_dir: str = "output", batch_files: int = RunConfig.batch_files,
               batch_mb: int = RunConfig.batch_bytes // (1024 * 1024), reprocess: bool = False,
               rules: list[str] | None = None, workers: int = 1,
               max_reject_share: float | None = None, warn_reject_share: float = RunConfig.warn_reject_share,
               dask_address: str | None = None, limits: dict[str, float] | None = None) -> dict[str, Any]:
    """Clean and deduplicate the scraped articles under raw_dir into Parquet tables under out_dir.

    Returns the run manifest (also written to out_dir/runs/<run_id>.json). With `dask_address`
    (and the flow's task runner set to a DaskTaskRunner on that cluster, as `newsclean run
    --dask-address` does) the batch tasks run on the cluster's workers, `workers` of them at a
    time; the global steps (learning, clustering, the writes) stay in this process.
    """
    logger = get_run_logger()
    config = RunConfig(batch_files=batch_files, batch_bytes=batch_mb * 1024 * 1024, reprocess=reprocess,
                       rules_files=tuple(rules or ()), workers=max(1, workers), max_reject_share=max_reject_share,
                       warn_reject_share=warn_reject_share).with_limits(limits or {})
    ctx = start_run(raw_dir, out_dir, config)
    if dask_address:
        # on a cluster each batch task does its own work (no process pool inside a Dask worker)
        single = replace(config, workers=1)
        ctx.batches = [replace(b, config=single) for b in ctx.batches]
    logger.info("run %s: %d files seen, %d new or changed, %d unchanged; %d batches",
                ctx.run_id, ctx.files_seen, ctx.files_new, ctx.files_skipped, len(ctx.batches))
    try:
        # batch tasks run in threads, `width` at a time; with workers > 1 each hands its batch to the
        # process pool (flows/workers.py), so both cores work while Prefect tracks every batch. With
        # the pool, one batch more than the workers: a worker that finishes finds the next batch
        # already queued instead of waiting for Prefect to start its task (one worker runs in the
        # task's thread, and a Dask cluster queues its own)
        w = config.workers
        width = w + 1 if w > 1 and not dask_address else w
        # arguments go in `quote`: Prefect would otherwise walk every file of a batch, every ledger row
        # and every batch of the run looking for futures (about 1 s per 10,000 articles). Not on Dask,
        # whose runner hands a task the quote itself instead of what it holds.
        q: Any = (lambda x: x) if dask_address else quote
        ingested = _run_window(ingest_batch_task, [(q(spec),) for spec in ctx.batches], width, "ingest")
        recurring_path = learn_recurring_task(q(ctx), q(ingested))
        results = _run_window(clean_batch_task, [(q(spec), q(ing), recurring_path)
                                                 for spec, ing in zip(ctx.batches, ingested, strict=True)], width, "clean")
        shutdown_workers()  # the corpus-wide step gets the workers' memory
        manifest = finalize_task(q(ctx), q(results))
    except TooManyRejects:
        raise  # everything was written and committed; the run is marked failed by its exit
    except BaseException as exc:
        fail_run(ctx, exc)
        raise
    c = manifest["counts"]
    logger.info("run %s finished: %d articles, %d duplicates, %d rejects, %d removals",
                ctx.run_id, c["articles"], c["duplicates"], c["rejects"], c["removals"])
    for warning in manifest.get("warnings", []):
        logger.warning(warning)
    create_markdown_artifact(key="clean-news-run", markdown=summary_markdown(manifest),
                             description=f"newsclean run {ctx.run_id}")
    create_link_artifact(key="clean-news-output", link=Path(manifest["out_dir"]).as_uri(),
                         link_text=f"output of run {ctx.run_id}", description="the run's output folder")
    return manifest
