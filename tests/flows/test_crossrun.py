"""Across runs: today's copies point at yesterday's articles; a lost or corrupt index is rebuilt; batches equal one run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.config import RunConfig
from flows.pipeline import run_pipeline
from flows.state import StateMismatch
from tests.conftest import ROOT
from tests.dedupe import stories as S
from tests.helpers import rows, without_run_columns


def write_story(raw: Path, name: str, title: str, paras: list[str]) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    (raw / name).write_text(title + "\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


STORIES = {
    "base.txt": S.BASE, "brief.txt": S.BRIEF, "abridged.txt": S.ABRIDGED, "updated.txt": S.UPDATED,
    "reordered.txt": S.REORDERED, "follow.txt": S.FOLLOW_UP, "school.txt": S.OTHER_STORY,
    "results-a.txt": S.TEMPLATE_A, "results-b.txt": S.TEMPLATE_B,
}


def partition(out: Path) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for r in rows(out, "articles") + rows(out, "duplicates"):
        groups.setdefault(r["cluster_id"], set()).add(r["source_file"])
    return {frozenset(g) for g in groups.values()}


def test_copies_in_a_later_run_point_at_the_earlier_article(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_story(raw, "base.txt", "Storm closes ports", S.BASE)
    run_pipeline(raw, out)
    (base,) = rows(out, "articles")
    write_story(raw, "brief.txt", "Storm closes ports", S.BRIEF)
    write_story(raw, "updated.txt", "Storm closes ports (updated)", S.UPDATED)
    m = run_pipeline(raw, out)
    assert m["inputs"]["files_new_or_changed"] == 2
    assert [r["source_file"] for r in rows(out, "articles")] == ["base.txt"]  # the earlier survivor stays
    dups = rows(out, "duplicates")
    assert {d["source_file"] for d in dups} == {"brief.txt", "updated.txt"}
    for d in dups:
        assert d["duplicate_of"] == base["article_id"] and d["cluster_id"] == base["cluster_id"]
        assert d["duplicate_reason"] == "near_duplicate" and d["similarity"] >= 0.5


def test_incremental_runs_give_the_same_partition_as_one_run(tmp_path):
    names = sorted(STORIES)
    for n in names:
        write_story(tmp_path / "all", n, n, STORIES[n])
    run_pipeline(tmp_path / "all", tmp_path / "one")
    inc_raw, inc_out = tmp_path / "inc", tmp_path / "inc-out"
    for part in (names[0::3], names[1::3], names[2::3]):
        for n in part:
            write_story(inc_raw, n, n, STORIES[n])
        run_pipeline(inc_raw, inc_out)
    assert partition(tmp_path / "one") == partition(inc_out)
    assert frozenset({"follow.txt"}) in partition(inc_out)
    assert frozenset({"results-a.txt"}) in partition(inc_out)
    # every cross-run duplicate points at an article of an earlier run
    run_of = {r["article_id"]: r["run_id"] for r in rows(inc_out, "articles") + rows(inc_out, "duplicates")}
    for d in rows(inc_out, "duplicates"):
        assert run_of[d["duplicate_of"]] <= d["run_id"]


def _two_briefs_then_the_story(raw: Path, out: Path, config: RunConfig | None = None) -> list[dict]:
    """Two briefs of different halves of a story arrive in two runs (no match between them); the full
    story arrives in a third and matches both. Returns the three manifests."""
    manifests = []
    for name, paras in (("brief-1.txt", S.BASE[:3]), ("brief-2.txt", S.BASE[-3:]), ("story.txt", S.BASE)):
        write_story(raw, name, "Storm", paras)
        manifests.append(run_pipeline(raw, out, config=config))
    return manifests


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 2), min_size=len(STORIES) + 2, max_size=len(STORIES) + 2))
@example(runs=[2] * len(STORIES) + [0, 1])  # the two briefs in runs 0 and 1, every full copy in run 2: a merge
def test_any_split_into_runs_keeps_every_input_once_and_every_cluster_one_survivor(tmp_path_factory, runs):
    """Whatever runs the inputs arrive in (merges of earlier clusters included): each input is in exactly
    one table, each cluster has exactly one kept row, and every duplicate points at that kept row,
    written by its own or an earlier run."""
    base = tmp_path_factory.mktemp("split")
    names = sorted(STORIES) + ["brief-1.txt", "brief-2.txt"]
    paras = {**STORIES, "brief-1.txt": S.BASE[:3], "brief-2.txt": S.BASE[-3:]}
    raw, out = base / "raw", base / "out"
    for r in range(3):
        batch = [n for n, k in zip(names, runs, strict=True) if k == r]
        for n in batch:
            write_story(raw, n, n, paras[n])
        if batch:
            run_pipeline(raw, out)
    kept, dups = rows(out, "articles"), rows(out, "duplicates")
    assert sorted(r["source_file"] for r in kept + dups) == sorted(names)
    survivor = {r["cluster_id"]: r for r in kept}
    assert len(survivor) == len(kept)
    for d in dups:
        assert survivor[d["cluster_id"]]["article_id"] == d["duplicate_of"]
        assert survivor[d["cluster_id"]]["run_id"] <= d["run_id"]


def test_a_later_story_joining_two_earlier_clusters_merges_them_as_one_run_would(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    m1, m2, m3 = _two_briefs_then_the_story(raw, out)
    assert "earlier_clusters_merged" not in m2["dedupe"]
    assert m3["dedupe"]["earlier_clusters_merged"] == 1 and m3["counts"]["earlier_rows_moved"] == 1
    assert m3["counts"]["duplicates"] == 1 and m3["duplicates_by_reason"] == {"near_duplicate": 1}  # its own input
    run_pipeline(raw, tmp_path / "one")
    assert partition(out) == partition(tmp_path / "one") and len(partition(out)) == 1
    (kept,) = rows(out, "articles")  # the best-ranked earlier survivor stays (no dates: the longer brief)
    assert kept["source_file"] in {"brief-1.txt", "brief-2.txt"} and kept["run_id"] in {m1["run_id"], m2["run_id"]}
    dups = {d["source_file"]: d for d in rows(out, "duplicates")}
    assert set(dups) == {"brief-1.txt", "brief-2.txt", "story.txt"} - {kept["source_file"]}  # each input once
    story = dups.pop("story.txt")
    (demoted,) = dups.values()
    assert demoted["duplicate_reason"] == "clusters_merged" and demoted["run_id"] == m3["run_id"]
    assert demoted["matched_article_id"] == story["article_id"] and demoted["similarity"] >= 0.7
    assert demoted["duplicate_of"] == story["duplicate_of"] == kept["article_id"]
    assert demoted["cluster_id"] == story["cluster_id"] == kept["cluster_id"]
    assert [r["run_id"] for r in rows(out, "state/merges")] == [m3["run_id"]]
    # a later copy of the absorbed brief joins the merged cluster (its index row is resolved through state/merges)
    absorbed = S.BASE[:3] if demoted["source_file"] == "brief-1.txt" else S.BASE[-3:]
    write_story(raw, "copy.txt", "Storm", absorbed)
    run_pipeline(raw, out)
    copy = next(d for d in rows(out, "duplicates") if d["source_file"] == "copy.txt")
    assert copy["matched_article_id"] == demoted["article_id"]
    assert copy["cluster_id"] == kept["cluster_id"] and copy["duplicate_of"] == kept["article_id"]
    # the same holds for an index rebuilt from the tables
    shutil.rmtree(out / "state" / "index")
    shutil.rmtree(out / "state" / "keys", ignore_errors=True)
    write_story(raw, "copy-again.txt", "Storm", absorbed)
    m5 = run_pipeline(raw, out)
    assert any("rebuilt" in w for w in m5["warnings"])
    again = next(d for d in rows(out, "duplicates") if d["source_file"] == "copy-again.txt")
    assert again["cluster_id"] == kept["cluster_id"] and again["duplicate_of"] == kept["article_id"]


@pytest.mark.parametrize("config", [RunConfig(merge_earlier_clusters=False), RunConfig(merge_rewrite_ratio=0.01)],
                         ids=["turned-off", "over-the-rewrite-budget"])
def test_earlier_clusters_stay_apart_when_merging_is_off_or_over_budget(tmp_path, config):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _, _, m3 = _two_briefs_then_the_story(raw, out, config)
    assert m3["dedupe"]["earlier_clusters_left_apart"] == 1 and m3["counts"]["earlier_rows_moved"] == 0
    assert m3["dedupe"].get("earlier_clusters_merged", 0) == 0
    warned = any("left apart" in w and "budget" in w for w in m3.get("warnings", []))
    assert warned == config.merge_earlier_clusters
    assert {r["source_file"] for r in rows(out, "articles")} == {"brief-1.txt", "brief-2.txt"}
    assert not (out / "state" / "merges").exists()


def test_an_interrupted_merge_gives_the_earlier_files_back(tmp_path):
    """Killed after the earlier files were rewritten, before the run finished: the next run restores
    them, rolls the run back and does it again; the result equals an uninterrupted merge."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    for name, paras in (("brief-1.txt", S.BASE[:3]), ("brief-2.txt", S.BASE[-3:])):
        write_story(raw, name, "Storm", paras)
        run_pipeline(raw, out)
    before = {t: without_run_columns(rows(out, t)) for t in ("articles", "duplicates")}
    write_story(raw, "story.txt", "Storm", S.BASE)
    cmd = [sys.executable, "-m", "flows", "run", "--no-prefect", "-q", str(raw), str(out)]
    killed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NEWSCLEAN_FAULT": "history_rewrite"})
    assert killed.returncode == -9, killed.stderr
    assert len(rows(out, "articles")) == 1  # the rewrite had landed when the run died
    shutil.copytree(out, tmp_path / "snapshot")
    from flows.state import recover

    recover(tmp_path / "snapshot")  # what the next run does first: the earlier files come back
    assert {t: without_run_columns(rows(tmp_path / "snapshot", t)) for t in before} == before
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    run_pipeline(raw, tmp_path / "one")
    assert partition(out) == partition(tmp_path / "one")
    assert len(rows(out, "articles")) == 1 and len(rows(out, "duplicates")) == 2


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_lost_or_corrupt_index_is_rebuilt_from_the_tables(tmp_path, damage):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_story(raw, "base.txt", "Storm closes ports", S.BASE)
    run_pipeline(raw, out)
    (base,) = rows(out, "articles")
    index_files = list((out / "state" / "index").glob("*.parquet"))
    for f in index_files:
        if damage == "missing":
            f.unlink()
        else:
            f.write_bytes(b"PAR1 this is not parquet at all")
    write_story(raw, "abridged.txt", "Storm closes ports", S.ABRIDGED)
    m = run_pipeline(raw, out)
    (dup,) = rows(out, "duplicates")
    assert dup["duplicate_of"] == base["article_id"]
    assert any("rebuilt from 1 rows" in w for w in m["warnings"])
    if damage == "corrupt":
        assert list((out / "state").glob("index-broken-*/*.parquet"))  # moved aside, not deleted


