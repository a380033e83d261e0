"""Per-batch steps: ingest (files -> staged raw articles, line counts), the global learning of
recurring lines between the two passes, and clean (clean, collapse, sketch -> staged Parquet).

Each step takes paths and small specs and leaves its results in OUT_DIR/.staging/<run_id>/, so it
can run in this process, in a worker process or on a Dask worker."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import cleaners
from cleaners import patterns, recurring
from cleaners.words import split_count
from dedupe.arrays import sorted_unique
from dedupe.corpus import Sketcher
from dedupe.exact import content_hash, url_key
from dedupe.minhash import MinHasher
from dedupe.paragraphs import Collapsed, CollapseParams, collapse
from flows.config import RunConfig
from flows.ingest import domain_of, extraction_seconds, file_digest, parse_date, read_file
from flows.records import Article, Reject, Removal
from flows.runs import BatchResult, BatchSpec, IngestResult, RunContext, fault
from flows.sink import (
    REJECTS,
    REMOVALS,
    STAGED_ARTICLES,
    AtomicParquetWriter,
    article_row,
    read_pickle,
    reject_row,
    release_arrow_memory,
    release_heap,
    removal_rows,
    to_table,
    write_pickle_atomic,
    write_table_atomic,
)
from flows.state import latest_line_counts

DEFAULT_COLLAPSE = CollapseParams()
# Size of the line-count snapshot in state/lines above which keys seen once are pruned (~25 bytes a key).
LINE_COUNTS_MAX_ROWS = 5_000_000


LINE_COUNTS = pa.schema([("key", pa.uint64()), ("site_scope", pa.bool_()), ("n", pa.int64()), ("n_body", pa.int64())])


def _stem(staging: str, index: int) -> Path:
    return Path(staging) / f"batch-{index:05d}"


def _stories_table(rows: recurring.StoryRows) -> pa.Table:
    """A batch's counted stories as Parquet rows: fingerprint, then its line keys as lists."""
    offsets = pa.array(rows.offsets.astype(np.int32))
    return pa.table({"fp": pa.array(rows.fingerprints, pa.uint64()),
                     "keys": pa.ListArray.from_arrays(offsets, pa.array(rows.keys, pa.uint64())),
                     "site_scope": pa.ListArray.from_arrays(offsets, pa.array(rows.site, pa.bool_())),
                     "body": pa.ListArray.from_arrays(offsets, pa.array(rows.body, pa.bool_()))})


def _story_rows(table: pa.Table) -> recurring.StoryRows:
    def flat(name: str) -> pa.Array:
        return table.column(name).combine_chunks().flatten()

    lists = table.column("keys").combine_chunks()
    offsets = lists.offsets.to_numpy().astype(np.int64) if len(lists) else np.zeros(1, np.int64)
    offsets = offsets - offsets[0]  # a sliced list array's offsets need not start at 0
    return recurring.StoryRows(table.column("fp").to_numpy(), offsets, flat("keys").to_numpy(),
                               flat("site_scope").to_numpy(zero_copy_only=False),
                               flat("body").to_numpy(zero_copy_only=False))


