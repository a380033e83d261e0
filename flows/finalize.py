"""The global step of a run: cluster this run's articles against each other and against earlier
runs (only the earlier ones a new article can reach), write every table, commit state, finish the
manifest."""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dedupe.arrays import sorted_unique, unique_counts
from dedupe.corpus import Corpus, CorpusParams, ParaKeys, band_keys, singleton
from dedupe.corpus import cluster as corpus_cluster
from dedupe.exact import CandidateColumns
from dedupe.minhash import HASH_SCHEME
from flows import history, keyindex
from flows.ids import compact_ids
from flows.runs import BatchResult, Progress, RunContext, TooManyRejects, fault
from flows.sink import (
    ARTICLES,
    DUPLICATES,
    REJECTS,
    REMOVALS,
    STAGED_ARTICLES,
    AtomicParquetWriter,
    commit,
    release_arrow_memory,
    release_heap,
    write_json_atomic,
    write_table_atomic,
)
from flows.state import (
    INDEX,
    LEDGER,
    StateCorrupt,
    check_sketch_params,
    index_files,
    line_count_files,
    outdated_token_hash,
    read_index_file,
    rebuild_index,
    remove_tree,
    table_files,
    write_sketch_params,
)


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """values in sorted_set (a sorted array), by binary search: cheap when the set is small."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    pos = np.searchsorted(sorted_set, values)
    pos[pos == len(sorted_set)] = 0
    return sorted_set[pos] == values


@dataclass
class IndexPart:
    """One state/index file: its memory-mapped lookup store (state/keys/), or its rows read from Parquet
    when it has no usable store (an index rebuilt or written by an older version): then it is scanned."""

    stem: str
    n: int
    store: keyindex.Store | None = None
    table: pa.Table | None = None
    out_dir: Path | None = None  # where to read the Parquet files from when the store turns out damaged

    def scan_instead(self) -> None:
        """The store could not be read (a damaged file): read its index files and scan them instead."""
        if self.store is None or self.out_dir is None:
            raise StateCorrupt(f"lookup store {self.stem} is unreadable and there is no index file to fall back on")
        self.table = pa.concat_tables([read_index_file(self.out_dir, stem) for stem, _ in self.store.files])
        remove_tree(self.store.folder)  # derived data: this run's compaction writes it again
        self.store = None


_STORE_ERRORS = (OSError, ValueError, EOFError, pa.ArrowException)


NEW_COLUMNS = ["article_id", "content_hash", "url_key", "published_at", "text_chars", "n_shingles"]


@dataclass
class NewArticles:
    """This run's articles as clustering needs them: the small key columns as a table (NEW_COLUMNS),
    the signatures and paragraph keys as arrays (never the text)."""

    table: pa.Table
    signatures: np.ndarray  # uint32[n, num_perm]
    para_keys: ParaKeys

    @classmethod
    def of_table(cls, tbl: pa.Table, num_perm: int) -> NewArticles:
        """From a table with the staged articles' key and sketch columns."""
        sigs, _, flat, offsets = keyindex.sketch_arrays(tbl, num_perm)
        return cls(tbl.select(NEW_COLUMNS), sigs, ParaKeys(flat, offsets))

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def read_new_articles(paths: Sequence[str | Path], parts: Sequence[IndexPart], num_perm: int) -> tuple[NewArticles, pa.Array]:
    """This run's staged articles (their key columns, `NewArticles`) without the ones an earlier run
    already processed (`seen_before`), which come back apart as their ids.

    Read a file at a time, the signatures and paragraph keys copied into one array each as they
    come: neither (~0.5 KB and ~0.15 KB an article) is ever held twice."""
    metas = [pq.ParquetFile(p).metadata for p in paths]
    total = sum(m.num_rows for m in metas)
    sigs = np.empty((total, num_perm), dtype=np.uint32)
    flat = np.empty(sum(_para_slots(m) for m in metas), dtype=np.uint64)
    row = at = 0
    tables: list[pa.Table] = []
    lens: list[np.ndarray] = []
    seen: list[pa.Array] = []
    for path in paths:
        tbl = pq.read_table(path, columns=[*NEW_COLUMNS, "signature", "para_keys"])
        ids = tbl.column("article_id").combine_chunks()
        mask = seen_before(parts, ids)
        if mask.any():
            seen.append(ids.filter(pa.array(mask)))
            tbl = tbl.filter(pa.array(~mask))
        for view in keyindex.signature_views(tbl, num_perm):
            sigs[row: row + len(view)] = view
            row += len(view)
        keys, offsets = keyindex.para_arrays(tbl)
        flat[at: at + len(keys)] = keys
        at += len(keys)
        lens.append(np.diff(offsets))
        tables.append(tbl.select(NEW_COLUMNS))  # the signature and paragraph-key buffers go with tbl
        del tbl
    table = pa.concat_tables(tables) if tables else STAGED_ARTICLES.empty_table().select(NEW_COLUMNS)
    para = ParaKeys(flat[:at], np.r_[np.int64(0), np.cumsum(np.concatenate(lens))] if lens else np.zeros(1, np.int64))
    seen_ids = pa.concat_arrays(seen) if seen else pa.array([], pa.string())
    return NewArticles(table, sigs[:row] if row < total else sigs, para), seen_ids