def test_state_from_an_older_token_hash_is_rebuilt_not_compared(tmp_path):
    """Signatures made with another token hash never match this version's: the index is rebuilt
    from the clean text already written, and the old index files are kept aside."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw, out = tmp_path / "raw", tmp_path / "out"
    write_story(raw, "base.txt", "Storm closes ports", S.BASE)
    run_pipeline(raw, out)
    (base,) = rows(out, "articles")
    sketch = out / "state" / "sketch.json"
    saved = json.loads(sketch.read_text())
    del saved["token_hash"]  # as written before the scheme was recorded
    sketch.write_text(json.dumps(saved))
    for f in (out / "state" / "index").glob("*.parquet"):  # signatures of another hash: nothing in common
        t = pq.read_table(f)
        other = pa.array([bytes(len(b)) for b in t.column("signature").to_pylist()], t.schema.field("signature").type)
        pq.write_table(t.set_column(t.schema.get_field_index("signature"), "signature", other), f)
    shutil.rmtree(out / "state" / "keys")  # its lookup keys came from the same old signatures
    write_story(raw, "abridged.txt", "Storm closes ports", S.ABRIDGED)
    m = run_pipeline(raw, out)
    (dup,) = rows(out, "duplicates")
    assert dup["duplicate_of"] == base["article_id"]
    assert any("token hash xxh32-utf8" in w and "rebuilt from 1 rows" in w for w in m["warnings"])
    assert list((out / "state").glob("index-outdated-*/*.parquet"))
    assert "token_hash" in json.loads(sketch.read_text())
    m = run_pipeline(raw, out)  # and only once
    assert not m.get("warnings")


def test_changing_signature_settings_on_an_existing_state_stops_with_a_clear_message(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_story(raw, "base.txt", "Storm", S.BASE)
    run_pipeline(raw, out)
    write_story(raw, "brief.txt", "Storm", S.BRIEF)
    with pytest.raises(StateMismatch, match="use the same settings, or a new output folder"):
        run_pipeline(raw, out, RunConfig(dedup_seed=2))
    manifests = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert sorted(m["status"] for m in manifests) == ["failed", "finished"]


def test_lookup_store_finds_the_same_earlier_articles_as_a_scan(tmp_path):
    """The binary-search lookup in state/keys/ (memory-mapped rows) and the full scan of the Parquet
    index reach the same earlier articles and see the same already-processed ids."""
    import pyarrow as pa

    from flows.config import RunConfig
    from flows.finalize import IndexPart, _open_parts, reachable_old, seen_before
    from flows.state import read_index_file

    raw, out = tmp_path / "raw", tmp_path / "out"
    for n in ("base.txt", "follow.txt", "school.txt", "results-a.txt"):
        write_story(raw, n, n, STORIES[n])
    run_pipeline(raw, out)
    assert len(list((out / "state" / "keys").iterdir())) == 1
    new_raw = tmp_path / "new"
    for n in ("brief.txt", "results-b.txt", "updated.txt"):
        write_story(new_raw, n, n, STORIES[n])
    staged_out = tmp_path / "staged"
    run_pipeline(new_raw, staged_out)
    new = _staged_like(staged_out)
    params = RunConfig().corpus_params()
    fast = _open_parts(out, params)
    assert all(p.store is not None and p.table is None for p in fast)
    scan = [IndexPart(p.stem, p.n, None, read_index_file(out, p.stem)) for p in fast]
    by_store, by_scan = reachable_old(fast, new, params), reachable_old(scan, new, params)
    assert sorted(by_store.column("article_id").to_pylist()) == sorted(by_scan.column("article_id").to_pylist())
    assert 0 < by_store.num_rows < sum(p.n for p in fast)  # some earlier articles reachable, not all
    old_ids = read_index_file(out, fast[0].stem).column("article_id")
    probe = pa.concat_arrays([old_ids.combine_chunks().slice(0, 2), new.column("article_id").combine_chunks()])
    assert seen_before(fast, probe).tolist() == seen_before(scan, probe).tolist() == [True, True] + [False] * new.num_rows
    # a store of another layout (an older version) is not used: the file is read and scanned instead
    meta = out / "state" / "keys" / fast[0].stem / "meta.json"
    from flows.keyindex import VERSION

    meta.write_text(meta.read_text().replace(f'"version": {VERSION}', f'"version": {VERSION - 1}'))
    assert all(p.store is None and p.table is not None for p in _open_parts(out, params))


def test_line_counts_are_one_snapshot_that_accumulates_across_runs(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    footer = "Got a story for the Coastal Echo? Call our newsdesk"
    for i, n in enumerate(("a.txt", "b.txt")):
        write_story(raw, n, n, [STORIES["school.txt"][i], footer])
    run_pipeline(raw, out)
    for i, n in enumerate(("c.txt", "d.txt")):
        write_story(raw, n, n, [STORIES["follow.txt"][i], footer])
    m = run_pipeline(raw, out)
    import pyarrow.parquet as pq

    snaps = list((out / "state" / "lines").glob("*.parquet"))
    assert len(snaps) == 1  # the older snapshot was superseded
    counts = pq.read_table(snaps[0]).column("n").to_pylist()
    assert max(counts) == 4  # the footer, counted in the two articles of each run
    # four articles carried the footer: it is learned as boilerplate and removed in this run's articles
    assert m["learned"]["recurring_lines"] >= 1
    assert m["removals_by_reason"].get("recurring_line", 0) >= 2


def test_lookup_stores_merge_as_runs_accumulate_and_survive_an_interrupted_merge(tmp_path):
    """Every run adds an index file; its lookup store is merged with earlier ones (binary counter), so
    the number of stores stays logarithmic, every index file is covered exactly once, and the merged
    stores reach what a scan reaches. A lost store is rebuilt by the next run."""
    import shutil

    from flows.finalize import IndexPart, _open_parts, reachable_old
    from flows.keyindex import find_stores
    from flows.state import index_files, read_index_file

    raw, out = tmp_path / "raw", tmp_path / "out"
    params = RunConfig().corpus_params()
    names = ["base.txt", "follow.txt", "school.txt", "results-a.txt", "abridged.txt", "results-b.txt"]
    for k, name in enumerate(names, start=1):
        write_story(raw, name, name, STORIES[name])
        run_pipeline(raw, out)
        files = index_files(out)
        stores = find_stores(out, files, params)
        assert sorted(f for st in stores for f in st.files) == sorted(files)  # each file covered once
        assert len(stores) <= k.bit_length()
        assert len(list((out / "state" / "keys").iterdir())) == len(stores)  # merged-away stores are gone
    manifest = json.loads(sorted((out / "runs").glob("*.json"))[-1].read_text())
    assert manifest["dedupe"]["index_stores"]["stores"] == len(stores)

    # an interrupted merge leaves an older, smaller store beside the merged one: the larger wins
    biggest = max(stores, key=lambda st: len(st.files))
    shutil.copytree(biggest.folder, out / "state" / "keys" / "00-stale-copy")
    meta = out / "state" / "keys" / "00-stale-copy" / "meta.json"
    m = json.loads(meta.read_text())
    m["files"], m["n"] = m["files"][:1], m["files"][0][1]
    meta.write_text(json.dumps(m))  # claims one file (its rows would be wrong: it must not be used)
    assert {st.stem for st in find_stores(out, index_files(out), params)} == {st.stem for st in stores}

    fast = _open_parts(out, params)
    scan = [IndexPart(stem, n, None, read_index_file(out, stem)) for stem, n in index_files(out)]
    probe_raw = tmp_path / "probe"
    write_story(probe_raw, "updated.txt", "u", S.UPDATED)
    write_story(probe_raw, "brief.txt", "b", S.BRIEF)
    probe_out = tmp_path / "probe-out"
    run_pipeline(probe_raw, probe_out)
    new = _staged_like(probe_out)
    assert sorted(reachable_old(fast, new, params).column("article_id").to_pylist()) == sorted(
        reachable_old(scan, new, params).column("article_id").to_pylist())

    # a lost store: the next run writes it again (and merges)
    shutil.rmtree(out / "state" / "keys")
    write_story(raw, "updated.txt", "u", S.UPDATED)
    run_pipeline(raw, out)
    files = index_files(out)
    assert sorted(f for st in find_stores(out, files, params) for f in st.files) == sorted(files)


def _staged_like(out: Path):
    """A finished run's index rows shaped like the staged articles a run clusters."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flows.sink import STAGED_ARTICLES

    new = pa.concat_tables([pq.read_table(p) for p in (out / "state" / "index").glob("*.parquet")])
    new = new.rename_columns(["published_at" if c == "published_ts" else c for c in new.column_names])
    new = new.set_column(new.column_names.index("published_at"), "published_at",
                         pa.nulls(new.num_rows, pa.timestamp("us", tz="UTC")))
    return new.select([n for n in STAGED_ARTICLES.names if n in new.column_names])