def ingest_batch(spec: BatchSpec) -> IngestResult:
    """Read one batch of files into raw articles and rejects; count the articles' line keys."""
    t: defaultdict[str, float] = defaultdict(float)
    stem = _stem(spec.staging_dir, spec.index)
    res = IngestResult(spec.index, f"{stem}-raw.pickle", f"{stem}-rejects.parquet", f"{stem}-lines.parquet")
    articles: list[Article] = []
    line_keys: list[list[tuple[int, ...]]] = []  # aligned with articles when learning
    rej_rows: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter()
    tally = recurring.KeyTally()  # line-key counts of the batch's distinct stories
    digests: dict[str, str] = {}
    learn = spec.config.recurring_site_min > 0 or spec.config.recurring_global_min > 0
    extract_start = extraction_seconds()
    for f in spec.files:
        t0 = time.perf_counter()
        items = list(read_file(f, spec.config, digests))
        t["ingest"] += time.perf_counter() - t0
        res.input_bytes += (f.end if f.end is not None else f.size) - f.start
        for item in items:
            res.records += 1
            if isinstance(item, Reject):
                rej_rows.append(reject_row(item, spec.run_id))
                rejects[item.reason] += 1
                continue
            articles.append(item.replace(domain=item.domain or domain_of(item.url)))
        if f.start != 0:
            continue  # the ledger row of a sliced file comes with its first slice
        try:
            st = os.stat(f.path)
            digest = digests.get(f.source_file)
            if digest is None:  # not read by ingest (unsupported, over a limit) or read in slices
                with open(f.path, "rb") as fh:
                    digest = file_digest(fh.read())
            res.ledger.append({"source_file": f.source_file, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                               "digest": digest, "run_id": spec.run_id})
        except OSError:
            pass
    extracted = extraction_seconds() - extract_start
    if extracted:
        t["html_extract"] = extracted  # trafilatura's share of ingest
    t0 = time.perf_counter()
    if learn:  # after the reading: run between two HTML pages, this loop was ~1.5x slower (lxml leaves cold caches)
        for art in articles:
            norms = recurring.normal_lines(art.blocks)  # once for the fingerprint and the keys
            lk = recurring.line_keys(norms, art.domain or art.site)  # counted here, looked up by clean
            line_keys.append(lk)
            tally.add(norms, lk, art.domain or art.site, story=recurring.fingerprint(art.blocks, norms))
    stories = tally.stories()
    keys, site_scope, n_articles, n_body = stories.counts()
    t["line_counts"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    write_pickle_atomic((articles, line_keys if learn else None), Path(res.raw_path))
    write_table_atomic(to_table(rej_rows, REJECTS), Path(res.rejects_path))
    _write_counts(pa.table({"key": keys, "site_scope": site_scope, "n": n_articles, "n_body": n_body},
                           schema=LINE_COUNTS), Path(res.counts_path))
    if learn:
        res.stories_path = f"{stem}-stories.parquet"
        write_table_atomic(_stories_table(stories), Path(res.stories_path))
    t["stage_write"] += time.perf_counter() - t0
    res.articles, res.rejects, res.reject_reasons = len(articles), len(rej_rows), dict(rejects)
    res.seconds = dict(t)
    fault("ingest")
    return res


def learn_recurring(ctx: RunContext, ingested: Sequence[IngestResult]) -> str:
    """Merge this run's line-key counts with earlier runs' and stage the keys judged boilerplate.

    Returns the path of the staged key array (read by clean_batch). The merged counts are staged
    too; finalize_run commits them as the new state/lines snapshot. Once the snapshot passes
    LINE_COUNTS_MAX_ROWS keys, keys seen in a single article are dropped from it: a line that
    one article in millions carried is not a template (documented trade-off: such a line needs
    its full threshold again from then on).

    The counts are summed a part of the keys at a time (LINE_COUNT_PARTS ranges of the keys: a
    key's rows all fall in one part): a million articles carry tens of millions of line keys, and
    summing them at once took 1.4 GB. Count files hold a row group per part (`_write_counts`), so
    a part reads only its own rows of each file.
    """
    t0 = time.perf_counter()
    cfg = ctx.config
    policy = recurring.RecurringPolicy(site_min=cfg.recurring_site_min or 10**9,
                                       global_min=cfg.recurring_global_min or 10**9,
                                       max_body_share=cfg.recurring_max_body_share)
    earlier = latest_line_counts(ctx.out_dir)
    sources = [Path(r.counts_path) for r in ingested] + ([earlier] if earlier else [])
    repeats = _repeated_story_counts(ctx, ingested)
    if repeats:
        sources.append(repeats)
    staged = ctx.staging_dir / "line-counts.parquet"
    found: list[np.ndarray] = []
    with AtomicParquetWriter(ctx.staging_dir / "line-counts-all.parquet", LINE_COUNTS) as everything:
        for part in range(LINE_COUNT_PARTS):
            total = _sum_counts([_read_part(src, part) for src in sources])
            if repeats:  # keys only the repeated copies carried are gone
                total = total.filter(pc.greater(total.column("n"), 0))
            col = {name: total.column(name).to_numpy(zero_copy_only=False) for name in ("key", "n", "n_body", "site_scope")}
            found.append(col["key"][recurring.recurring_mask(col["n"], col["n_body"], col["site_scope"], policy)])
            everything.write(total)
            del total, col
            release_arrow_memory()
    written = everything.final
    if everything.rows <= LINE_COUNTS_MAX_ROWS:
        os.replace(written, staged)
    else:
        _write_filtered(written, staged, pc.field("n") > 1)
        written.unlink()
    keys = sorted_unique(np.concatenate(found)) if found else np.empty(0, np.uint64)
    path = ctx.staging_dir / "recurring-keys.parquet"
    write_table_atomic(pa.table({"key": pa.array(keys.astype(np.uint64), pa.uint64())}), path)
    ctx.manifest.setdefault("learned", {})["recurring_lines"] = len(keys)
    ctx.manifest.setdefault("seconds_global", {})["learn_recurring"] = round(time.perf_counter() - t0, 4)
    release_heap()  # the run's line counts stay staged on disk, not in this process
    return str(path)


def _repeated_story_counts(ctx: RunContext, ingested: Sequence[IngestResult]) -> Path | None:
    """The line-key counts of the stories that a batch counted although an earlier batch of the run
    had counted them already (the same `recurring.fingerprint`), negated and staged as Parquet:
    summed with the batches' counts, they leave every story of the run counted once, its first copy
    in run order, which is what counting the run in one batch gives. So the lines learned, and the
    output, do not depend on --batch-mb / --batch-files or on how a large file was sliced.

    Returns None when no story was counted twice. Reads each batch's fingerprints, then the stories
    of the batches that hold repeats (one batch at a time: memory stays a batch's)."""
    with_stories = [r for r in ingested if r.stories_path]
    if len(with_stories) < 2:
        return None
    fps = [pq.read_table(r.stories_path, columns=["fp"]).column("fp").to_numpy() for r in with_stories]
    repeated = recurring.repeated_stories(fps)
    if not any(len(x) for x in repeated):
        return None
    with AtomicParquetWriter(ctx.staging_dir / "line-counts-repeated.parquet", LINE_COUNTS) as writer:
        for r, which in zip(with_stories, repeated, strict=True):
            if not len(which):
                continue
            keys, site_scope, n, n_body = _story_rows(pq.read_table(r.stories_path)).only(which).counts()
            _write_parts(writer, pa.table({"key": keys, "site_scope": site_scope, "n": -n, "n_body": -n_body},
                                          schema=LINE_COUNTS))
    return writer.final


LINE_COUNT_PARTS = 8


def _part_range(part: int) -> tuple[int, int]:
    """The keys of one part, for `learn_recurring`: an equal range of the 64-bit keys (inclusive)."""
    width = 2**64 // LINE_COUNT_PARTS
    return part * width, (2**64 - 1 if part == LINE_COUNT_PARTS - 1 else (part + 1) * width - 1)


def _write_parts(writer: AtomicParquetWriter, counts: pa.Table) -> None:
    """Write counts sorted by key as a row group per part (`_part_range`), so that `_read_part`
    reads only the row groups of its own part."""
    keys = counts.column("key").to_numpy()
    cuts = np.searchsorted(keys, np.array([_part_range(p)[0] for p in range(1, LINE_COUNT_PARTS)], np.uint64))
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(keys)], strict=True):
        writer.write(counts.slice(lo, hi - lo))


