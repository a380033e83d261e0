"""Incremental equals batch: the same raw folder as one run and as K runs one after another into
one output folder; how far the two partitions are apart.

    python bench/incremental.py RAW_DIR [--parts 3] [--hash] [--json OUT]

The files of RAW_DIR (sorted by name) go to K parts by position (file i to part i mod K), or with
--hash by a hash of the name; each part is copied to a temporary folder and run after the previous
one. Reported: the clusters found only by one run or only by the K runs, the adjusted Rand index
between the two partitions (1.0: the same), rows moved by merges of earlier clusters, and the
duplicates whose `duplicate_of` points at an article of a later run than their own (must be 0).
Inputs are identified by (source_file, source_line), so a JSONL record is one item.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
from timing import emit  # bench/timing.py (the scripts run as files)

from flows.pipeline import run_pipeline

Key = tuple[str, int | None]


def rows(out: Path, table: str, columns: list[str]) -> list[dict]:
    d = out / table
    if not d.is_dir() or not any(d.glob("*.parquet")):
        return []
    return ds.dataset(d, format="parquet").to_table(columns=columns).to_pylist()


def labels(out: Path) -> dict[Key, str]:
    """(source_file, source_line) -> cluster_id over articles/ and duplicates/."""
    cols = ["source_file", "source_line", "cluster_id"]
    return {(r["source_file"], r["source_line"]): r["cluster_id"]
            for t in ("articles", "duplicates") for r in rows(out, t, cols)}


def ari(a: list[str], b: list[str]) -> float:
    """Adjusted Rand index of two labelings of the same items."""
    def pairs(counts: Counter) -> float:
        return sum(c * (c - 1) / 2 for c in counts.values())
    n = len(a)
    both, sa, sb = pairs(Counter(zip(a, b, strict=True))), pairs(Counter(a)), pairs(Counter(b))
    total = n * (n - 1) / 2
    expected = sa * sb / total if total else 0.0
    top = (sa + sb) / 2 - expected
    return 1.0 if top == 0 else (both - expected) / top


def groups(lab: dict[Key, str]) -> set[frozenset[Key]]:
    g: dict[str, set[Key]] = {}
    for k, c in lab.items():
        g.setdefault(c, set()).add(k)
    return {frozenset(x) for x in g.values()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--parts", type=int, default=3)
    ap.add_argument("--hash", action="store_true", help="assign files to parts by a hash of the name")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    files = sorted(p for p in args.raw.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        run_pipeline(args.raw, base / "one")
        inc = base / "inc"
        manifests = []
        for k in range(args.parts):
            part = base / f"part-{k}"
            for i, f in enumerate(files):
                slot = zlib.crc32(f.name.encode()) % args.parts if args.hash else i % args.parts
                if slot == k:
                    dest = part / f.relative_to(args.raw)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, dest)
            if part.exists():
                manifests.append(run_pipeline(part, inc))
        one, many = labels(base / "one"), labels(inc)
        keys = sorted(one, key=lambda k: (k[0], k[1] or 0))
        g1, gk = groups(one), groups(many)
        cols = ["article_id", "run_id"]
        run_of = {r["article_id"]: r["run_id"] for t in ("articles", "duplicates") for r in rows(inc, t, cols)}
        forward = sum(1 for d in rows(inc, "duplicates", ["duplicate_of", "run_id"])
                      if run_of.get(d["duplicate_of"], "") > d["run_id"])
        res = {
            "items": len(keys), "items_in_both": len(set(one) & set(many)), "parts": args.parts,
            "assignment": "hash" if args.hash else "position",
            "ari_between": round(ari([one[k] for k in keys], [many.get(k, "missing") for k in keys]), 4),
            "clusters_only_one_run": len(g1 - gk), "clusters_only_incremental": len(gk - g1),
            "earlier_clusters_merged": sum(m["dedupe"].get("earlier_clusters_merged", 0) for m in manifests),
            "earlier_rows_moved": sum(m["counts"].get("earlier_rows_moved", 0) for m in manifests),
            "duplicates_pointing_forward": forward,
        }
    emit(res, args.json)
    return res


if __name__ == "__main__":
    main()