def test_a_key_held_by_more_than_max_bucket_earlier_articles_reaches_none_of_them(tmp_path):
    """A paragraph shared by crowds of earlier articles (boilerplate) would only make a bucket that
    clustering skips: the lookup leaves those articles out, by the store and by the scan alike."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dedupe.corpus import CorpusParams
    from flows import keyindex
    from flows.finalize import IndexPart, _open_parts, reachable_old
    from flows.state import INDEX

    params = CorpusParams(max_bucket=5)
    rng = np.random.default_rng(3)
    n = 20
    crowd, pair = 111, 222
    para = [[crowd, 1000 + i] for i in range(n)]
    para[3].append(pair)  # one earlier article shares a second, rare paragraph with the new one
    old = pa.table({
        "article_id": [f"o{i}" for i in range(n)], "cluster_id": [f"o{i}" for i in range(n)],
        "survivor_id": [f"o{i}" for i in range(n)], "kept": [True] * n, "content_hash": [f"h{i}" for i in range(n)],
        "url_key": [None] * n, "published_ts": [None] * n, "run_id": ["r"] * n, "text_chars": [500] * n,
        "signature": [rng.integers(0, 2**32, 128, dtype=np.uint32).astype("<u4").tobytes() for _ in range(n)],
        "n_shingles": [100] * n, "para_keys": para}, schema=INDEX)
    out = tmp_path / "out"
    (out / "state" / "index").mkdir(parents=True)
    pq.write_table(old, out / "state" / "index" / "r1.parquet")
    keyindex.write_keys(out, "r1", old, params)
    new = pa.table({"article_id": ["n1"], "content_hash": ["hn"], "url_key": pa.array([None], pa.string()),
                    "published_at": pa.array([None], pa.timestamp("us", tz="UTC")), "text_chars": [500],
                    "signature": [rng.integers(0, 2**32, 128, dtype=np.uint32).astype("<u4").tobytes()],
                    "n_shingles": pa.array([100], pa.int32()), "para_keys": [[crowd, pair]]})
    fast = _open_parts(out, params)
    assert fast[0].store is not None
    scan = [IndexPart("r1", n, None, old)]
    for parts in (fast, scan):
        assert reachable_old(parts, new, params).column("article_id").to_pylist() == ["o3"]


def test_a_damaged_lookup_store_is_scanned_around_and_written_again(tmp_path):
    from flows.keyindex import find_stores
    from flows.state import index_files

    raw, out = tmp_path / "raw", tmp_path / "out"
    write_story(raw, "base.txt", "Storm closes ports", S.BASE)
    write_story(raw, "school.txt", "School", S.OTHER_STORY)
    run_pipeline(raw, out)
    (store,) = (out / "state" / "keys").iterdir()
    (store / "band.npy").write_bytes(b"\x93NUMPY broken")  # a damaged key file
    write_story(raw, "brief.txt", "Storm closes ports", S.BRIEF)
    manifest = run_pipeline(raw, out)
    assert manifest["status"] == "finished"
    (brief,) = [r for r in rows(out, "duplicates") if r["source_file"] == "brief.txt"]
    (base,) = [r for r in rows(out, "articles") if r["source_file"] == "base.txt"]
    assert brief["duplicate_of"] == base["article_id"]  # found through the scan
    files = index_files(out)
    stores = find_stores(out, files, RunConfig().corpus_params())
    assert sorted(f for st in stores for f in st.files) == sorted(files)  # and the store was written again
    import numpy as np

    for store in stores:
        assert len(np.load(store.folder / "band.npy")) == store.n * RunConfig().corpus_params().bands


def test_line_counts_summed_part_by_part_equal_one_sum_and_the_cap_drops_single_article_keys(tmp_path, monkeypatch):
    """learn_recurring sums the keys LINE_COUNT_PARTS at a time (memory): the snapshot, the learned
    keys and the cleaned articles are those of one sum over all keys; past LINE_COUNTS_MAX_ROWS the
    snapshot keeps only the keys seen in more than one article, and still learns the same keys."""
    import pyarrow.parquet as pq

    import flows.batch as fb

    raw = tmp_path / "raw"
    footer = "Got a story for the Coastal Echo? Call our newsdesk"
    for n in ("base.txt", "follow.txt", "school.txt", "results-a.txt", "results-b.txt"):
        write_story(raw, n, n, [*STORIES[n], footer])

    def run(name: str) -> tuple[list[tuple[int, bool, int, int]], dict, list[dict]]:
        out = tmp_path / name
        m = run_pipeline(raw, out)
        (snap,) = (out / "state" / "lines").glob("*.parquet")
        t = pq.read_table(snap)
        counts = sorted(zip(*(t.column(c).to_pylist() for c in ("key", "site_scope", "n", "n_body")), strict=True))
        return counts, m, without_run_columns(rows(out, "articles"))

    monkeypatch.setattr(fb, "LINE_COUNT_PARTS", 1)
    whole, m1, arts1 = run("whole")
    monkeypatch.setattr(fb, "LINE_COUNT_PARTS", 8)
    parts, m8, arts8 = run("parts")
    assert whole == parts and arts1 == arts8 and len(whole) >= 5
    assert m1["learned"] == m8["learned"] and m8["learned"]["recurring_lines"] >= 1
    assert len({k >> 61 for k, *_ in parts}) > 1  # the keys did fall in several parts
    monkeypatch.setattr(fb, "LINE_COUNTS_MAX_ROWS", 1)
    capped, mc, arts_c = run("capped")
    assert capped == [r for r in whole if r[2] > 1] and 0 < len(capped) < len(whole)
    assert mc["learned"] == m8["learned"] and arts_c == arts8


def test_a_count_file_written_by_part_is_read_a_part_at_a_time(tmp_path):
    """_write_counts puts each key range (part) in its own row groups and _read_part reads only
    those; a file written in one row group (an older snapshot) gives the same parts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import flows.batch as fb

    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64, endpoint=True))
    counts = pa.table({"key": keys, "site_scope": keys % 3 == 0, "n": (keys % 5).astype(np.int64),
                       "n_body": (keys % 2).astype(np.int64)}, schema=fb.LINE_COUNTS)
    fb._write_counts(counts, tmp_path / "parts.parquet")
    pq.write_table(counts, tmp_path / "whole.parquet")
    f = pq.ParquetFile(tmp_path / "parts.parquet")
    assert f.metadata.num_row_groups == fb.LINE_COUNT_PARTS
    got = []
    for part in range(fb.LINE_COUNT_PARTS):
        lo, hi = fb._part_range(part)
        t = fb._read_part(tmp_path / "parts.parquet", part)
        assert t.equals(fb._read_part(tmp_path / "whole.parquet", part))
        assert all(lo <= k <= hi for k in t.column("key").to_pylist()) and t.num_rows > 400
        got.append(t)
    assert pa.concat_tables(got).equals(counts)
    assert fb._part_range(fb.LINE_COUNT_PARTS - 1)[1] == 2**64 - 1