def _write_counts(counts: pa.Table, path: Path) -> None:
    with AtomicParquetWriter(path, LINE_COUNTS) as writer:
        _write_parts(writer, counts)


def _read_part(src: Path, part: int) -> pa.Table:
    """The rows of a count file whose keys fall in one part: only the row groups whose key statistics
    meet the part's range are read (all of them in a file not written by part, e.g. by an older
    version), then the rows are filtered."""
    lo, hi = _part_range(part)
    with pq.ParquetFile(src) as f:
        col = f.schema_arrow.get_field_index("key")
        groups = []
        for i in range(f.metadata.num_row_groups):
            st = f.metadata.row_group(i).column(col).statistics
            if st is None or not st.has_min_max or (st.min <= hi and st.max >= lo):
                groups.append(i)
        t = f.read_row_groups(groups) if groups else f.schema_arrow.empty_table()
    key = t.column("key")
    return t.filter(pc.and_(pc.greater_equal(key, pa.scalar(lo, pa.uint64())),
                            pc.less_equal(key, pa.scalar(hi, pa.uint64()))))


def _write_filtered(src: Path, dest: Path, keep: pc.Expression) -> None:
    """Copy the rows of a Parquet file that `keep` selects, a row group at a time."""
    with AtomicParquetWriter(dest, LINE_COUNTS) as out, pq.ParquetFile(src) as f:
        for i in range(f.num_row_groups):
            out.write(f.read_row_group(i).filter(keep))


