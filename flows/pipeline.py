"""The core pipeline as plain Python: plan -> process batches (ingest, clean, collapse) -> finalize.

`run_pipeline` runs it without Prefect; flows/flow.py wraps the same three steps as a flow with
one task per batch. Large data moves between steps as Parquet files in OUT_DIR/.staging/<run_id>/.
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import signal
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import cleaners
from cleaners import patterns, recurring
from dedupe.corpus import Corpus, CorpusParams, Sketcher, band_keys
from dedupe.corpus import cluster as corpus_cluster
from dedupe.exact import Candidate, content_hash, url_key
from dedupe.minhash import MinHasher
from dedupe.paragraphs import Collapsed, CollapseParams, collapse
from flows import workers
from flows.config import RunConfig
from flows.ingest import InputFile, discover, domain_of, file_digest, parse_date, read_file, split_jsonl
from flows.records import Article, Reject, Removal
from flows.sink import (
    ARTICLES,
    DUPLICATES,
    REJECTS,
    REMOVALS,
    STAGED_ARTICLES,
    AtomicParquetWriter,
    article_row,
    read_pickle,
    reject_row,
    removal_rows,
    to_table,
    write_json_atomic,
    write_pickle_atomic,
    write_table_atomic,
)
from flows.state import (
    INDEX,
    LEDGER,
    STATE_DIRS,
    RunLock,
    StateCorrupt,
    check_sketch_params,
    read_index,
    read_ledger,
    read_line_counts,
    rebuild_index,
    recover,
    remove_tree,
    table_files,
    write_sketch_params,
)

Progress = Callable[[str, int, int], None]
DEFAULT_COLLAPSE = CollapseParams()


class UsageError(Exception):
    """A configuration problem the user must fix (missing RAW_DIR, unwritable OUT_DIR, ...)."""


class TooManyRejects(Exception):
    """The run finished and wrote everything, but its share of rejects is above max_reject_share."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        c = manifest["counts"]
        super().__init__(f"{c['rejects']} of {c['input_records']} input records were rejected "
                         f"({manifest['reject_share']:.0%}), above --max-reject-share "
                         f"{manifest['config']['max_reject_share']:.0%}; see rejects/ for the reasons")
        self.manifest = manifest