def test_reprocessing_the_same_inputs_adds_only_the_new_articles(tmp_path):
    """With reprocess, every input is read again; the articles an earlier run already processed are
    recognised by their ids (read_new_articles filters them out file by file) and counted, not
    written twice; a new file's article lands and is clustered against the earlier ones."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    for n in ("base.txt", "school.txt", "results-a.txt"):
        write_story(raw, n, n, STORIES[n])
    first = run_pipeline(raw, out, RunConfig(batch_files=1))
    write_story(raw, "updated.txt", "updated.txt", STORIES["updated.txt"])
    second = run_pipeline(raw, out, RunConfig(batch_files=1, reprocess=True))
    assert first["counts"]["articles"] == 3
    assert second["counts"]["records_already_processed"] == 3
    assert second["counts"]["input_records"] == 4
    assert second["counts"]["articles"] + second["counts"]["duplicates"] == 1
    arts, dups = rows(out, "articles"), rows(out, "duplicates")
    assert sorted(r["source_file"] for r in arts + dups) == ["base.txt", "results-a.txt", "school.txt", "updated.txt"]
    (dup,) = [r for r in dups if r["source_file"] == "updated.txt"]  # the update of base, found across runs
    assert dup["duplicate_of"] == next(r["article_id"] for r in arts if r["source_file"] == "base.txt")