def _sum_counts(tables: Sequence[pa.Table]) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return LINE_COUNTS.empty_table()
    t = pa.concat_tables([x.select(LINE_COUNTS.names).cast(LINE_COUNTS) for x in tables])
    g = t.group_by("key").aggregate([("site_scope", "max"), ("n", "sum"), ("n_body", "sum")])
    return pa.table({"key": g.column("key"), "site_scope": g.column("site_scope_max"),
                     "n": g.column("n_sum"), "n_body": g.column("n_body_sum")}, schema=LINE_COUNTS)


def clean_one(a: Article, config: RunConfig | None = None, recurring_keys: frozenset[int] = frozenset(),
              line_keys: Sequence[tuple[int, ...]] | None = None) -> Article:
    """Run the cleaners over one article; fills captions, removals, author and published_at.
    `line_keys`: its lines' recurring-line keys as ingest computed them (cleaners.recurring.line_keys)."""
    cat = patterns.catalogue_with(tuple(config.rules_files)) if config and config.rules_files else None
    res = cleaners.clean_article(a.blocks, title=a.title, site=a.domain or a.site, catalogue=cat,
                                 recurring=recurring_keys, extracted=a.fmt == "html", line_keys=line_keys)
    pos = a.block_positions()
    removals = tuple(Removal(pos[r.position], r.line, r.text, r.reason, r.detail) for r in res.removed)
    changes: dict[str, Any] = {"blocks": tuple(res.blocks), "captions": tuple(res.captions),
                               "removals": a.removals + removals, "positions": tuple(pos[p] for p in res.positions)}
    if res.author and not a.author:
        changes["author"] = res.author
    if res.dateline and a.published_at is None:
        changes["published_at"] = parse_date(res.dateline)
    return a.replace(**changes)


def collapse_one(a: Article, params: CollapseParams | None = None,
                 hasher: MinHasher | None = None) -> tuple[Article, Collapsed]:
    """Collapse near-duplicate paragraphs and captions of one cleaned article (dedupe/paragraphs.py).

    Returns the article and the collapse result (its paragraph signatures make the corpus sketch).
    """
    res = collapse(a.blocks, a.captions, params or DEFAULT_COLLAPSE, hasher)
    if not res.dropped and len(res.captions) == len(a.captions):
        return a, res
    pos = a.block_positions()
    removals = []
    for d in res.dropped:
        if d.kept < 0:
            removals.append(Removal(pos[d.index], None, a.blocks[d.index], "duplicate_paragraph",
                                    "repeats a caption, credit or dateline of the article", similarity=d.similarity))
            continue
        if d.replaced:
            detail = f"replaced by the more complete copy at position {pos[d.kept]}"
        else:
            detail = f"near-duplicate of the paragraph kept at position {pos[d.kept]} (similarity {d.similarity:.2f})"
        removals.append(Removal(pos[d.index], None, a.blocks[d.index], "duplicate_paragraph", detail,
                                dup_of=pos[d.kept], similarity=d.similarity))
    art = a.replace(blocks=tuple(res.texts), positions=tuple(pos[i] for i in res.kept), captions=tuple(res.captions),
                    removals=tuple(sorted(a.removals + tuple(removals), key=lambda r: (r.position, r.line or -1))))
    return art, res


