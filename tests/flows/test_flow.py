"""The clean-news flow through a real Prefect API (prefect_test_harness), Parquet read back."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers import rows

pytestmark = pytest.mark.flow


def test_flow_writes_parquet_and_publishes_an_artifact(prefect_harness, tmp_path, raw_copy):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.flow import clean_news

    state = clean_news(raw_dir=str(raw_copy), out_dir=str(tmp_path / "out"), batch_files=2, return_state=True)
    assert state.is_completed()
    manifest = state.result()
    out = tmp_path / "out"
    arts, dups, rejs = rows(out, "articles"), rows(out, "duplicates"), rows(out, "rejects")
    assert manifest["counts"]["input_records"] == len(arts) + len(dups) + len(rejs) == 13
    titles = {a["title"] for a in arts}
    assert "US sanctions Chinese officials over Uighur rights" in titles
    assert manifest["inputs"]["batches"] == 4  # 7 files, 2 per batch: one task per batch

    async def fetch():
        async with get_client() as client:
            arts_ = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["clean-news-run"])))
            runs = await client.read_task_runs()
            return arts_, runs
    # one clean task per batch, each a real Prefect task run
    assert len(set(manifest["batch_task_runs"])) == 4
    # task runs reach the API asynchronously through events (and the recorder may drop some):
    # poll, within a bound, until at least one of ours is visible
    deadline = time.monotonic() + 60
    while True:
        artifacts, task_runs = asyncio.run(fetch())
        seen = {str(t.id) for t in task_runs} & set(manifest["batch_task_runs"])
        if seen or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert any(manifest["run_id"] in (a.data or "") for a in artifacts)
    assert seen


def test_flow_logs_batches_at_info_and_many_rejects_at_warning(prefect_harness, tmp_path):
    import json as _json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from flows.flow import clean_news

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "feed.jsonl").write_text("{bad\n{bad\n{bad\n" + _json.dumps({"title": "t", "text": "Fine text."}) + "\n")
    state = clean_news(raw_dir=str(raw), out_dir=str(tmp_path / "out"), return_state=True)
    assert state.is_completed()
    flow_run_id = state.state_details.flow_run_id

    async def fetch():
        async with get_client() as client:
            return await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))

    deadline = time.monotonic() + 60
    while True:
        logs = asyncio.run(fetch())
        warnings = [lg for lg in logs if lg.level >= 30 and "were rejected" in lg.message]
        infos = [lg for lg in logs if lg.level == 20 and "clean batch 0" in lg.message]
        if (warnings and infos) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert infos and warnings


def test_flow_with_two_pool_workers_equals_a_one_process_run(prefect_harness, tmp_path, raw_copy):
    """Batch tasks hand their batches to the process pool, one batch more in flight than workers, and
    the next task starts when any batch finishes: the rows are those of a one-process run."""
    import json
    import os

    from flows.flow import clean_news
    from flows.pipeline import run_pipeline
    from tests.helpers import without_run_columns

    run_pipeline(raw_copy, tmp_path / "one")
    state = clean_news(raw_dir=str(raw_copy), out_dir=str(tmp_path / "two"), batch_files=1, workers=2,
                       return_state=True)
    assert state.is_completed()
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / "two" / "runs").glob("*.json")]
    assert manifest["inputs"]["batches"] == 7
    pids = {w.rsplit(":", 1)[1] for w in manifest["batch_workers"]}
    assert pids and str(os.getpid()) not in pids  # cleaned in the pool's worker processes
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(tmp_path / "one", table)) == without_run_columns(rows(tmp_path / "two", table))
