"""Earlier clusters merged by a later run: runs one after another give the partition of one run over
everything.

When a run's articles join two or more earlier clusters (dedupe/corpus.py: a full story arriving
after two briefs of its halves), one run over everything would have made one cluster. The run
that finds this:
* moves every row of each absorbed cluster out of the earlier runs' articles/ and duplicates/ files
  into its own duplicates/ file, with the absorbing `cluster_id`, `duplicate_of` the absorbing
  survivor and its own `run_id` (the run that wrote the row). The absorbed survivor's row says
  `duplicate_reason` `clusters_merged` and `matched_article_id` the new article that joined the
  clusters; the other rows keep their own match. Every input record stays in exactly one of
  articles/, duplicates/, rejects/;
* records the merge in state/merges/<run_id>.parquet, so the index rows of absorbed clusters
  (written by earlier runs, never rewritten) resolve to the absorbing cluster in later runs.

The earlier files are rewritten atomically (temp file + rename) and only at the run's commit; the
originals are kept in the run's staging folder until the run has finished, and a run that fails or
dies before finishing gets them back (`restore`, called by the rollback).

Rewriting costs what reading and writing the earlier files cost (about 100 MB of Parquet a second
here), whatever the number of rows moved, so a run rewrites at most a budget of earlier files
(`RunConfig.merge_rewrite_ratio` times its own input bytes; processing input runs at a few MB a
second per worker, so the default of 10 keeps the rewrite to a fraction of the run). A merge that
would need more is not made: the clusters stay apart, as with `merge_earlier_clusters` False, and
the manifest says how many and why (`plan_moves`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.sink import DUPLICATES, AtomicParquetWriter, fsync_dir, write_table_atomic

MERGES = pa.schema([
    pa.field("cluster_id", pa.string(), nullable=False),  # the absorbed cluster
    pa.field("into_cluster", pa.string(), nullable=False),
    pa.field("survivor_id", pa.string(), nullable=False),  # the absorbing cluster's survivor
    pa.field("run_id", pa.string()),
])
REWRITTEN_TABLES = ("articles", "duplicates")
REPLACED = "replaced"  # the originals of rewritten files, in the run's staging folder


@dataclass(frozen=True)
class Merge:
    """An earlier cluster absorbed by another one in this run."""

    cluster_id: str
    into_cluster: str
    survivor_id: str
    demoted: str  # the absorbed cluster's survivor
    matched: str | None  # the new article that joined the clusters
    similarity: float | None


def read_merges(out_dir: Path) -> dict[str, tuple[str, str]]:
    """cluster_id -> (the cluster it now belongs to, that cluster's survivor), chains followed."""
    d = out_dir / "state" / "merges"
    files = sorted(d.glob("*.parquet")) if d.is_dir() else []
    step: dict[str, tuple[str, str]] = {}
    for f in files:  # run ids sort by time: a later merge of the same cluster wins
        for r in pq.read_table(f, schema=MERGES).to_pylist():
            step[r["cluster_id"]] = (r["into_cluster"], r["survivor_id"])
    resolved: dict[str, tuple[str, str]] = {}
    for c in step:
        seen, target = {c}, step[c]
        while target[0] in step and target[0] not in seen:  # a cycle cannot be written; never loop on one
            seen.add(target[0])
            target = step[target[0]]
        resolved[c] = target
    return resolved


def resolve(index_rows: pa.Table, merges: dict[str, tuple[str, str]]) -> pa.Table:
    """INDEX rows with the cluster and survivor of clusters merged since they were written."""
    if not merges or not index_rows.num_rows:
        return index_rows
    clusters = index_rows.column("cluster_id").to_pylist()
    if not any(c in merges for c in clusters):
        return index_rows
    survivors = index_rows.column("survivor_id").to_pylist()
    for k, c in enumerate(clusters):
        if c in merges:
            clusters[k], survivors[k] = merges[c]
    t = index_rows.set_column(index_rows.schema.get_field_index("cluster_id"), "cluster_id", pa.array(clusters, pa.string()))
    return t.set_column(t.schema.get_field_index("survivor_id"), "survivor_id", pa.array(survivors, pa.string()))


@dataclass
class Rewrite:
    """One earlier table file without the rows of absorbed clusters, staged until the commit."""

    final: Path
    staged: Path


@dataclass
class Plan:
    """The merges a run makes (within its rewrite budget), the earlier files they rewrite, the rest."""

    merges: list[Merge]
    files: list[Path]
    over_budget: list[Merge]
    rewrite_bytes: int


def plan_moves(out_dir: Path, run_id: str, merges: Sequence[Merge], budget_bytes: float) -> Plan:
    """Which merges to make: in cluster order, each one whose earlier files (those holding its rows),
    added to the files already planned, stay within `budget_bytes`."""
    if not merges:
        return Plan([], [], [], 0)
    wanted = pa.array(sorted({m.cluster_id for m in merges}), pa.string())
    files_of: dict[str, set[Path]] = {}
    for table in REWRITTEN_TABLES:
        folder = out_dir / table
        for f in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            if f.stem == run_id:
                continue
            clusters = pq.read_table(f, columns=["cluster_id"]).column("cluster_id")
            for c in pc.unique(clusters.filter(pc.fill_null(pc.is_in(clusters, value_set=wanted), False))).to_pylist():
                files_of.setdefault(c, set()).add(f)
    chosen: set[Path] = set()
    plan = Plan([], [], [], 0)
    for m in sorted(merges, key=lambda m: m.cluster_id):
        need = chosen | files_of.get(m.cluster_id, set())
        size = sum(f.stat().st_size for f in need)
        if size <= budget_bytes:
            chosen, plan.rewrite_bytes = need, size
            plan.merges.append(m)
        else:
            plan.over_budget.append(m)
    plan.files = sorted(chosen)
    return plan


def stage_moves(staging_dir: Path, run_id: str, plan: Plan, duplicates: AtomicParquetWriter) -> tuple[list[Rewrite], int]:
    """Write the planned merges' rows to this run's `duplicates` writer and stage every earlier file
    that held them without them. Returns the staged rewrites and the number of rows moved."""
    by_cluster = {m.cluster_id: m for m in plan.merges}
    if not by_cluster:
        return [], 0
    wanted = pa.array(sorted(by_cluster), pa.string())
    rewrites: list[Rewrite] = []
    moved = 0
    for f in plan.files:
        table = f.parent.name
        pf = pq.ParquetFile(f)
        writer = AtomicParquetWriter(staging_dir / "rewrite" / table / f.name, pf.schema_arrow)
        try:
            for batch in pf.iter_batches(batch_size=65536):
                t = pa.Table.from_batches([batch])
                mask = pc.fill_null(pc.is_in(t.column("cluster_id"), value_set=wanted), False)
                writer.write(t.filter(pc.invert(mask)))
                rows = t.filter(mask)
                if rows.num_rows:
                    duplicates.write(_as_duplicates(rows, table, by_cluster, run_id))
                    moved += rows.num_rows
            rewrites.append(Rewrite(f, writer.close()))
        except BaseException:
            writer.abort()
            raise
    return rewrites, moved


def _as_duplicates(rows: pa.Table, table: str, by_cluster: dict[str, Merge], run_id: str) -> pa.Table:
    """Moved rows as duplicates/ rows of the absorbing cluster, written by this run."""
    merges = [by_cluster[c] for c in rows.column("cluster_id").to_pylist()]
    n = rows.num_rows

    def put(t: pa.Table, name: str, values: pa.Array) -> pa.Table:
        i = t.schema.get_field_index(name)
        return t.set_column(i, name, values) if i >= 0 else t.append_column(name, values)

    rows = put(rows, "cluster_id", pa.array([m.into_cluster for m in merges], pa.string()))
    rows = put(rows, "duplicate_of", pa.array([m.survivor_id for m in merges], pa.string()))
    rows = put(rows, "run_id", pa.array([run_id] * n, pa.string()))
    if table == "articles":  # the absorbed survivor: matched to the new article that joined the clusters
        rows = put(rows, "similarity", pa.array([m.similarity for m in merges], pa.float64()))
        rows = put(rows, "duplicate_reason", pa.array(["clusters_merged"] * n, pa.string()))
        rows = put(rows, "matched_article_id", pa.array([m.matched for m in merges], pa.string()))
    for field in DUPLICATES:  # a file written by an older version may lack a newer column
        if field.name not in rows.column_names:
            rows = rows.append_column(field.name, pa.nulls(n, field.type))
    return rows


def write_merges(out_dir: Path, run_id: str, merges: Iterable[Merge]) -> None:
    rows = [{"cluster_id": m.cluster_id, "into_cluster": m.into_cluster, "survivor_id": m.survivor_id,
             "run_id": run_id} for m in merges]
    if rows:
        write_table_atomic(pa.Table.from_pylist(rows, schema=MERGES), out_dir / "state" / "merges" / f"{run_id}.parquet")


def commit_rewrites(out_dir: Path, staging_dir: Path, rewrites: Iterable[Rewrite]) -> None:
    """Put the staged files in place of the earlier ones; the originals go to the staging folder
    (`restore` puts them back if the run does not finish)."""
    for rw in rewrites:
        backup = staging_dir / REPLACED / rw.final.parent.name / rw.final.name
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.unlink(missing_ok=True)
        os.link(rw.final, backup)  # readers see the old file or the new one, never neither
        os.replace(rw.staged, rw.final)
        fsync_dir(rw.final.parent)


def restore(out_dir: Path, staging_dir: Path) -> int:
    """Put back the earlier files a run that did not finish had rewritten. Returns how many."""
    n = 0
    for table in REWRITTEN_TABLES:
        folder = staging_dir / REPLACED / table
        for backup in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            os.replace(backup, out_dir / table / backup.name)
            n += 1
        if folder.is_dir():
            fsync_dir(out_dir / table)
    return n