def clean_batch(spec: BatchSpec, ingested: IngestResult, recurring_path: str | None = None) -> BatchResult:
    """Clean and collapse one batch of staged raw articles; stage articles, removals and rejects as Parquet."""
    t: defaultdict[str, float] = defaultdict(float)
    stem = _stem(spec.staging_dir, spec.index)
    res = BatchResult(spec.index, f"{stem}-articles.parquet", f"{stem}-removals.parquet", ingested.rejects_path)
    sketcher = Sketcher(spec.config.corpus_params())
    collapse_params = CollapseParams(shingle_words=spec.config.shingle_words)
    keys: frozenset[int] = frozenset()
    if recurring_path:
        keys = frozenset(pq.read_table(recurring_path).column("key").to_pylist())
    articles: list[Article]
    articles, line_keys = read_pickle(Path(ingested.raw_path))
    art_rows: list[dict[str, Any]] = []
    rem_rows: list[dict[str, Any]] = []
    extra_rejects: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter(ingested.reject_reasons)
    removal_reasons: Counter[str] = Counter()
    for n, item in enumerate(articles):
        t0 = time.perf_counter()
        art = clean_one(item, spec.config, keys, line_keys[n] if line_keys is not None else None)
        t["clean"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        art, collapsed = collapse_one(art, collapse_params, sketcher.hasher)
        t["collapse"] += time.perf_counter() - t0
        if not art.blocks:
            rej = Reject(art.source_file, art.source_line, "no_text_after_cleaning",
                         "every paragraph of the article was removed as debris (see removals/ for each line and rule)",
                         item.text[: spec.config.max_reject_raw_chars], art.record_index)
            extra_rejects.append(reject_row(rej, spec.run_id))
            rejects[rej.reason] += 1
            rem_rows.extend(removal_rows(art.article_id, art.removals, spec.run_id))
            continue
        t0 = time.perf_counter()
        sk = sketcher.sketch_collapsed(collapsed)
        t["signatures"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        text = art.text
        row = article_row(art, spec.run_id, content_hash=content_hash(text), url_key=url_key(art.url),
                          word_count=split_count(text))
        row.update(text_chars=len(text), signature=sk.signature.astype("<u4").tobytes(), n_shingles=sk.n_shingles,
                   para_keys=sk.para_keys)
        art_rows.append(row)
        t["dedupe_keys"] += time.perf_counter() - t0
        rem_rows.extend(removal_rows(art.article_id, art.removals, spec.run_id))
        removal_reasons.update(r.reason for r in art.removals)
    t0 = time.perf_counter()
    write_table_atomic(to_table(art_rows, STAGED_ARTICLES), Path(res.articles_path))
    write_table_atomic(to_table(rem_rows, REMOVALS), Path(res.removals_path))
    if extra_rejects:
        rej = pa.concat_tables([pq.read_table(ingested.rejects_path), to_table(extra_rejects, REJECTS)])
        res.rejects_path = f"{stem}-rejects-final.parquet"
        write_table_atomic(rej, Path(res.rejects_path))
    t["stage_write"] += time.perf_counter() - t0
    for k, v in ingested.seconds.items():
        t[k] += v
    res.records, res.input_bytes, res.ledger = ingested.records, ingested.input_bytes, ingested.ledger
    res.articles, res.rejects, res.removals = len(art_rows), ingested.rejects + len(extra_rejects), len(rem_rows)
    res.reject_reasons, res.removal_reasons = dict(rejects), dict(removal_reasons)
    res.seconds = dict(t)
    res.worker = f"{socket.gethostname()}:{os.getpid()}"
    return res


# -------------------------------------------------------------------------------------- finalize
