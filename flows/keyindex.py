"""The lookup store beside each index file (state/keys/<stem>/), so that a run's new articles are
looked up against millions of earlier ones by binary search and memory-mapped reads: nothing is
read per earlier article, and the cost grows with the new articles and their matches, not with
the index.

For the index file `state/index/<stem>.parquet` with n rows, `state/keys/<stem>/` holds:
  band.npy, band_rows.npy     every row's LSH band keys (dedupe.corpus.band_keys), sorted, with their rows
  para.npy, para_rows.npy     every row's paragraph keys, sorted, with their rows
  exact.npy, exact_rows.npy   64-bit hashes of every row's content_hash and url_key, sorted, with their rows
  ids.npy, ids_rows.npy       64-bit hashes of every row's article_id, sorted, with their rows
  <name>_filter.npy           a bitmap of each key set's low bits (8 bits per key): absent keys are
                              ruled out with one probe before any binary search  rows.arrow                  the index rows themselves as an uncompressed Arrow IPC file (memory-mapped:
                              taking the few reachable rows touches only their pages)
  meta.json                   version, n, bands, rows (a mismatch makes the run read the Parquet file and scan)
The Parquet file stays the durable record (and what a rebuild or a scan reads); this folder is
derived from it. Written to a hidden temp folder and renamed into place (atomic); removed with its
run on rollback. A 64-bit hash collision can only add a reachable row (clustering compares the real
values) or a seen-id candidate (checked against the real article_id).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from dedupe.corpus import CorpusParams, band_keys
from flows.state import remove_tree

VERSION = 2


def keys_dir(out_dir: Path, stem: str) -> Path:
    return out_dir / "state" / "keys" / stem


def sketch_arrays(tbl: pa.Table, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def hash_strings(values: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hashes of the non-null strings, their row numbers)."""
    py = values.to_pylist()
    rows = np.fromiter((i for i, v in enumerate(py) if v), dtype=np.int64)
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(v.encode("utf-8")) for v in py if v), dtype=np.uint64,
                         count=len(rows))
    return hashes, rows


FILTER_BITS_PER_KEY = 8  # about 12% of absent keys pass the filter and cost a binary search


def _filter_bits(n_keys: int) -> int:
    return 1 << max(10, int(np.ceil(np.log2(max(n_keys, 1) * FILTER_BITS_PER_KEY))))


def _save_sorted(folder: Path, name: str, keys: np.ndarray, rows: np.ndarray) -> None:
    """The keys sorted with their rows, and a one-hash bit filter over the keys' low bits (the keys are
    hashes): most keys of a new article are in no earlier file, and one probe of a small bitmap
    rules them out before any binary search in the large sorted array."""
    keys = keys.astype(np.uint64)
    order = np.argsort(keys)
    np.save(folder / f"{name}.npy", keys[order])
    np.save(folder / f"{name}_rows.npy", rows[order].astype(np.int64))
    bits = np.zeros(_filter_bits(len(keys)), dtype=bool)
    bits[keys & np.uint64(len(bits) - 1)] = True
    np.save(folder / f"{name}_filter.npy", np.packbits(bits, bitorder="little"))


