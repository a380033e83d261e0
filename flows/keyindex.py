"""Sorted key files beside each index file (state/keys/<index file stem>/), so that looking up a run's
new articles against millions of earlier ones is a binary search per new key, not a scan.

For the index file `state/index/<stem>.parquet` with n rows, `state/keys/<stem>/` holds:
  band.npy, band_rows.npy   every row's LSH band keys (dedupe.corpus.band_keys), sorted, with their rows
  para.npy, para_rows.npy   every row's paragraph keys, sorted, with their rows
  meta.json                 n, bands, rows (a mismatch makes the lookup fall back to a scan)
Written to a hidden temp folder and renamed into place (atomic); removed with its run on rollback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from dedupe.corpus import CorpusParams, band_keys
from flows.state import remove_tree


def keys_dir(out_dir: Path, stem: str) -> Path:
    return out_dir / "state" / "keys" / stem


def write_keys(out_dir: Path, stem: str, sigs: np.ndarray, para_flat: np.ndarray, para_offsets: np.ndarray,
               params: CorpusParams) -> None:
    n = len(sigs)
    final = keys_dir(out_dir, stem)
    tmp = final.with_name(f".{stem}.tmp")
    remove_tree(tmp)
    tmp.mkdir(parents=True)
    bk = band_keys(sigs, params.bands, params.rows).ravel() if n else np.empty(0, np.uint64)
    brows = np.repeat(np.arange(n, dtype=np.int64), params.bands) if n else np.empty(0, np.int64)
    order = np.argsort(bk, kind="stable")
    np.save(tmp / "band.npy", bk[order])
    np.save(tmp / "band_rows.npy", brows[order])
    prows = np.repeat(np.arange(n, dtype=np.int64), np.diff(para_offsets)) if n else np.empty(0, np.int64)
    order = np.argsort(para_flat, kind="stable")
    np.save(tmp / "para.npy", para_flat[order].astype(np.uint64))
    np.save(tmp / "para_rows.npy", prows[order])
    (tmp / "meta.json").write_text(json.dumps({"n": n, "bands": params.bands, "rows": params.rows}))
    remove_tree(final)
    os.replace(tmp, final)


def _rows_matching(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows whose key is in `wanted` (sorted, unique): a binary search per wanted key."""
    left = np.searchsorted(keys, wanted, "left")
    right = np.searchsorted(keys, wanted, "right")
    lengths = right - left
    total = int(lengths.sum())
    if not total:
        return np.empty(0, np.int64)
    ends = np.cumsum(lengths)
    idx = np.repeat(left, lengths) + (np.arange(total) - np.repeat(ends - lengths, lengths))
    return np.asarray(rows[idx], dtype=np.int64)


def lookup(out_dir: Path, stem: str, n_rows: int, new_bands: np.ndarray, new_paras: np.ndarray,
           params: CorpusParams) -> np.ndarray | None:
    """Rows of index file `stem` sharing a band or paragraph key with the new articles (sorted unique
    key arrays), or None when that file has no usable key files (then the caller scans)."""
    d = keys_dir(out_dir, stem)
    try:
        meta = json.loads((d / "meta.json").read_text())
        if (meta.get("n"), meta.get("bands"), meta.get("rows")) != (n_rows, params.bands, params.rows):
            return None
        hits = [_rows_matching(np.load(d / "band.npy", mmap_mode="r"), np.load(d / "band_rows.npy", mmap_mode="r"),
                               new_bands),
                _rows_matching(np.load(d / "para.npy", mmap_mode="r"), np.load(d / "para_rows.npy", mmap_mode="r"),
                               new_paras)]
    except (OSError, ValueError):
        return None
    return np.unique(np.concatenate(hits))
