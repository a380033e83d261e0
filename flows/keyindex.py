"""The lookup stores beside the index files (state/keys/<stem>/), so that a run's new articles are
looked up against millions of earlier ones by binary search and memory-mapped reads: nothing is
read per earlier article, and the cost grows with the new articles and their matches, not with
the index.

For the index file `state/index/<stem>.parquet` with n rows (or several, merged), `state/keys/<stem>/` holds:
  band.npy, band_rows.npy     every row's LSH band keys (dedupe.corpus.band_keys), sorted, with their rows
  para.npy, para_rows.npy     every row's paragraph keys, sorted, with their rows
  exact.npy, exact_rows.npy   64-bit hashes of every row's content_hash and url_key, sorted, with their rows
  ids.npy, ids_rows.npy       64-bit hashes of every row's article_id, sorted, with their rows
  <name>_filter.npy           a bitmap of each key set's low bits (8 bits per key): absent keys are
                              ruled out with one probe before any binary search
  rows.arrow                  the index rows themselves as an uncompressed Arrow IPC file (memory-mapped:
                              taking the few reachable rows touches only their pages)
  meta.json                   version, n, bands, rows, and the index files covered with their row counts
                              (a mismatch makes the run read those Parquet files and scan them)
Each run writes the store of its own index file; `compact` then merges stores so that there are
O(log runs) of them (a store over several files numbers the rows of its files in order). The
Parquet files stay the durable record (and what a rebuild or a scan reads); these folders are
derived from them. Written to a hidden temp folder and renamed into place (atomic); removed with its
run on rollback. A 64-bit hash collision can only add a reachable row (clustering compares the real
values) or a seen-id candidate (checked against the real article_id).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from dedupe.arrays import sorted_unique
from dedupe.corpus import CorpusParams, band_keys
from flows.sink import release_arrow_memory
from flows.state import remove_tree

VERSION = 2
ROWS_PER_BATCH = 65536  # record batches of rows.arrow: few chunks to take from, bounded memory to write


def keys_dir(out_dir: Path, stem: str) -> Path:
    return out_dir / "state" / "keys" / stem


def _chunks(col: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return list(col.chunks) if isinstance(col, pa.ChunkedArray) else [col]


def signature_views(tbl: pa.Table | pa.RecordBatch, num_perm: int) -> list[np.ndarray]:
    """Each chunk of the signature column as a uint32[rows, num_perm] view of its data buffer (no copy:
    every value is num_perm * 4 bytes)."""
    views = []
    for chunk in _chunks(tbl.column("signature")):
        n = len(chunk)
        if not n:
            continue
        offs = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset: chunk.offset + n + 1]
        if offs[-1] - offs[0] != n * num_perm * 4 or np.any(np.diff(offs) != num_perm * 4):
            raise ValueError(f"signatures of another size than num_perm={num_perm} in the index")
        data = np.frombuffer(chunk.buffers()[2], dtype="<u4")
        views.append(data[offs[0] // 4: offs[-1] // 4].reshape(n, num_perm))
    return views


def para_arrays(tbl: pa.Table | pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
    """(flat paragraph keys uint64, offsets int64[n + 1] from 0)."""
    if not tbl.num_rows:
        return np.empty(0, np.uint64), np.zeros(1, np.int64)
    col = tbl.column("para_keys")
    pk = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    pk_offsets = pk.offsets.to_numpy().astype(np.int64)
    flat = pk.values.to_numpy(zero_copy_only=False).astype(np.uint64)
    return flat[pk_offsets[0]: pk_offsets[-1]], pk_offsets - pk_offsets[0]


def sketch_arrays(tbl: pa.Table, num_perm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(signatures uint32[n, num_perm], n_shingles, flat paragraph keys, their offsets) without Python objects:
    the signature column's data buffers are read as they are (`signature_views`), copied once into
    one array when the column has several chunks."""
    if not tbl.num_rows:
        return (np.empty((0, num_perm), dtype=np.uint32), np.empty(0, np.int64), np.empty(0, np.uint64),
                np.zeros(1, np.int64))
    views = signature_views(tbl, num_perm)
    sigs = views[0] if len(views) == 1 else np.concatenate(views)
    sizes = tbl.column("n_shingles").to_numpy(zero_copy_only=False).astype(np.int64)
    return (sigs, sizes, *para_arrays(tbl))