def _para_slots(meta: pq.FileMetaData) -> int:
    """An upper bound of a staged file's paragraph keys, from its metadata: the values of the list
    column's leaf (an empty list takes a slot too)."""
    leaf = [i for i in range(meta.num_columns) if meta.schema.column(i).path.startswith("para_keys.")]
    return sum(meta.row_group(r).column(c).num_values for r in range(meta.num_row_groups) for c in leaf)


@dataclass
class NewKeys:
    """What earlier articles are looked up by: this run's band keys, paragraph keys and exact keys."""

    bands: np.ndarray
    paras: np.ndarray
    exact_values: list[str]
    exact_hashes: np.ndarray


def _new_keys(new: NewArticles, params: CorpusParams) -> NewKeys:
    values = sorted({v for col in ("content_hash", "url_key") for v in new.table.column(col).to_pylist() if v})
    hashes = sorted_unique(keyindex.hash_strings(pa.array(values, pa.string()))[0])
    if not params.near_duplicates:
        return NewKeys(np.empty(0, np.uint64), np.empty(0, np.uint64), values, hashes)
    return NewKeys(sorted_unique(band_keys(new.signatures, params.bands, params.rows).ravel()),
                   sorted_unique(new.para_keys.flat), values, hashes)


def _held_by_few(values: np.ndarray, wanted: np.ndarray, cap: int) -> np.ndarray:
    """Mask over `values`: in `wanted` (sorted) and held at most `cap` times (as the lookup store's rule)."""
    mask = _member(values, wanted)
    if mask.any():
        found, counts = unique_counts(values[mask])
        crowded = found[counts > cap]
        if len(crowded):
            mask &= ~_member(values, crowded)
    return mask


