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