def table_band_keys(tbl: pa.Table | pa.RecordBatch, params: CorpusParams) -> np.ndarray:
    """uint64[n, bands]: every row's band keys, computed a chunk of the signature column at a time
    (the signatures are never copied into one array)."""
    out = np.empty((tbl.num_rows, params.bands), dtype=np.uint64)
    row = 0
    for sigs in signature_views(tbl, params.num_perm):
        out[row: row + len(sigs)] = band_keys(sigs, params.bands, params.rows)
        row += len(sigs)
    return out


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


def _save_sorted(folder: Path, name: str, keys: np.ndarray, rows: np.ndarray | None = None,
                 offsets: np.ndarray | None = None, per_row: int = 0) -> None:
    """The keys sorted with their rows, and a one-hash bit filter over the keys' low bits (the keys are
    hashes): most keys of a new article are in no earlier file, and one probe of a small bitmap
    rules them out before any binary search in the large sorted array.

    A key's row is given by `rows` (one per key), or, without building that array, by `per_row` (row
    i holds keys i*per_row .. (i+1)*per_row - 1) or by `offsets` (row i holds keys offsets[i] ..
    offsets[i+1] - 1). Equal keys keep their rows in order (a stable sort). Memory: the keys and a
    part of their sort order at a time (`_sorted_parts`); the filter is set a stripe at a time
    (`_bit_filter`); keys and rows are written to their files a part at a time."""
    keys = keys.astype(np.uint64, copy=False)
    np.save(folder / f"{name}_filter.npy", _bit_filter(keys, _filter_bits(len(keys))))
    with open(folder / f"{name}.npy", "wb") as fk, open(folder / f"{name}_rows.npy", "wb") as fr:
        for fh, dtype in ((fk, "<u8"), (fr, "<i8")):
            np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                      "fortran_order": False, "shape": (len(keys),)})
        for part in _sorted_parts(keys):
            fk.write(keys[part].astype("<u8", copy=False).tobytes())
            if rows is not None:
                part = rows[part]
            elif per_row:
                part //= per_row  # in place: a key's position becomes its row
            else:
                part = np.searchsorted(np.asarray(offsets, dtype=np.int64), part, side="right") - 1
            fr.write(np.asarray(part, dtype="<i8").tobytes())