def _scan_reachable(index: pa.Table, keys: NewKeys, params: CorpusParams) -> np.ndarray:
    """Rows of an index table that share a band key, a paragraph key, the clean text or the URL with a new
    article, by array operations over the whole table (no Python object per earlier article)."""
    hit = np.zeros(index.num_rows, dtype=bool)
    if not index.num_rows:
        return np.empty(0, np.int64)
    if params.near_duplicates:
        bk = keyindex.table_band_keys(index, params).ravel()
        o_pk, o_offs = keyindex.para_arrays(index)
        owners = np.repeat(np.arange(index.num_rows), params.bands)
        hit[owners[_held_by_few(bk, keys.bands, params.max_bucket)]] = True
        if len(o_pk) and len(keys.paras):
            owners = np.repeat(np.arange(index.num_rows), np.diff(o_offs))
            hit[owners[_held_by_few(o_pk, keys.paras, params.max_bucket)]] = True
    if keys.exact_values:
        value_set = pa.array(keys.exact_values, pa.string())
        for col in ("content_hash", "url_key"):
            hit |= pc.fill_null(pc.is_in(index.column(col), value_set=value_set), False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(hit)


def reachable_old(parts: Sequence[IndexPart], new: NewArticles | pa.Table, params: CorpusParams) -> pa.Table:
    """The earlier articles that share a band key, a paragraph key, the clean text or the URL with at
    least one new article: the only ones clustering can link to this run (INDEX rows). `new` may be
    a table of staged articles (`NewArticles.of_table`).

    An index file with a lookup store is searched by binary search and only the reachable rows are
    read (memory-mapped); one without is scanned."""
    if not new.num_rows or not parts:
        return INDEX.empty_table()
    if isinstance(new, pa.Table):
        new = NewArticles.of_table(new, params.num_perm)
    keys = _new_keys(new, params)
    found = []
    for part in parts:
        if part.store is not None:
            try:
                rows = part.store.reachable(keys.bands, keys.paras, keys.exact_hashes, params.max_bucket)
                found.append(part.store.take(rows))
                continue
            except _STORE_ERRORS:
                part.scan_instead()
        if part.table is not None:
            found.append(part.table.take(pa.array(_scan_reachable(part.table, keys, params), pa.int64())))
    return pa.concat_tables(found).combine_chunks() if found else INDEX.empty_table()


def seen_before(parts: Sequence[IndexPart], ids: pa.Array) -> np.ndarray:
    """Mask over `ids`: the articles an earlier run already processed (a re-run over the same inputs)."""
    mask = np.zeros(len(ids), dtype=bool)
    if not len(ids):
        return mask
    hashes = keyindex.hash_strings(ids)[0] if any(p.store is not None for p in parts) else np.empty(0, np.uint64)
    for part in parts:
        if part.store is not None:
            try:
                mask |= part.store.seen(ids, hashes)
                continue
            except _STORE_ERRORS:
                part.scan_instead()
        if part.table is not None and part.table.num_rows:
            mask |= pc.is_in(ids, value_set=part.table.column("article_id")).to_numpy(zero_copy_only=False)
    return mask


def _key_codes(old: pa.Table, new: pa.Table, name: str) -> np.ndarray:
    """int64 codes of a string key column over old + new rows (dedupe.exact.CandidateColumns): equal
    strings, equal codes (one dictionary for all rows); -1 for a null or empty key.

    Encoded a chunk at a time (Arrow's dictionary_encode of a chunked column gives every chunk the
    one dictionary of all of them): a million keys are never copied into one array first."""
    values = pa.chunked_array([c for t in (old, new) for c in t.column(name).cast(pa.string()).chunks], pa.string())
    enc = pc.dictionary_encode(values)
    if not _one_dictionary(enc):  # not seen with pyarrow 26; kept correct should that change
        enc = pa.chunked_array([pc.dictionary_encode(values.combine_chunks())])
    codes = np.empty(len(values), dtype=np.int64)
    if not enc.num_chunks:
        return codes
    dictionary = enc.chunk(enc.num_chunks - 1).dictionary
    usable = pc.fill_null(pc.not_equal(pc.utf8_length(dictionary), 0), False).to_numpy(zero_copy_only=False)
    at = 0
    for chunk in enc.chunks:
        idx = pc.fill_null(chunk.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
        ok = idx >= 0
        ok[ok] = usable[idx[ok]]
        codes[at: at + len(idx)] = np.where(ok, idx, -1)
        at += len(idx)
    return codes


def _one_dictionary(enc: pa.ChunkedArray) -> bool:
    """Do all chunks of a dictionary-encoded column share one dictionary (the same buffers)?"""
    addresses = {tuple(b.address if b is not None else 0 for b in ch.dictionary.buffers()) for ch in enc.chunks}
    return len(addresses) <= 1


def _epoch_seconds(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A timestamp column as float seconds since the epoch (the index's published_ts), nulls kept."""
    return pc.divide(pc.cast(pc.cast(col, pa.timestamp("us")), pa.int64()), 1e6)


def _floats(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """float64, NaN for nulls."""
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def _ints(col: pa.ChunkedArray) -> np.ndarray:
    """int64, 0 for nulls."""
    return pc.fill_null(pc.cast(col, pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def build_corpus(old: pa.Table, new: NewArticles | pa.Table, params: CorpusParams) -> tuple[Corpus, np.ndarray]:
    """The reachable earlier articles (`reachable_old`) followed by this run's new ones, as one Corpus;
    and the is_new mask. Unreachable earlier articles could get no edge, so leaving them out changes
    no decision. `new` may be a table of staged articles (`NewArticles.of_table`)."""
    if isinstance(new, pa.Table):
        new = NewArticles.of_table(new, params.num_perm)
    o_sig, o_size, o_flat, o_offs = keyindex.sketch_arrays(old, params.num_perm)
    n_tbl, n_para = new.table, new.para_keys
    ids = compact_ids([old.column("article_id"), n_tbl.column("article_id")])
    content_codes = _key_codes(old, n_tbl, "content_hash")
    release_arrow_memory()  # the dictionary of a million keys, before the next one's
    url_codes = _key_codes(old, n_tbl, "url_key")
    release_arrow_memory()
    cands = CandidateColumns(
        ids, content_codes, url_codes,
        np.concatenate([_floats(old.column("published_ts")), _floats(_epoch_seconds(n_tbl.column("published_at")))]),
        np.concatenate([_ints(old.column("text_chars")), _ints(n_tbl.column("text_chars"))]),
        np.r_[np.ones(old.num_rows, bool), np.zeros(new.num_rows, bool)],
        old.column("cluster_id").to_pylist() + [None] * new.num_rows)
    # the new signatures are used as they are when no earlier article is reachable (a first run)
    signatures = np.concatenate([o_sig, new.signatures]) if len(o_sig) else new.signatures
    para_keys = (ParaKeys(np.concatenate([o_flat, n_para.flat]), np.concatenate([o_offs[:-1], n_para.offsets + o_offs[-1]]))
                 if old.num_rows else n_para)
    n_shingles = np.concatenate([o_size, _ints(n_tbl.column("n_shingles"))])
    corpus = Corpus(ids=ids, signatures=signatures, n_shingles=n_shingles, para_keys=para_keys, candidates=cands,
                    survivor_of=old.column("survivor_id").to_pylist() + [None] * new.num_rows)
    is_new = np.zeros(len(corpus.ids), dtype=bool)
    is_new[old.num_rows:] = True
    return corpus, is_new


def _open_parts(out_dir: Path, params: CorpusParams) -> list[IndexPart]:
    """Every state/index file: through a usable lookup store (several files may share one), else its
    rows read from Parquet (StateCorrupt when unreadable)."""
    try:
        files = index_files(out_dir)
    except (pa.ArrowException, OSError) as exc:
        raise StateCorrupt(f"state/index in {out_dir} is unreadable: {exc}") from exc
    stores = keyindex.find_stores(out_dir, files, params)
    covered = {f for st in stores for f, _ in st.files}
    parts = [IndexPart(st.stem, st.n, st, None, out_dir) for st in stores]
    parts += [IndexPart(stem, n, None, read_index_file(out_dir, stem)) for stem, n in files if stem not in covered]
    return parts


def load_or_rebuild_index(ctx: RunContext, params: CorpusParams) -> list[IndexPart]:
    """state/index as parts (see IndexPart), rebuilt from the tables when it is missing or unreadable
    while tables exist.

    History is never silently forgotten: a rebuild is noted in the manifest.
    """
    has_tables = bool(table_files(ctx.out_dir, "articles") or table_files(ctx.out_dir, "duplicates"))
    old_hash = outdated_token_hash(ctx.out_dir, params) if has_tables else None
    try:
        parts: list[IndexPart] | None = _open_parts(ctx.out_dir, params) if old_hash is None else None
    except StateCorrupt:
        parts = None
    if parts is not None and (any(p.n for p in parts) or not has_tables):
        return parts
    if not has_tables:
        return []
    reason = (f"state/index holds signatures made with the token hash {old_hash}, this version uses {HASH_SCHEME}"
              if old_hash else "state/index was missing or unreadable")
    index, note = rebuild_index(ctx.out_dir, params, ctx.run_id, reason,
                                "index-outdated" if old_hash else "index-broken")
    ctx.manifest.setdefault("warnings", []).append(note)
    stem = f"{ctx.run_id}-rebuilt"
    keyindex.write_keys(ctx.out_dir, stem, index, params)  # later runs look it up like any other index file
    write_sketch_params(ctx.out_dir, params)  # the index now holds this version's signatures
    return _open_parts(ctx.out_dir, params)


def finalize_run(ctx: RunContext, results: Sequence[BatchResult], progress: Progress | None = None) -> dict[str, Any]:
    """Cluster the batch's articles against each other and against earlier runs; write every table;
    commit state; finish the manifest. Returns the manifest."""
    t: defaultdict[str, float] = defaultdict(float)
    for r in results:
        for k, v in r.seconds.items():
            t[k] += v
    results = sorted(results, key=lambda r: r.index)
    t0 = time.perf_counter()
    params = ctx.config.corpus_params()
    parts = load_or_rebuild_index(ctx, params)
    index_rows = sum(p.n for p in parts)
    check_sketch_params(ctx.out_dir, params, index_rows)
    # only what clustering needs: ~0.5 KB per article (the signature), never the text
    new, seen = read_new_articles([r.articles_path for r in results], parts, params.num_perm)
    release_heap()  # the files' temporaries, scattered over the heap: before the corpus is assembled
    unchanged = len(seen)
    old = history.resolve(reachable_old(parts, new, params), history.read_merges(ctx.out_dir))
    corpus, is_new = build_corpus(old, new, params)
    del new, old  # the corpus holds what clustering needs (memory: one copy of the signatures)
    release_heap()
    # a new article absent from decision_of is the survivor of its own cluster (`singleton`)
    decisions, dedupe_stats = corpus_cluster(corpus, is_new, params, singletons=False)
    reachable = int((~is_new).sum())
    del corpus, is_new
    release_heap()
    # decisions about earlier articles: survivors of earlier clusters this run merged into another
    merges = [history.Merge(d.merged_cluster, d.cluster_id, d.duplicate_of or "", d.article_id, d.matched,
                            d.similarity) for d in decisions if d.merged_cluster]
    decision_of = {d.article_id: d for d in decisions if not d.merged_cluster}
    plan = history.plan_moves(ctx.out_dir, ctx.run_id, merges,
                              ctx.config.merge_rewrite_ratio * sum(r.input_bytes for r in results))
    if plan.over_budget:
        apart = len(plan.over_budget)
        dedupe_stats["earlier_clusters_merged"] -= apart
        dedupe_stats["earlier_clusters_left_apart"] = dedupe_stats.get("earlier_clusters_left_apart", 0) + apart
        made = f"; {len(plan.merges)} merges made ({plan.rewrite_bytes / 1e6:.1f} MB rewritten)" if plan.merges else ""
        ctx.manifest.setdefault("warnings", []).append(
            f"{apart} earlier clusters that this run's articles join were left apart: merging them would rewrite "
            f"more earlier files than the budget (merge_rewrite_ratio {ctx.config.merge_rewrite_ratio:g} x this "
            f"run's input){made}")
    t["dedupe"] += time.perf_counter() - t0

    t0 = time.perf_counter()
    rid = ctx.run_id
    writers = {
        "articles": AtomicParquetWriter(ctx.out_dir / "articles" / f"{rid}.parquet", ARTICLES),
        "duplicates": AtomicParquetWriter(ctx.out_dir / "duplicates" / f"{rid}.parquet", DUPLICATES),
        "removals": AtomicParquetWriter(ctx.out_dir / "removals" / f"{rid}.parquet", REMOVALS),
        "rejects": AtomicParquetWriter(ctx.out_dir / "rejects" / f"{rid}.parquet", REJECTS),
    }
    # this run's index rows are streamed to a staged file, committed to state/index/ after the lookup store
    index_writer = AtomicParquetWriter(ctx.staging_dir / "index" / f"{rid}.parquet", INDEX)
    try:
        for n, r in enumerate(results, start=1):
            arts = pq.read_table(r.articles_path)
            if len(seen):
                arts = arts.filter(pc.invert(pc.is_in(arts.column("article_id"), value_set=seen)))
            ids = arts.column("article_id").to_pylist()
            dec = [decision_of.get(a) or singleton(a) for a in ids]
            arts = arts.set_column(arts.schema.get_field_index("cluster_id"), "cluster_id",
                                   pa.array([d.cluster_id for d in dec], pa.string()))
            is_dup = pa.array([d.duplicate_of is not None for d in dec], pa.bool_())
            writers["articles"].write(arts.filter(pc.invert(is_dup)))
            dups = [d for d in dec if d.duplicate_of is not None]
            writers["duplicates"].write(
                arts.filter(is_dup)
                .append_column("duplicate_of", pa.array([d.duplicate_of for d in dups], pa.string()))
                .append_column("similarity", pa.array([d.similarity for d in dups], pa.float64()))
                .append_column("duplicate_reason", pa.array([d.reason for d in dups], pa.string()))
                .append_column("matched_article_id", pa.array([d.matched for d in dups], pa.string())))
            rem = pq.read_table(r.removals_path)
            writers["removals"].write(
                rem.filter(pc.invert(pc.is_in(rem.column("article_id"), value_set=seen))) if len(seen) else rem)
            writers["rejects"].write(pq.read_table(r.rejects_path))
            published = arts.column("published_at")
            index_writer.write(pa.table({
                "article_id": arts.column("article_id"),
                "cluster_id": pa.array([d.cluster_id for d in dec], pa.string()),
                "survivor_id": pa.array([d.duplicate_of or d.article_id for d in dec], pa.string()),
                "kept": pc.invert(is_dup),
                "content_hash": arts.column("content_hash"), "url_key": arts.column("url_key"),
                "published_ts": _epoch_seconds(published),
                "text_chars": arts.column("text_chars"),
                "run_id": pa.array([rid] * arts.num_rows, pa.string()),
                "signature": arts.column("signature"), "n_shingles": arts.column("n_shingles"),
                "para_keys": arts.column("para_keys"),
            }, schema=INDEX))
            if progress:
                progress("write", n, len(results))
        rewrites, moved = history.stage_moves(ctx.staging_dir, rid, plan, writers["duplicates"])
        counts_out = {k: w.rows for k, w in writers.items()}
        staged_index = index_writer.close()
        for name, w in writers.items():
            w.close()
            if name == "articles":
                fault("between_tables")
    except BaseException:
        for w in [*writers.values(), index_writer]:
            w.abort()
        raise
    t["write"] += time.perf_counter() - t0

    records = sum(r.records for r in results)
    landed = counts_out["articles"] + counts_out["duplicates"] + counts_out["rejects"] + unchanged - moved
    if landed != records:
        raise AssertionError(f"accounting error: {records} input records but {landed} landed "
                             f"({counts_out} + {unchanged} unchanged); nothing was committed to state/")

    t0 = time.perf_counter()
    history.write_merges(ctx.out_dir, rid, plan.merges)
    history.commit_rewrites(ctx.out_dir, ctx.staging_dir, rewrites)
    fault("history_rewrite")
    dup_reasons = Counter(d.reason for d in decision_of.values() if d.duplicate_of is not None)
    del decisions, decision_of, merges, plan  # written: the lookup store gets their memory
    release_arrow_memory()
    keyindex.write_keys(ctx.out_dir, rid, staged_index, params)  # read a row group at a time; before the index file: never stale
    index_final = ctx.out_dir / "state" / "index" / f"{rid}.parquet"
    index_final.parent.mkdir(parents=True, exist_ok=True)
    commit(staged_index, index_final)  # the staging folder is inside OUT_DIR: one file system
    fault("index_update")
    write_sketch_params(ctx.out_dir, params)
    try:  # the lookup stores only speed later runs up: a failure here never fails this run
        stores: dict[str, Any] = keyindex.compact(ctx.out_dir, index_files(ctx.out_dir), params,
                                                  lambda stem: read_index_file(ctx.out_dir, stem))
    except (OSError, ValueError, pa.ArrowException, StateCorrupt) as exc:
        stores = {"error": f"{type(exc).__name__}: {exc}"}
        ctx.manifest.setdefault("warnings", []).append(
            f"could not update the lookup stores in state/keys/ ({exc}); later runs scan the index files instead")
    counts_path = ctx.staging_dir / "line-counts.parquet"
    if counts_path.exists():
        snapshot = ctx.out_dir / "state" / "lines" / f"{rid}.parquet"
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        commit(counts_path, snapshot)  # moved, not read: it can hold millions of keys
    ledger_rows = [row for r in results for row in r.ledger]
    write_table_atomic(pa.Table.from_pylist(ledger_rows, schema=LEDGER), ctx.out_dir / "state" / "ledger" / f"{rid}.parquet")
    t["state"] += time.perf_counter() - t0
    records_total = max(records, 1)
    reject_share = counts_out["rejects"] / records_total
    if reject_share > ctx.config.warn_reject_share:  # a broken scraper must not look like a quiet day
        ctx.manifest.setdefault("warnings", []).append(
            f"{counts_out['rejects']} of {records} input records were rejected ({reject_share:.0%}): "
            "check the scraper; rejects/ says why for each")

    reject_reasons: Counter[str] = Counter()
    removal_reasons: Counter[str] = Counter()
    for r in results:
        reject_reasons.update(r.reject_reasons)
        removal_reasons.update(r.removal_reasons)
    m = ctx.manifest
    m.update({
        "status": "finished",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "input_records": records, "articles": counts_out["articles"], "duplicates": counts_out["duplicates"] - moved,
            "rejects": counts_out["rejects"], "removals": counts_out["removals"],
            "records_already_processed": unchanged, "earlier_rows_moved": moved, "input_bytes": sum(r.input_bytes for r in results),
        },
        "duplicates_by_reason": dict(sorted(dup_reasons.items())),
        "dedupe": {**dedupe_stats, "index_articles_before": index_rows, "index_stores": stores,
                   "index_articles_reachable": reachable,
                   "params": {k: getattr(params, k) for k in ("num_perm", "shingle_words", "bands", "rows", "jaccard",
                                                               "containment", "window_days")}},
        "rejects_by_reason": dict(reject_reasons.most_common()),
        "removals_by_reason": dict(removal_reasons.most_common()),
        "seconds": {k: round(v, 4) for k, v in sorted(t.items())} | {
            "total": round(time.perf_counter() - ctx.started, 4)},
        "tables": {k: f"{k}/{rid}.parquet" for k in writers},
        "reject_share": round(reject_share, 4),
        "batch_task_runs": [r.task_run_id for r in results if r.task_run_id],
        "batch_workers": sorted({r.worker for r in results}),
    })
    write_json_atomic(m, ctx.out_dir / "runs" / f"{rid}.json")
    # committed: older line-count snapshots are superseded (removed only now, so a rollback of this
    # run leaves the previous snapshot in place)
    for older in line_count_files(ctx.out_dir):
        if older.name < f"{rid}.parquet":
            older.unlink(missing_ok=True)
    remove_tree(ctx.staging_dir)
    _remove_empty(ctx.out_dir / ".staging")
    ctx.lock.release()
    limit = ctx.config.max_reject_share
    if limit is not None and reject_share > limit:
        raise TooManyRejects(m)
    return m



def _remove_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()
