"""Hostile input, interrupted runs, limits and safety: nothing lost, nothing corrupted, nothing outside OUT_DIR."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.config import RunConfig
from flows.pipeline import TooManyRejects, run_pipeline
from tests.conftest import ROOT, SEED
from tests.helpers import rows, without_run_columns


def test_gzip_bomb_is_a_reject_not_an_oom(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bomb.jsonl.gz").write_bytes(gzip.compress(b"\n" * (50 * 1024 * 1024), compresslevel=9))
    (raw / "ok.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    m = run_pipeline(raw, tmp_path / "out")
    (rej,) = rows(tmp_path / "out", "rejects")
    assert rej["reason"] == "limit_max_gzip_ratio" and "gzip bomb" in rej["detail"]
    assert m["counts"]["articles"] == 1


def test_limits_name_themselves_and_the_run_continues(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = json.dumps({"title": "t", "text": "A short but perfectly fine article body, with a sentence."})
    (raw / "feed.jsonl").write_text(good + "\n" + json.dumps({"title": "x", "text": "y" * 5000}) + "\n" + good + "\n")
    (raw / "big.html").write_text("<html><body><p>" + "word " * 3000 + "</p></body></html>")
    cfg = RunConfig(max_line_bytes=1000, max_html_bytes=5000)
    run_pipeline(raw, tmp_path / "out", cfg)
    reasons = sorted(r["reason"] for r in rows(tmp_path / "out", "rejects"))
    assert reasons == ["limit_max_html_bytes", "limit_max_line_bytes"]
    assert len(rows(tmp_path / "out", "articles")) + len(rows(tmp_path / "out", "duplicates")) == 2


def test_input_values_never_make_us_write_outside_out_dir(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    recs = [{"title": "t", "text": "Body text of a story that is long enough to be kept as it is.",
             "site": "../../etc", "source": "../../../tmp/x", "url": "file:///etc/passwd",
             "../../evil": "metadata key", "id": "../../../id"}]
    (raw / "weird name;rm -rf ..%2F.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    before = {p for p in tmp_path.rglob("*")}
    run_pipeline(raw, out)
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(out in p.parents or p == out for p in created)
    (art,) = rows(out, "articles")
    assert art["site"] == "../../../tmp/x"  # kept as data ("source" wins over "site"), never used as a path


def test_html_external_entities_are_not_resolved(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = (f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            "<html><body><article><p>&xxe; The article text is here and it is long enough to be extracted "
            "by trafilatura as the main content of this page.</p></article></body></html>")
    (raw / "xxe.html").write_text(html)
    run_pipeline(raw, tmp_path / "out")
    blob = json.dumps(rows(tmp_path / "out", "articles") + rows(tmp_path / "out", "rejects"), default=str)
    assert "TOP-SECRET-CONTENT" not in blob


def test_mostly_rejects_warns_and_can_fail_the_run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "feed.jsonl").write_text("{bad\n{bad\n{bad\n" + json.dumps({"title": "t", "text": "Fine text here."}) + "\n")
    m = run_pipeline(raw, tmp_path / "out")
    assert m["status"] == "finished" and any("were rejected (75%)" in w for w in m["warnings"])
    with pytest.raises(TooManyRejects, match="above --max-reject-share"):
        run_pipeline(raw, tmp_path / "out2", RunConfig(max_reject_share=0.5))
    assert len(rows(tmp_path / "out2", "rejects")) == 3  # written all the same


def test_cli_exit_code_for_too_many_rejects(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "feed.jsonl").write_text("{bad\n{bad\n")
    proc = subprocess.run([sys.executable, "-m", "flows", "run", "--no-prefect", "--max-reject-share", "0.2",
                           str(raw), str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 4
    assert "above --max-reject-share 20%" in proc.stderr and "WARNING" in proc.stdout


def _sample_raw(tmp_path: Path) -> Path:
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    return raw


@pytest.mark.parametrize("point", ["ingest", "between_tables", "index_update"])
def test_a_killed_run_is_rolled_back_and_the_rerun_equals_an_uninterrupted_run(tmp_path, point):
    raw = _sample_raw(tmp_path)
    run_pipeline(raw, tmp_path / "clean")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "flows", "run", "--no-prefect", "-q", "--batch-files", "2", str(raw), str(out)]
    killed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NEWSCLEAN_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    for table in ("articles", "duplicates", "removals", "rejects"):
        # temp files may be left behind (readers skip dot-files); every visible file is complete Parquet
        for f in (out / table).glob("*.parquet"):
            pq.read_metadata(f)
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(out, table)) == without_run_columns(rows(tmp_path / "clean", table)), table
    statuses = sorted(json.loads(p.read_text())["status"] for p in (out / "runs").glob("*.json"))
    assert statuses == ["aborted", "finished"]
    assert not list(out.rglob(".*.tmp"))
    index = rows(out, "state/index")
    assert len(index) == len({r["article_id"] for r in index}) == len(rows(out, "articles")) + len(rows(out, "duplicates"))


@pytest.mark.flow
def test_killing_the_prefect_flow_process_is_rolled_back_too(tmp_path):
    raw = _sample_raw(tmp_path)
    run_pipeline(raw, tmp_path / "clean")
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "flows", "run", "-q", "--batch-files", "2", str(raw), str(out)]
    # Prefect's temporary server is a child process that outlives a SIGKILLed parent: run the flow in
    # its own process group, with output to a file (an orphan would hold a pipe open), and end the group.
    import signal

    log = tmp_path / "killed.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**env, "NEWSCLEAN_FAULT": "between_tables"})
        try:
            code = proc.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    assert code == -9, log.read_text()[-2000:]
    (m,) = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert m["status"] == "running"  # the killed run's manifest says it did not finish
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(out, table)) == without_run_columns(rows(tmp_path / "clean", table)), table