def fault(point: str) -> None:
    """Fault injection for the interruption tests: NEWSCLEAN_FAULT=<point> kills this process there."""
    if os.environ.get("NEWSCLEAN_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class BatchSpec:
    """Everything one batch task needs: small and picklable (paths, not data)."""

    run_id: str
    index: int
    raw_dir: str
    staging_dir: str
    files: tuple[InputFile, ...]
    config: RunConfig


@dataclass
class BatchResult:
    index: int
    articles_path: str
    removals_path: str
    rejects_path: str
    records: int = 0
    articles: int = 0
    rejects: int = 0
    removals: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    removal_reasons: dict[str, int] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    input_bytes: int = 0
    task_run_id: str | None = None  # the Prefect task run that cleaned this batch, when run by the flow
    worker: str = ""  # host:pid of the process that cleaned it


@dataclass
class RunContext:
    run_id: str
    raw_dir: Path
    out_dir: Path
    staging_dir: Path
    config: RunConfig
    lock: RunLock
    batches: list[BatchSpec]
    files_seen: int
    files_new: int
    files_skipped: int
    started: float
    started_at: str
    rolled_back: list[str]
    manifest: dict[str, Any]


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
    batches: list[BatchSpec] = []
    cur: list[InputFile] = []
    size = 0
    for f in (part for whole in files for part in split_jsonl(whole, config.batch_bytes)):
        part_size = (f.end if f.end is not None else f.size) - f.start
        if cur and (size + part_size > config.batch_bytes or len(cur) >= config.batch_files):
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

@dataclass
class IngestResult:
    """What ingest staged for one batch: raw articles (pickle), rejects and line-key counts (Parquet)."""

    index: int
    raw_path: str
    rejects_path: str
    counts_path: str
    records: int = 0
    articles: int = 0
    rejects: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    input_bytes: int = 0


LINE_COUNTS = pa.schema([("key", pa.uint64()), ("site_scope", pa.bool_()), ("n", pa.int64()), ("n_body", pa.int64())])


def _stem(staging: str, index: int) -> Path:
    return Path(staging) / f"batch-{index:05d}"


def ingest_batch(spec: BatchSpec) -> IngestResult:
    """Read one batch of files into raw articles and rejects; count the articles' line keys."""
    t: defaultdict[str, float] = defaultdict(float)
    stem = _stem(spec.staging_dir, spec.index)
    res = IngestResult(spec.index, f"{stem}-raw.pickle", f"{stem}-rejects.parquet", f"{stem}-lines.parquet")
    articles: list[Article] = []
    rej_rows: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter()
    counts: dict[int, list[int]] = {}
    fingerprints: set[int] = set()
    learn = spec.config.recurring_site_min > 0 or spec.config.recurring_global_min > 0
    for f in spec.files:
        t0 = time.perf_counter()
        items = list(read_file(f, spec.config))
        t["ingest"] += time.perf_counter() - t0
        res.input_bytes += (f.end if f.end is not None else f.size) - f.start
        for item in items:
            res.records += 1
            if isinstance(item, Reject):
                rej_rows.append(reject_row(item, spec.run_id))
                rejects[item.reason] += 1
                continue
            art = item.replace(domain=item.domain or domain_of(item.url))
            articles.append(art)
            if learn:
                t0 = time.perf_counter()
                fp = recurring.fingerprint(art.blocks)
                if fp not in fingerprints:
                    fingerprints.add(fp)
                    for key, (site_scope, body) in recurring.article_line_keys(art.blocks, art.domain or art.site).items():
                        c = counts.get(key)
                        if c is None:
                            counts[key] = [int(site_scope), 1, int(body)]
                        else:
                            c[1] += 1
                            c[2] += body
                t["line_counts"] += time.perf_counter() - t0
        if f.start != 0:
            continue  # the ledger row of a sliced file comes with its first slice
        try:
            st = os.stat(f.path)
            with open(f.path, "rb") as fh:
                digest = file_digest(fh.read())
            res.ledger.append({"source_file": f.source_file, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                               "digest": digest, "run_id": spec.run_id})
        except OSError:
            pass
    t0 = time.perf_counter()
    write_pickle_atomic(articles, Path(res.raw_path))
    write_table_atomic(to_table(rej_rows, REJECTS), Path(res.rejects_path))
    keys = list(counts)
    write_table_atomic(pa.table({
        "key": pa.array(keys, pa.uint64()), "site_scope": pa.array([bool(counts[k][0]) for k in keys]),
        "n": pa.array([counts[k][1] for k in keys], pa.int64()), "n_body": pa.array([counts[k][2] for k in keys], pa.int64()),
    }, schema=LINE_COUNTS), Path(res.counts_path))
    t["stage_write"] += time.perf_counter() - t0
    res.articles, res.rejects, res.reject_reasons = len(articles), len(rej_rows), dict(rejects)
    res.seconds = dict(t)
    fault("ingest")
    return res


def learn_recurring(ctx: RunContext, ingested: Sequence[IngestResult]) -> str:
    """Merge this run's line-key counts with earlier runs' and stage the keys judged boilerplate.

    Returns the path of the staged key array (read by clean_batch); the run's own counts are
    staged too, to be committed to state/lines by finalize_run.
    """
    t0 = time.perf_counter()
    run_counts = _sum_counts([pq.read_table(r.counts_path) for r in ingested])
    write_table_atomic(run_counts, ctx.staging_dir / "line-counts.parquet")
    cfg = ctx.config
    policy = recurring.RecurringPolicy(site_min=cfg.recurring_site_min or 10**9,
                                       global_min=cfg.recurring_global_min or 10**9,
                                       max_body_share=cfg.recurring_max_body_share)
    total = _sum_counts([run_counts, read_line_counts(ctx.out_dir)])
    keys = recurring.select_recurring(zip(total.column("key").to_pylist(), total.column("n").to_pylist(),
                                          total.column("n_body").to_pylist(), total.column("site_scope").to_pylist(),
                                          strict=True), policy)
    path = ctx.staging_dir / "recurring-keys.parquet"
    write_table_atomic(pa.table({"key": pa.array(sorted(keys), pa.uint64())}), path)
    ctx.manifest.setdefault("learned", {})["recurring_lines"] = len(keys)
    ctx.manifest.setdefault("seconds_global", {})["learn_recurring"] = round(time.perf_counter() - t0, 4)
    return str(path)


def _sum_counts(tables: Sequence[pa.Table]) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return LINE_COUNTS.empty_table()
    t = pa.concat_tables([x.select(LINE_COUNTS.names).cast(LINE_COUNTS) for x in tables])
    g = t.group_by("key").aggregate([("site_scope", "max"), ("n", "sum"), ("n_body", "sum")])
    return pa.table({"key": g.column("key"), "site_scope": g.column("site_scope_max"),
                     "n": g.column("n_sum"), "n_body": g.column("n_body_sum")}, schema=LINE_COUNTS)


def clean_one(a: Article, config: RunConfig | None = None, recurring_keys: frozenset[int] = frozenset()) -> Article:
    """Run the cleaners over one article; fills captions, removals, author and published_at."""
    cat = patterns.catalogue_with(tuple(config.rules_files)) if config and config.rules_files else None
    res = cleaners.clean_article(a.blocks, title=a.title, site=a.domain or a.site, catalogue=cat,
                                 recurring=recurring_keys, extracted=a.fmt == "html")
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
    articles: list[Article] = read_pickle(Path(ingested.raw_path))
    art_rows: list[dict[str, Any]] = []
    rem_rows: list[dict[str, Any]] = []
    extra_rejects: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter(ingested.reject_reasons)
    removal_reasons: Counter[str] = Counter()
    for item in articles:
        t0 = time.perf_counter()
        art = clean_one(item, spec.config, keys)
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
                          word_count=len(text.split()))
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

