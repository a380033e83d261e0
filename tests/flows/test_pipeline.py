"""The plain pipeline end to end: real files in, real Parquet out, every record accounted for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.dataset as ds

from flows.config import RunConfig
from flows.pipeline import run_pipeline
from flows.sink import SCHEMAS
from tests.conftest import RAW, SEED
from tests.helpers import rows, without_run_columns

SEED_TITLE = "US sanctions Chinese officials over Uighur rights"


def seed_lines() -> list[str]:
    body = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    return [ln.strip() for ln in body.split("\n") if ln.strip()]


def test_seed_every_line_is_in_the_text_or_in_removals(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED, raw)
    m = run_pipeline(raw, tmp_path / "out")
    (art,) = rows(tmp_path / "out", "articles")
    assert art["title"] == SEED_TITLE
    lines = seed_lines()
    assert len(lines) == 29
    text_lines = art["text"].split("\n")
    removed = [r["text"] for r in rows(tmp_path / "out", "removals") if r["article_id"] == art["article_id"]]
    norm = [" ".join(x.split()) for x in text_lines + removed + list(art["captions"])]
    for ln in lines:
        assert " ".join(ln.split()) in norm, ln
    assert m["counts"]["input_records"] == 1 and m["counts"]["articles"] == 1


def test_sample_raw_every_record_lands_exactly_once(tmp_path, raw_copy):
    out = tmp_path / "out"
    m = run_pipeline(raw_copy, out)
    c = m["counts"]
    arts, dups, rejs = rows(out, "articles"), rows(out, "duplicates"), rows(out, "rejects")
    assert c["input_records"] == len(arts) + len(dups) + len(rejs) == 13
    keys = [r["article_id"] for r in arts + dups]
    assert len(keys) == len(set(keys))
    # every JSONL line that holds a record is somewhere
    feed = RAW / "feeds" / "wire-2024-05-01.jsonl"
    n_lines = sum(1 for ln in feed.read_text(encoding="utf-8").splitlines() if ln.strip())
    landed = {r["source_line"] for r in arts + dups + rejs if r["source_file"] == "feeds/wire-2024-05-01.jsonl"}
    assert landed == set(range(1, n_lines + 1))
    assert {r["reason"] for r in rejs} == {"invalid_json", "no_text"}
    # the exact copies were collapsed onto the earlier-published article
    by_id = {r["article_id"]: r for r in arts}
    for d in dups:
        kept = by_id[d["duplicate_of"]]
        assert kept["published_at"] <= d["published_at"]
        assert d["cluster_id"] == kept["cluster_id"]
        assert d["duplicate_reason"] in ("same_text", "same_url")
    assert {d["source_file"] for d in dups} == {"archive/council-budget.json", "feeds/wire-2024-05-01.jsonl"}


def test_tables_have_the_documented_schema_and_manifest(tmp_path, raw_copy):
    out = tmp_path / "out"
    m = run_pipeline(raw_copy, out)
    for name, schema in SCHEMAS.items():
        files = list((out / name).glob("*.parquet"))
        assert [f.name for f in files] == [f"{m['run_id']}.parquet"]
        got = ds.dataset(out / name).schema
        assert got.names == schema.names and got.types == schema.types, name
    manifest = json.loads((out / "runs" / f"{m['run_id']}.json").read_text())
    assert manifest["status"] == "finished"
    assert manifest["counts"] == m["counts"]
    assert set(manifest["versions"]) >= {"python", "prefect", "trafilatura", "datasketch", "pyarrow"}
    assert manifest["config"]["batch_files"] == RunConfig().batch_files
    assert not (out / ".staging").exists()
    assert not list(out.rglob(".*.tmp"))


def test_rerun_over_the_same_raw_folder_adds_nothing(tmp_path, raw_copy):
    out = tmp_path / "out"
    run_pipeline(raw_copy, out)
    before = {t: len(rows(out, t)) for t in SCHEMAS}
    m2 = run_pipeline(raw_copy, out)
    assert m2["inputs"]["files_unchanged_skipped"] == m2["inputs"]["files_seen"]
    assert m2["counts"]["input_records"] == 0
    assert {t: len(rows(out, t)) for t in SCHEMAS} == before


def test_changed_file_is_processed_again_and_matched_against_history(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SEED, raw / "a.txt")
    run_pipeline(raw, out)
    shutil.copy(SEED, raw / "b.txt")  # a re-scrape of the same article under another name
    m = run_pipeline(raw, out)
    assert m["inputs"]["files_new_or_changed"] == 1
    (dup,) = rows(out, "duplicates")
    (kept,) = rows(out, "articles")
    assert dup["source_file"] == "b.txt" and dup["duplicate_of"] == kept["article_id"]
    assert kept["run_id"] != dup["run_id"]


def _copy_in_order(src: Path, dst: Path, reverse: bool) -> None:
    files = sorted(p for p in src.rglob("*") if p.is_file())
    for p in (reversed(files) if reverse else files):
        target = dst / p.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)


def test_deterministic_whatever_the_file_order_and_batching(tmp_path):
    a, b = tmp_path / "a" / "raw", tmp_path / "b" / "raw"
    _copy_in_order(RAW, a, reverse=False)
    _copy_in_order(RAW, b, reverse=True)
    run_pipeline(a, tmp_path / "out-a", RunConfig(batch_files=100))
    run_pipeline(b, tmp_path / "out-b", RunConfig(batch_files=1))
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(tmp_path / "out-a", table)) == without_run_columns(rows(tmp_path / "out-b", table)), table


def test_large_jsonl_sliced_into_batches_and_workers_give_the_same_rows(tmp_path):
    import json as _json

    from tests.dedupe import stories as S

    raw = tmp_path / "raw"
    raw.mkdir()
    lines = []
    for i in range(60):
        paras = [S.BASE, S.OTHER_STORY, S.TEMPLATE_A, S.FOLLOW_UP][i % 4]
        lines.append(_json.dumps({"id": f"r{i}", "title": f"Story {i}", "text": "\n\n".join(paras[: 1 + i % 3]),
                                  "url": f"https://ex.example/{i}"}))
    lines.insert(17, "{not json")
    (raw / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(SEED, raw)
    run_pipeline(raw, tmp_path / "one")
    m = run_pipeline(raw, tmp_path / "sliced", RunConfig(batch_bytes=4000, workers=2))
    assert m["inputs"]["batches"] > 3
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(tmp_path / "one", table)) == without_run_columns(rows(tmp_path / "sliced", table))
    rej = rows(tmp_path / "sliced", "rejects")
    assert [(r["source_file"], r["source_line"]) for r in rej] == [("feed.jsonl", 18)]


def test_a_syndicated_story_counts_once_in_recurring_lines_whatever_the_batches(tmp_path):
    """Five sites run one wire story, each copy in its own file. Recurring-line learning counts the
    copies of a story (same longest line) once in the whole run, so the story's short lines (a
    subhead, a one-line paragraph, under the 4 articles that make a template) stay in the article
    kept, and one batch per file gives the same rows, line counts and learned keys as one batch."""
    import pyarrow.parquet as pq

    from tests.dedupe import stories as S

    raw = tmp_path / "raw"
    raw.mkdir()
    short = ["What happens next", "Schools in the area will stay shut on Thursday."]
    for i, site in enumerate(["coast.example", "herald.example", "gazette.example", "post.example", "times.example"]):
        text = "\n\n".join([*S.BASE[:3], *short, *S.BASE[3:]])
        (raw / f"wire-{i}.jsonl").write_text(json.dumps({"id": "w", "title": "Storm closes three ports", "text": text,
                                                         "url": f"https://{site}/storm-{i}"}) + "\n")
    for i, paras in enumerate([S.OTHER_STORY, S.FOLLOW_UP, S.TEMPLATE_A]):
        (raw / f"other-{i}.txt").write_text(f"Other story {i}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")

    def run(name: str, config: RunConfig) -> tuple[dict, list]:
        out = tmp_path / name
        m = run_pipeline(raw, out, config)
        (snap,) = (out / "state" / "lines").glob("*.parquet")
        t = pq.read_table(snap)
        return m, sorted(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))

    m_one, counts_one = run("one", RunConfig(batch_files=100))
    m_each, counts_each = run("each", RunConfig(batch_files=1))
    assert (m_one["inputs"]["batches"], m_each["inputs"]["batches"]) == (1, 8)
    assert counts_each == counts_one and m_each["learned"] == m_one["learned"]
    for table in ("articles", "duplicates", "removals", "rejects"):
        assert without_run_columns(rows(tmp_path / "each", table)) == without_run_columns(rows(tmp_path / "one", table))
    (kept,) = [r for r in rows(tmp_path / "each", "articles") if r["source_file"].startswith("wire-")]
    assert all(line in kept["text"].split("\n\n") for line in short)
    assert len(rows(tmp_path / "each", "duplicates")) == 4


def test_the_batches_are_the_same_whatever_the_worker_count(tmp_path):
    # the batches decide which copies of a story count once in recurring-line learning: a worker
    # count that changed them changed the output
    from flows.ingest import InputFile
    from flows.pipeline import plan_batches

    files = [InputFile(str(tmp_path / f"p{i}.html.gz"), f"p{i}.html.gz", 35_000, "html", True) for i in range(1000)]

    def plan(config):
        batches = plan_batches(files, "r", tmp_path, tmp_path, config)
        assert [f.source_file for b in batches for f in b.files] == [f.source_file for f in files]
        return [b.files for b in batches]

    assert len(plan(RunConfig(workers=1))) == 5  # 1,000 pages of 35 KB in batches of 8 MB
    assert plan(RunConfig(workers=1)) == plan(RunConfig(workers=2)) == plan(RunConfig(workers=4))
    assert len(plan(RunConfig(workers=2, batch_bytes=70_000))) == 500


def test_exact_key_codes_are_equal_exactly_when_the_keys_are_across_chunks_and_runs():
    import pyarrow as pa
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from flows.finalize import _key_codes

    key = st.one_of(st.none(), st.sampled_from(["", "a", "b", "é", "a b"]))

    @settings(max_examples=80, deadline=None)
    @given(st.lists(key, max_size=5), st.lists(st.lists(key, max_size=5), max_size=4))
    def check(old, new_chunks):
        old_t = pa.table({"k": pa.array(old, pa.string())})
        new_t = pa.table({"k": pa.chunked_array([pa.array(c, pa.string()) for c in new_chunks], pa.string())})
        values = old + [v for c in new_chunks for v in c]
        codes = _key_codes(old_t, new_t, "k").tolist()
        assert len(codes) == len(values)
        for v, c in zip(values, codes, strict=True):
            assert (c == -1) == (not v)
        for x in range(len(values)):
            for y in range(len(values)):
                if values[x] and values[y]:
                    assert (codes[x] == codes[y]) == (values[x] == values[y])

    check()


def test_manifest_times_trafilatura_apart_from_the_rest_of_ingest(tmp_path):
    """`html_extract`: the seconds inside trafilatura's extraction, part of `ingest`; a run without
    HTML has none."""
    m = run_pipeline(RAW / "pages", tmp_path / "html-out")
    assert 0 < m["seconds"]["html_extract"] <= m["seconds"]["ingest"]
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED, raw)
    assert "html_extract" not in run_pipeline(raw, tmp_path / "txt-out")["seconds"]