def _sorted_parts(keys: np.ndarray) -> Iterator[np.ndarray]:
    """The positions of `keys` in stable sorted order (what np.argsort(keys, kind="stable") gives), in
    parts of about KEY_CHUNK positions: the keys are split at splitters drawn from an evenly spaced
    sample (a sample sort; minhash-derived keys are far from uniform, so no fixed bit ranges), and
    each range is sorted alone. Never a sort order of all the keys at once (32M band keys at
    1,000,000 articles: 256 MB)."""
    n = len(keys)
    parts = -(-n // KEY_CHUNK)
    if parts <= 1:
        yield np.argsort(keys, kind="stable")
        return
    sample = np.sort(keys[:: max(1, n // (SORT_SAMPLE_PER_PART * parts))])
    splitters = sorted_unique(sample[(np.arange(1, parts) * len(sample)) // parts])
    lows = [None, *splitters]
    highs = [*splitters, None]
    for lo, hi in zip(lows, highs, strict=True):
        if lo is None:
            inside = keys < hi
        elif hi is None:
            inside = keys >= lo
        else:
            inside = (keys >= lo) & (keys < hi)
        idx = np.flatnonzero(inside)
        del inside
        yield idx[np.argsort(keys[idx], kind="stable")]


SORT_SAMPLE_PER_PART = 256  # sampled keys per part of the sort: parts within a few percent of KEY_CHUNK
FILTER_STRIPE_BITS = 1 << 25  # the filter's bits are set a stripe at a time: 32 MB of flags, not one per bit
KEY_CHUNK = 1 << 22


def _bit_filter(keys: np.ndarray, n_bits: int) -> np.ndarray:
    """The packed one-hash bit filter (little bit order) over the keys' low bits, set one stripe of
    FILTER_STRIPE_BITS at a time: a filter of 2^28 bits never costs a 268 MB array of flags."""
    packed = np.empty(n_bits // 8, dtype=np.uint8)
    stripe = min(n_bits, FILTER_STRIPE_BITS)
    mask = np.uint64(n_bits - 1)
    for lo in range(0, n_bits, stripe):
        bits = np.zeros(stripe, dtype=bool)
        for s in range(0, len(keys), KEY_CHUNK):
            idx = keys[s: s + KEY_CHUNK] & mask
            if stripe < n_bits:
                idx = idx[(idx >= np.uint64(lo)) & (idx < np.uint64(lo + stripe))]
            bits[(idx - np.uint64(lo)).astype(np.intp)] = True
        packed[lo // 8: (lo + stripe) // 8] = np.packbits(bits, bitorder="little")
    return packed


def _may_contain(bitmap: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    idx = wanted & np.uint64(len(bitmap) * 8 - 1)
    return ((bitmap[idx >> np.uint64(3)] >> (idx & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)


def _index_batches(index: pa.Table | Path, columns: list[str] | None = None) -> Iterator[pa.Table | pa.RecordBatch]:
    """The index rows a part at a time, only `columns` (all when None): slices of ROWS_PER_BATCH rows of a
    table, or a Parquet file's row groups read one at a time (never the whole file in memory)."""
    if isinstance(index, pa.Table):
        tbl = index.select(columns) if columns is not None else index
        for start in range(0, tbl.num_rows, ROWS_PER_BATCH):
            yield tbl.slice(start, ROWS_PER_BATCH)
        return
    with pq.ParquetFile(index, pre_buffer=False) as f:  # a row group at a time, no read-ahead of the file
        for rg in range(f.num_row_groups):
            yield f.read_row_group(rg, columns=columns)
    release_arrow_memory()  # Arrow's pool keeps what decoding used: give it back after each pass


def _hashed_column(index: pa.Table | Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """`hash_strings` of a column over all the index rows, read a batch at a time."""
    hashes, rows, start = [np.empty(0, np.uint64)], [np.empty(0, np.int64)], 0
    for batch in _index_batches(index, [name]):
        h, r = hash_strings(batch.column(name))
        hashes.append(h)
        rows.append(r + start)
        start += batch.num_rows
    return np.concatenate(hashes), np.concatenate(rows)


def write_keys(out_dir: Path, stem: str, index: pa.Table | Path, params: CorpusParams,
               files: list[tuple[str, int]] | None = None) -> None:
    """Write a lookup store named `stem` over the rows of `index` (a table, or a Parquet index file read
    a row group at a time): one index file's rows in file order, or (`files`: their stems and
    row counts, in order) several files' rows concatenated. Memory: the band keys (bands x 8 bytes
    per row) and a part of their sort order, never the rows' signatures all at once."""
    if isinstance(index, pa.Table):
        n, schema = index.num_rows, index.schema
    else:
        with pq.ParquetFile(index) as f:
            n, schema = f.metadata.num_rows, f.schema_arrow
    files = files if files is not None else [(stem, n)]
    if sum(k for _, k in files) != n:
        raise ValueError(f"store {stem}: {n} rows for files of {sum(k for _, k in files)}")
    final = keys_dir(out_dir, stem)
    tmp = final.with_name(f".{stem}.tmp")
    remove_tree(tmp)
    tmp.mkdir(parents=True)
    bk = np.empty((n, params.bands), dtype=np.uint64)
    row = 0
    for batch in _index_batches(index, ["signature"]):
        bk[row: row + batch.num_rows] = table_band_keys(batch, params)
        row += batch.num_rows
    _save_sorted(tmp, "band", bk.ravel(), per_row=params.bands)  # row-major: row i's keys are consecutive
    del bk
    flats, offsets, start = [np.empty(0, np.uint64)], [np.zeros(1, np.int64)], 0
    for batch in _index_batches(index, ["para_keys"]):
        flat, offs = para_arrays(batch)
        flats.append(flat)
        offsets.append(offs[1:] + start)
        start += len(flat)
    para_flat, para_offsets = np.concatenate(flats), np.concatenate(offsets)
    del flats, offsets
    _save_sorted(tmp, "para", para_flat, offsets=para_offsets)
    del para_flat, para_offsets
    (ch, ch_rows), (uk, uk_rows) = _hashed_column(index, "content_hash"), _hashed_column(index, "url_key")
    _save_sorted(tmp, "exact", np.concatenate([ch, uk]), np.concatenate([ch_rows, uk_rows]))
    del ch, ch_rows, uk, uk_rows
    _save_sorted(tmp, "ids", *_hashed_column(index, "article_id"))
    with pa.OSFile(str(tmp / "rows.arrow"), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for batch in _index_batches(index):  # batches of at most ROWS_PER_BATCH rows, or a row group
            writer.write(batch.combine_chunks() if isinstance(batch, pa.Table) else batch)
    (tmp / "meta.json").write_text(json.dumps({"version": VERSION, "n": n, "bands": params.bands, "rows": params.rows,
                                               "files": [[f, k] for f, k in files]}))
    remove_tree(final)
    os.replace(tmp, final)


def _rows_matching(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray, cap: int | None = None) -> np.ndarray:
    """Rows whose key is in `wanted` (sorted, unique): one binary search per wanted key, a second one
    only for the keys that are there. A key held by more than `cap` rows is left out: clustering
    skips a bucket that large anyway (CorpusParams.max_bucket), so those rows could get no edge from
    it, and a shared boilerplate paragraph must not pull half the index into a run."""
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
    if cap is not None:
        lengths[lengths > cap] = 0
    total = int(lengths.sum())
    if not total:
        return np.empty(0, np.int64)
    ends = np.cumsum(lengths)
    idx = np.repeat(left, lengths) + (np.arange(total) - np.repeat(ends - lengths, lengths))
    return np.asarray(rows[idx], dtype=np.int64)


@dataclass
class Store:
    """A lookup store, memory-mapped: over one index file, or over several merged (`compact`)."""

    stem: str
    n: int
    folder: Path
    files: list[tuple[str, int]]
    _file: pa.ipc.RecordBatchFileReader | None = field(default=None, repr=False)

    def _keys(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return (np.load(self.folder / f"{name}.npy", mmap_mode="r"),
                np.load(self.folder / f"{name}_rows.npy", mmap_mode="r"))

    def _matching(self, name: str, wanted: np.ndarray, cap: int | None = None) -> np.ndarray:
        if len(wanted):
            wanted = wanted[_may_contain(np.load(self.folder / f"{name}_filter.npy", mmap_mode="r"), wanted)]
        return _rows_matching(*self._keys(name), wanted, cap)

    def rows_table(self) -> pa.Table:
        """All the store's rows, memory-mapped (nothing is read until used)."""
        return pa.Table.from_batches(self._batches()[0], schema=self._reader().schema)

    def _reader(self) -> pa.ipc.RecordBatchFileReader:
        if self._file is None:
            self._file = pa.ipc.open_file(pa.memory_map(str(self.folder / "rows.arrow")))
        return self._file

    def _batches(self) -> tuple[list[pa.RecordBatch], np.ndarray]:
        reader = self._reader()
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
        return batches, np.cumsum([0] + [b.num_rows for b in batches])

    def take(self, rows: np.ndarray) -> pa.Table:
        """The rows (sorted row numbers), taken batch by batch: only their pages of the file are read."""
        batches, starts = self._batches()
        out = []
        for i in sorted_unique(np.searchsorted(starts, rows, "right") - 1) if len(rows) else []:
            lo, hi = np.searchsorted(rows, [starts[i], starts[i + 1]])
            out.append(batches[i].take(pa.array(rows[lo:hi] - starts[i], pa.int64())))
        return pa.Table.from_batches(out, schema=self._reader().schema)

    def reachable(self, new_bands: np.ndarray, new_paras: np.ndarray, new_exact: np.ndarray,
                  max_bucket: int | None = None) -> np.ndarray:
        """Rows sharing a band key, a paragraph key (held by at most `max_bucket` rows) or an exact-key
        hash with the new articles (sorted unique arrays)."""
        hits = [self._matching("band", new_bands, max_bucket), self._matching("para", new_paras, max_bucket),
                self._matching("exact", new_exact)]
        return sorted_unique(np.concatenate(hits))

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
            at = np.asarray(rows[pos[maybe]], dtype=np.int64)
            order = np.argsort(at)
            stored = self.take(at[order]).column("article_id")
            mask[maybe[order]] = pc.equal(stored, ids.take(pa.array(maybe[order], pa.int64()))).to_numpy(
                zero_copy_only=False)
        return mask


def _open(folder: Path, params: CorpusParams) -> Store | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
        files = [(str(f), int(k)) for f, k in meta.get("files", [])]
    except (OSError, ValueError, TypeError):
        return None
    if (meta.get("version"), meta.get("bands"), meta.get("rows")) != (VERSION, params.bands, params.rows) or (
            not files or sum(k for _, k in files) != meta.get("n")):
        return None
    needed = ["rows.arrow"] + [f"{k}{s}.npy" for k in ("band", "para", "exact", "ids") for s in ("", "_rows", "_filter")]
    if not all((folder / f).is_file() for f in needed):
        return None
    return Store(folder.name, int(meta["n"]), folder, files)


def find_stores(out_dir: Path, on_disk: list[tuple[str, int]], params: CorpusParams) -> list[Store]:
    """The usable lookup stores for the index files `on_disk` ((stem, rows) each): a store is usable when
    every file it covers is there with its row count; of overlapping stores (a merge interrupted before
    the merged-away one was removed) the one covering most files wins. In the order of their newest file."""
    have = dict(on_disk)
    root = out_dir / "state" / "keys"
    found = []
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            store = _open(folder, params)
            if store is not None and all(have.get(f) == k for f, k in store.files):
                found.append(store)
    chosen: list[Store] = []
    taken: set[str] = set()
    for store in sorted(found, key=lambda st: (-len(st.files), st.stem)):
        stems = {f for f, _ in store.files}
        if not stems & taken:
            chosen.append(store)
            taken |= stems
    return sorted(chosen, key=lambda st: max(f for f, _ in st.files))


MERGE_RATIO = 2  # a store is merged into the next younger one while it is at most this many times its size


def compact(out_dir: Path, on_disk: list[tuple[str, int]], params: CorpusParams,
            read_file: Callable[[str], pa.Table]) -> dict[str, int]:
    """Keep the number of lookup stores logarithmic in the number of runs, so a run's lookup cost does
    not grow with how many runs came before it: each index file without a usable store gets one
    (an index rebuilt or written by an older version: `read_file` reads its rows), then the youngest
    two stores merge while the older is at most MERGE_RATIO times the younger (a binary counter:
    sizes fall geometrically from old to young, every row is rewritten O(log n) times).

    Safe to interrupt anywhere: the merged store is written before the merged-away one is removed,
    and `find_stores` prefers the larger of overlapping stores."""
    stats = {"stores_written": 0, "stores_merged": 0}
    covered = {f for st in find_stores(out_dir, on_disk, params) for f, _ in st.files}
    for stem, _rows in on_disk:
        if stem not in covered:
            write_keys(out_dir, stem, read_file(stem), params)
            stats["stores_written"] += 1
    stores = find_stores(out_dir, on_disk, params)
    while len(stores) >= 2 and stores[-2].n <= MERGE_RATIO * stores[-1].n:
        older, younger = stores[-2], stores[-1]
        merged = pa.concat_tables([older.rows_table(), younger.rows_table()])
        write_keys(out_dir, younger.stem, merged, params, files=older.files + younger.files)
        remove_tree(older.folder)
        stats["stores_merged"] += 1
        stores = find_stores(out_dir, on_disk, params)
    stats["stores"] = len(stores)
    return stats