def _sketch_arrays(tbl: pa.Table, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(signatures uint32[n, num_perm], n_shingles, flat paragraph keys, their offsets) without Python objects:
    the signature column's data buffer is read as it is (every value is num_perm * 4 bytes)."""
    n = tbl.num_rows
    if not n:
        return (np.empty((0, num_perm), dtype=np.uint32), np.empty(0, np.int64), np.empty(0, np.uint64),
                np.zeros(1, np.int64))
    sig_col = tbl.column("signature").combine_chunks()
    offs = np.frombuffer(sig_col.buffers()[1], dtype=np.int32)[sig_col.offset: sig_col.offset + n + 1]
    if offs[-1] - offs[0] != n * num_perm * 4 or np.any(np.diff(offs) != num_perm * 4):
        raise ValueError(f"signatures of another size than num_perm={num_perm} in the index")
    data = np.frombuffer(sig_col.buffers()[2], dtype="<u4")
    sigs = data[offs[0] // 4: offs[-1] // 4].reshape(n, num_perm)
    sizes = tbl.column("n_shingles").to_numpy(zero_copy_only=False).astype(np.int64)
    pk = tbl.column("para_keys").combine_chunks()
    pk_offsets = pk.offsets.to_numpy().astype(np.int64)
    flat = pk.values.to_numpy(zero_copy_only=False).astype(np.uint64)
    return sigs, sizes, flat, pk_offsets - pk_offsets[0]


def _split(flat: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    return [flat[offsets[i]: offsets[i + 1]] for i in rows]


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """values in sorted_set (a sorted array), by binary search: cheap when the set is small."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    pos = np.searchsorted(sorted_set, values)
    pos[pos == len(sorted_set)] = 0
    return sorted_set[pos] == values


def _reachable_old(index: pa.Table, o_sig: np.ndarray, o_pk: np.ndarray, o_pk_offsets: np.ndarray, new: pa.Table,
                   n_sig: np.ndarray, n_pk: np.ndarray, params: CorpusParams) -> np.ndarray:
    """Mask of the earlier articles that share a band key, a paragraph key, the clean text or the URL
    with at least one new article: the only ones clustering can link to this run. Array work only
    (binary search into the new articles' sorted keys), no Python object per earlier article."""
    hit = np.zeros(index.num_rows, dtype=bool)
    if not index.num_rows or not new.num_rows:
        return hit
    if params.near_duplicates:
        ob = band_keys(o_sig, params.bands, params.rows)
        hit |= _member(ob, np.unique(band_keys(n_sig, params.bands, params.rows))).any(axis=1)
        if len(o_pk) and len(n_pk):
            owners = np.repeat(np.arange(index.num_rows), np.diff(o_pk_offsets))
            hit[owners[_member(o_pk, np.unique(n_pk))]] = True
    for col in ("content_hash", "url_key"):
        values = pc.drop_null(new.column(col))
        if len(values):
            hit |= pc.fill_null(pc.is_in(index.column(col), value_set=pa.array(values.to_pylist(), pa.string())),
                                False).to_numpy(zero_copy_only=False)
    return hit


def build_corpus(index: pa.Table, new: pa.Table, params: CorpusParams) -> tuple[Corpus, np.ndarray]:
    """The earlier articles (state/index) a new one can reach, followed by this run's new ones, as one
    Corpus; and the is_new mask. Unreachable earlier articles could get no edge, so leaving them out
    changes no decision."""
    o_sig, o_size, o_flat, o_offs = _sketch_arrays(index, params.num_perm)
    n_sig, n_size, n_flat, n_offs = _sketch_arrays(new, params.num_perm)
    keep = _reachable_old(index, o_sig, o_flat, o_offs, new, n_sig, n_flat, params)
    rows = np.flatnonzero(keep)
    old = index.take(pa.array(rows, pa.int64()))
    o_sig, o_size, o_pk = o_sig[rows], o_size[rows], _split(o_flat, o_offs, rows)
    n_pk = _split(n_flat, n_offs, np.arange(new.num_rows))
    old_c = [Candidate(a, h, u, p, n or 0, True, c) for a, h, u, p, n, c in zip(
        old.column("article_id").to_pylist(), old.column("content_hash").to_pylist(),
        old.column("url_key").to_pylist(), old.column("published_ts").to_pylist(),
        old.column("text_chars").to_pylist(), old.column("cluster_id").to_pylist(), strict=True)]
    new_c = [Candidate(a, h, u, None if p is None else p.timestamp(), n or 0, False, None) for a, h, u, p, n in zip(
        new.column("article_id").to_pylist(), new.column("content_hash").to_pylist(),
        new.column("url_key").to_pylist(), new.column("published_at").to_pylist(),
        new.column("text_chars").to_pylist(), strict=True)]
    corpus = Corpus(ids=[c.article_id for c in old_c + new_c], signatures=np.concatenate([o_sig, n_sig]),
                    n_shingles=np.concatenate([o_size, n_size]), para_keys=o_pk + n_pk, candidates=old_c + new_c,
                    survivor_of=old.column("survivor_id").to_pylist() + [None] * len(new_c))
    is_new = np.zeros(len(corpus.ids), dtype=bool)
    is_new[len(old_c):] = True
    return corpus, is_new


def load_or_rebuild_index(ctx: RunContext, params: CorpusParams) -> pa.Table:
    """state/index, rebuilt from the tables when it is missing or unreadable while tables exist.

    History is never silently forgotten: a rebuild is noted in the manifest.
    """
    has_tables = bool(table_files(ctx.out_dir, "articles") or table_files(ctx.out_dir, "duplicates"))
    try:
        index = read_index(ctx.out_dir)
    except StateCorrupt:
        index = None
    if index is not None and (index.num_rows or not has_tables):
        return index
    if not has_tables:
        return INDEX.empty_table()
    index, note = rebuild_index(ctx.out_dir, params, ctx.run_id)
    ctx.manifest.setdefault("warnings", []).append(note)
    return index


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
    index = load_or_rebuild_index(ctx, params)
    check_sketch_params(ctx.out_dir, params, index.num_rows)
    seen = set(index.column("article_id").to_pylist())
    # only what clustering needs: ~0.5 KB per article (the signature), never the text
    key_cols = ["article_id", "content_hash", "url_key", "published_at", "text_chars", "signature", "n_shingles",
                "para_keys"]
    staged = [pq.read_table(r.articles_path, columns=key_cols) for r in results]
    new_tbl = pa.concat_tables(staged) if staged else STAGED_ARTICLES.empty_table().select(key_cols)
    fresh_mask = pa.array([a not in seen for a in new_tbl.column("article_id").to_pylist()], pa.bool_())
    unchanged = new_tbl.num_rows - pc.sum(fresh_mask).as_py() if new_tbl.num_rows else 0
    new_tbl = new_tbl.filter(fresh_mask)
    corpus, is_new = build_corpus(index, new_tbl, params)
    decisions, dedupe_stats = corpus_cluster(corpus, is_new, params)
    decision_of = {d.article_id: d for d in decisions}
    t["dedupe"] += time.perf_counter() - t0

    t0 = time.perf_counter()
    rid = ctx.run_id
    writers = {
        "articles": AtomicParquetWriter(ctx.out_dir / "articles" / f"{rid}.parquet", ARTICLES),
        "duplicates": AtomicParquetWriter(ctx.out_dir / "duplicates" / f"{rid}.parquet", DUPLICATES),
        "removals": AtomicParquetWriter(ctx.out_dir / "removals" / f"{rid}.parquet", REMOVALS),
        "rejects": AtomicParquetWriter(ctx.out_dir / "rejects" / f"{rid}.parquet", REJECTS),
    }
    index_parts: list[pa.Table] = []
    seen_arr = pa.array(sorted(seen), pa.string())
    try:
        for n, r in enumerate(results, start=1):
            arts = pq.read_table(r.articles_path)
            if seen:
                arts = arts.filter(pc.invert(pc.is_in(arts.column("article_id"), seen_arr)))
            ids = arts.column("article_id").to_pylist()
            dec = [decision_of[a] for a in ids]
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
            writers["removals"].write(rem.filter(pc.invert(pc.is_in(rem.column("article_id"), seen_arr))) if seen else rem)
            writers["rejects"].write(pq.read_table(r.rejects_path))
            published = arts.column("published_at")
            index_parts.append(pa.table({
                "article_id": arts.column("article_id"),
                "cluster_id": pa.array([d.cluster_id for d in dec], pa.string()),
                "survivor_id": pa.array([d.duplicate_of or d.article_id for d in dec], pa.string()),
                "kept": pc.invert(is_dup),
                "content_hash": arts.column("content_hash"), "url_key": arts.column("url_key"),
                "published_ts": pc.divide(pc.cast(pc.cast(published, pa.timestamp("us")), pa.int64()), 1e6),
                "text_chars": arts.column("text_chars"),
                "run_id": pa.array([rid] * arts.num_rows, pa.string()),
                "signature": arts.column("signature"), "n_shingles": arts.column("n_shingles"),
                "para_keys": arts.column("para_keys"),
            }, schema=INDEX))
            if progress:
                progress("write", n, len(results))
        counts_out = {k: w.rows for k, w in writers.items()}
        for name, w in writers.items():
            w.close()
            if name == "articles":
                fault("between_tables")
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    t["write"] += time.perf_counter() - t0

    records = sum(r.records for r in results)
    landed = counts_out["articles"] + counts_out["duplicates"] + counts_out["rejects"] + unchanged
    if landed != records:
        raise AssertionError(f"accounting error: {records} input records but {landed} landed "
                             f"({counts_out} + {unchanged} unchanged); nothing was committed to state/")

    t0 = time.perf_counter()
    index_new = pa.concat_tables(index_parts) if index_parts else INDEX.empty_table()
    write_table_atomic(index_new, ctx.out_dir / "state" / "index" / f"{rid}.parquet")
    fault("index_update")
    write_sketch_params(ctx.out_dir, params)
    counts_path = ctx.staging_dir / "line-counts.parquet"
    if counts_path.exists():
        write_table_atomic(pq.read_table(counts_path), ctx.out_dir / "state" / "lines" / f"{rid}.parquet")
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
    dup_reasons = Counter(d.reason for d in decisions if d.duplicate_of is not None)
    m = ctx.manifest
    m.update({
        "status": "finished",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "input_records": records, "articles": counts_out["articles"], "duplicates": counts_out["duplicates"],
            "rejects": counts_out["rejects"], "removals": counts_out["removals"],
            "records_already_processed": unchanged, "input_bytes": sum(r.input_bytes for r in results),
        },
        "duplicates_by_reason": dict(sorted(dup_reasons.items())),
        "dedupe": {**dedupe_stats, "index_articles_before": index.num_rows,
                   "index_articles_reachable": int((~is_new).sum()),
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


def fail_run(ctx: RunContext, error: BaseException) -> None:
    """Record a failed run: manifest says so, staged files removed, lock released; no table file is left."""
    try:
        for sub in STATE_DIRS:
            for p in (ctx.out_dir / sub).glob(f"{ctx.run_id}*.parquet"):
                p.unlink(missing_ok=True)
        ctx.manifest.update({"status": "failed", "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "error": f"{type(error).__name__}: {error}"})
        write_json_atomic(ctx.manifest, ctx.out_dir / "runs" / f"{ctx.run_id}.json")
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
