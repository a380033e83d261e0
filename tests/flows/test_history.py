"""Merged earlier clusters (flows/history.py): the merge record resolves through chains, index rows follow it."""

from __future__ import annotations

import pyarrow as pa

from flows.history import MERGES, read_merges, resolve
from flows.sink import write_table_atomic
from flows.state import INDEX


def _merge_file(out, run_id, rows):
    write_table_atomic(pa.Table.from_pylist([dict(r, run_id=run_id) for r in rows], schema=MERGES),
                       out / "state" / "merges" / f"{run_id}.parquet")


def test_merges_resolve_through_chains_and_index_rows_follow(tmp_path):
    assert read_merges(tmp_path) == {}
    _merge_file(tmp_path, "r2", [{"cluster_id": "x", "into_cluster": "y", "survivor_id": "sy"}])
    _merge_file(tmp_path, "r3", [{"cluster_id": "y", "into_cluster": "z", "survivor_id": "sz"},
                                 {"cluster_id": "q", "into_cluster": "w", "survivor_id": "sw"}])
    merges = read_merges(tmp_path)
    assert merges == {"x": ("z", "sz"), "y": ("z", "sz"), "q": ("w", "sw")}
    rows = [{"article_id": a, "cluster_id": c, "survivor_id": s} for a, c, s in
            [("a1", "x", "a1"), ("a2", "x", "a1"), ("b1", "y", "b1"), ("c1", "c", "c1")]]
    index = pa.Table.from_pylist(rows, schema=INDEX)
    got = resolve(index, merges)
    assert got.column("cluster_id").to_pylist() == ["z", "z", "z", "c"]
    assert got.column("survivor_id").to_pylist() == ["sz", "sz", "sz", "c1"]
    assert got.column("article_id").to_pylist() == ["a1", "a2", "b1", "c1"]


def test_a_cycle_in_the_merge_record_does_not_hang(tmp_path):
    _merge_file(tmp_path, "r2", [{"cluster_id": "x", "into_cluster": "y", "survivor_id": "sy"},
                                 {"cluster_id": "y", "into_cluster": "x", "survivor_id": "sx"}])
    assert set(read_merges(tmp_path)) == {"x", "y"}


def test_merges_are_planned_within_the_rewrite_budget_in_cluster_order(tmp_path):
    from flows.history import Merge, plan_moves

    def table_file(name, clusters, pad):
        write_table_atomic(pa.table({"cluster_id": clusters, "text": [pad] * len(clusters)}),
                           tmp_path / "articles" / f"{name}.parquet")
        return tmp_path / "articles" / f"{name}.parquet"

    small = table_file("r1", ["x", "y"], "short")
    big = table_file("r2", ["z", "w"], "long text " * 20000)
    table_file("r3", ["z"], "this run's own file is never rewritten")
    merges = [Merge(c, "into", "s", "d-" + c, "new", 0.9) for c in ("z", "x", "y")]
    plan = plan_moves(tmp_path, "r3", merges, small.stat().st_size + 10)
    assert [m.cluster_id for m in plan.merges] == ["x", "y"] and [m.cluster_id for m in plan.over_budget] == ["z"]
    assert plan.files == [small] and plan.rewrite_bytes == small.stat().st_size
    everything = plan_moves(tmp_path, "r3", merges, small.stat().st_size + big.stat().st_size)
    assert everything.files == [small, big] and not everything.over_budget
    assert plan_moves(tmp_path, "r3", [], 0).files == []
