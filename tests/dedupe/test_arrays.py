"""The sort-based set operations give what np.unique gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedupe.arrays import sorted_unique, unique_counts, unique_first

values = st.lists(st.integers(-5, 40), max_size=60).map(lambda xs: np.array(xs, dtype=np.int64))


@given(values)
def test_sorted_unique_is_np_unique(a):
    assert sorted_unique(a).tolist() == np.unique(a).tolist()


@given(values)
def test_unique_first_is_np_unique_with_first_indexes(a):
    got, at = unique_first(a)
    want, want_at = np.unique(a, return_index=True)
    assert got.tolist() == want.tolist() and at.tolist() == want_at.tolist()


@given(values)
def test_unique_counts_is_np_unique_with_counts(a):
    got, counts = unique_counts(a)
    want, want_counts = np.unique(a, return_counts=True)
    assert got.tolist() == want.tolist() and counts.tolist() == want_counts.tolist()


def test_unsigned_keys_keep_their_dtype():
    a = np.array([2**63 + 5, 3, 2**63 + 5], dtype=np.uint64)
    assert sorted_unique(a).dtype == np.uint64 and sorted_unique(a).tolist() == [3, 2**63 + 5]
