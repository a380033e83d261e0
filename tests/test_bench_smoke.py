"""Smoke runs of the benchmarks at a small N: they complete and report (numbers are bench/'s business)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.flow
def test_bench_run_completes_and_reports(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--sizes", "1000", "--out", str(out), "--delta", "200",
         "--html-source", "raw/pages", "--html-pages", "20", "--html-repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    (r,) = res["results"]
    assert set(r["runs"]) == {"ours-1", "ours-2", "flow-2", "straightforward", "floor"}
    assert all(x["seconds"] > 0 and x["rss_mb"] > 0 for x in r["runs"].values())
    assert r["runs"]["ours-1"]["counts"]["input_records"] == 1000
    assert r["incremental"]["new_articles"] == 200 and r["incremental"]["index_articles_before"] > 0
    assert res["html"]["runs"]["trafilatura"]["info"]["pages"] == 20
    assert len(res["html"]["overhead_pairs"]) == 2  # interleaved pairs of trafilatura alone and newsclean
    assert len(res["html"]["overhead_nets"]) == 2  # each run per second of its own extraction
    assert len(res["html"]["overhead_per_pages"]) == 2 and res["html"]["fixed_seconds"]["ours"] > 0
    # 20 small pages take far less than the processes' start: no overhead a page is claimed
    assert res["html"]["per_page_reliable"] is False and "too few pages to tell" in proc.stdout
    assert 0 < res["html"]["runs"]["trafilatura"]["info"]["extract_seconds"] < res["html"]["runs"]["trafilatura"]["seconds"]
    assert "vs straightforward" in proc.stdout and "overhead on top of trafilatura" in proc.stdout
    assert "our overhead on top of it" in proc.stdout


def test_signature_collapse_and_dedupe_benches_complete_and_report(tmp_path):
    sig = subprocess.run([sys.executable, "bench/signatures.py", "raw", "--n", "50", "--json", str(tmp_path / "s.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert sig.returncode == 0, sig.stderr[-3000:]
    assert json.loads((tmp_path / "s.json").read_text())["identical_signatures"] is True
    col = subprocess.run([sys.executable, "bench/collapse.py", "raw", "--paragraphs", "10", "--json", str(tmp_path / "c.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert col.returncode == 0, col.stderr[-3000:]
    res = json.loads((tmp_path / "c.json").read_text())
    assert res["us_per_article"] > 0 and res["dropped_copies"] >= res["planted_copies"] > 0
    scale = subprocess.run([sys.executable, "bench/dedupe_scale.py", "--n", "2000", "--index", "0", "3000",
                            "--new", "500", "--files", "3", "--json", str(tmp_path / "d.json")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert scale.returncode == 0, scale.stderr[-3000:]
    res = json.loads((tmp_path / "d.json").read_text())
    assert res["one_run"]["n"] == 2000 and "pipeline_lookup_500_vs_3000_in_3_files" in res


def test_clean_and_incremental_benches_complete_and_report(tmp_path):
    clean = subprocess.run([sys.executable, "bench/clean.py", "raw", "--repeat", "1", "--json", str(tmp_path / "k.json")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr[-3000:]
    res = json.loads((tmp_path / "k.json").read_text())
    assert res["articles"] >= 3 and res["ms_per_article"] > 0 and 0 < res["catalogue_share"] < 1
    inc = subprocess.run([sys.executable, "bench/incremental.py", "raw", "--parts", "2", "--json", str(tmp_path / "i.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert inc.returncode == 0, inc.stderr[-3000:]
    res = json.loads((tmp_path / "i.json").read_text())
    assert res["items"] == res["items_in_both"] > 0 and res["duplicates_pointing_forward"] == 0


def test_memsteps_reports_learning_and_every_step_of_the_corpus_stage(tmp_path):
    proc = subprocess.run([sys.executable, "bench/memsteps.py", "raw", str(tmp_path / "out"), "--workers", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = {line.split()[0] for line in proc.stdout.splitlines() if " peak " in line}
    assert steps == {"learn_recurring", "load_or_rebuild_index", "read_new_articles", "release_heap", "reachable_old", "build_corpus",
                     "corpus_cluster", "plan_moves", "stage_moves", "write_keys", "compact"}
    assert list((tmp_path / "out" / "articles").glob("*.parquet"))  # the run itself completed