def _may_contain(bitmap: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    idx = wanted & np.uint64(len(bitmap) * 8 - 1)
    return ((bitmap[idx >> np.uint64(3)] >> (idx & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)


def write_keys(out_dir: Path, stem: str, index: pa.Table, params: CorpusParams) -> None:
    """Write the lookup store of one index file (its rows in `index`, in file order)."""
    n = index.num_rows
    sigs, _, para_flat, para_offsets = sketch_arrays(index, params.num_perm)
    final = keys_dir(out_dir, stem)
    tmp = final.with_name(f".{stem}.tmp")
    remove_tree(tmp)
    tmp.mkdir(parents=True)
    bk = band_keys(sigs, params.bands, params.rows).ravel() if n else np.empty(0, np.uint64)
    _save_sorted(tmp, "band", bk, np.repeat(np.arange(n, dtype=np.int64), params.bands) if n else np.empty(0, np.int64))
    _save_sorted(tmp, "para", para_flat, np.repeat(np.arange(n, dtype=np.int64), np.diff(para_offsets)) if n
                 else np.empty(0, np.int64))
    (ch, ch_rows), (uk, uk_rows) = hash_strings(index.column("content_hash")), hash_strings(index.column("url_key"))
    _save_sorted(tmp, "exact", np.concatenate([ch, uk]), np.concatenate([ch_rows, uk_rows]))
    _save_sorted(tmp, "ids", *hash_strings(index.column("article_id")))
    with pa.OSFile(str(tmp / "rows.arrow"), "wb") as sink, pa.ipc.new_file(sink, index.schema) as writer:
        writer.write_table(index)
    (tmp / "meta.json").write_text(json.dumps({"version": VERSION, "n": n, "bands": params.bands, "rows": params.rows}))
    remove_tree(final)
    os.replace(tmp, final)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for a flat integer array, by one sort (faster than np.unique's hashing here)."""
    a = np.sort(values)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _rows_matching(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows whose key is in `wanted` (sorted, unique): one binary search per wanted key, a second one
    only for the keys that are there."""
    if not len(keys) or not len(wanted):
        return np.empty(0, np.int64)
    left = np.searchsorted(keys, wanted, "left")
    found = left < len(keys)
    found[found] = keys[left[found]] == wanted[found]
    if not found.any():
        return np.empty(0, np.int64)
    wanted, left = wanted[found], left[found]
    right = np.searchsorted(keys, wanted, "right")
    lengths = right - left
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    idx = np.repeat(left, lengths) + (np.arange(total) - np.repeat(ends - lengths, lengths))
    return np.asarray(rows[idx], dtype=np.int64)


@dataclass
class Store:
    """The lookup store of one index file, memory-mapped."""

    stem: str
    n: int
    folder: Path

    def _keys(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return (np.load(self.folder / f"{name}.npy", mmap_mode="r"),
                np.load(self.folder / f"{name}_rows.npy", mmap_mode="r"))

    def _matching(self, name: str, wanted: np.ndarray) -> np.ndarray:
        if len(wanted):
            wanted = wanted[_may_contain(np.load(self.folder / f"{name}_filter.npy", mmap_mode="r"), wanted)]
        return _rows_matching(*self._keys(name), wanted)

    def rows_table(self) -> pa.Table:
        return pa.ipc.open_file(pa.memory_map(str(self.folder / "rows.arrow"))).read_all()

    def reachable(self, new_bands: np.ndarray, new_paras: np.ndarray, new_exact: np.ndarray) -> np.ndarray:
        """Rows sharing a band key, a paragraph key or an exact-key hash with the new articles (sorted unique arrays)."""
        hits = [self._matching("band", new_bands), self._matching("para", new_paras), self._matching("exact", new_exact)]
        return np.unique(np.concatenate(hits))

    def seen(self, ids: pa.Array, id_hashes: np.ndarray) -> np.ndarray:
        """Mask over `ids`: the ones already in this index file (hash lookup, then the real ids compared)."""
        keys, rows = self._keys("ids")
        mask = np.zeros(len(ids), dtype=bool)
        if not len(keys) or not len(id_hashes):
            return mask
        pos = np.searchsorted(keys, id_hashes)
        pos[pos == len(keys)] = 0
        maybe = np.flatnonzero(keys[pos] == id_hashes)
        if len(maybe):
            stored = self.rows_table().column("article_id").take(pa.array(rows[pos[maybe]], pa.int64()))
            mask[maybe] = pc.equal(stored, ids.take(pa.array(maybe, pa.int64()))).to_numpy(zero_copy_only=False)
        return mask


def open_store(out_dir: Path, stem: str, n_rows: int, params: CorpusParams) -> Store | None:
    """The lookup store of index file `stem`, or None when it is missing, stale or of another layout."""
    folder = keys_dir(out_dir, stem)
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if (meta.get("version"), meta.get("n"), meta.get("bands"), meta.get("rows")) != (
            VERSION, n_rows, params.bands, params.rows):
        return None
    needed = ["rows.arrow"] + [f"{k}{s}.npy" for k in ("band", "para", "exact", "ids") for s in ("", "_rows", "_filter")]
    if not all((folder / f).is_file() for f in needed):
        return None
    return Store(stem, n_rows, folder)
