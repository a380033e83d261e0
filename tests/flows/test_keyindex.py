"""The lookup store's bit filter: set a stripe at a time, the same bits as one array of flags."""

from __future__ import annotations

import numpy as np
import pytest

from flows import keyindex


@pytest.mark.parametrize("n_keys, n_bits, stripe", [(0, 1 << 10, 1 << 25), (1000, 1 << 13, 1 << 25),
                                                     (50_000, 1 << 19, 1 << 14), (50_000, 1 << 19, 1 << 19)])
def test_bit_filter_in_stripes_equals_one_array_of_flags(monkeypatch, n_keys, n_bits, stripe):
    monkeypatch.setattr(keyindex, "FILTER_STRIPE_BITS", stripe)
    monkeypatch.setattr(keyindex, "KEY_CHUNK", 4096)
    keys = np.random.default_rng(n_keys).integers(0, 2**63, size=n_keys, dtype=np.int64).view(np.uint64)
    flags = np.zeros(n_bits, dtype=bool)
    flags[keys & np.uint64(n_bits - 1)] = True
    got = keyindex._bit_filter(keys, n_bits)
    assert got.dtype == np.uint8 and np.array_equal(got, np.packbits(flags, bitorder="little"))
    assert keyindex._may_contain(got, keys).all()  # every key passes its own filter


def _skewed_keys(n: int, seed: int) -> np.ndarray:
    """Keys like the store's: minhash-derived (small values far more common), with repeats."""
    rng = np.random.default_rng(seed)
    mins = (rng.exponential(2**20, size=n).astype(np.uint64) << np.uint64(32)) | rng.integers(0, 2**12, size=n).astype(np.uint64)
    mins[rng.integers(0, max(n, 1), size=n // 10)] = mins[0] if n else 0  # one key held by many rows
    return mins


@pytest.mark.parametrize("n, chunk", [(0, 8), (5, 8), (1000, 64), (20_000, 1024), (20_000, 20_000), (3000, 7)])
def test_sorted_parts_equal_one_stable_argsort(monkeypatch, n, chunk):
    monkeypatch.setattr(keyindex, "KEY_CHUNK", chunk)
    for keys in (_skewed_keys(n, n), np.random.default_rng(n).integers(0, 2**63, size=n, dtype=np.int64).view(np.uint64),
                 np.full(n, 7, dtype=np.uint64)):
        parts = list(keyindex._sorted_parts(keys))
        got = np.concatenate(parts) if parts else np.empty(0, np.int64)
        assert np.array_equal(got, np.argsort(keys, kind="stable"))
        if n > chunk and len(np.unique(keys)) > 1:
            assert len(parts) > 1  # never one sort order of everything


def _index_table(n: int, seed: int):
    import pyarrow as pa

    from flows.state import INDEX

    rng = np.random.default_rng(seed)
    return pa.table({
        "article_id": [f"a{i}" for i in range(n)], "cluster_id": [f"a{i - i % 3}" for i in range(n)],
        "survivor_id": [f"a{i - i % 3}" for i in range(n)], "kept": [i % 3 == 0 for i in range(n)],
        "content_hash": [f"h{i % 50}" for i in range(n)], "url_key": [None if i % 4 else f"u{i}" for i in range(n)],
        "published_ts": [float(i) for i in range(n)], "run_id": ["r"] * n, "text_chars": [500 + i for i in range(n)],
        "signature": [rng.integers(0, 2**32, 128, dtype=np.uint32).astype("<u4").tobytes() for _ in range(n)],
        "n_shingles": [100] * n, "para_keys": [list(rng.integers(0, 2**40, i % 5)) for i in range(n)]}, schema=INDEX)


def test_a_store_written_from_the_parquet_file_in_batches_equals_one_written_from_the_table(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from dedupe.corpus import CorpusParams

    monkeypatch.setattr(keyindex, "ROWS_PER_BATCH", 97)  # many batches, and a short last one
    monkeypatch.setattr(keyindex, "KEY_CHUNK", 1500)  # the sort in parts
    params = CorpusParams()
    tbl = _index_table(1000, 5)
    path = tmp_path / "r1.parquet"
    pq.write_table(tbl, path, row_group_size=250)
    keyindex.write_keys(tmp_path / "a", "r1", tbl, params)
    keyindex.write_keys(tmp_path / "b", "r1", path, params)
    a, b = keyindex.keys_dir(tmp_path / "a", "r1"), keyindex.keys_dir(tmp_path / "b", "r1")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "band_rows.npy" in names
    for name in names:
        if name.endswith(".npy"):
            assert np.array_equal(np.load(a / name), np.load(b / name)), name
    store = keyindex._open(b, params)
    assert store is not None and store.rows_table().equals(tbl)
    # every row is found again by its own keys, and its band keys' rows are in order within a key
    keys, rows = store._keys("band")
    assert np.all(np.diff(keys.astype(np.float64)) >= 0)
    ties = np.flatnonzero(keys[1:] == keys[:-1])
    assert np.all(rows[ties + 1] >= rows[ties])
    found = store.reachable(np.unique(keyindex.table_band_keys(tbl.slice(10, 1), params)), np.empty(0, np.uint64),
                            np.empty(0, np.uint64))
    assert 10 in found
