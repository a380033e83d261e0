"""Compact article ids: the same sequence of strings as a list, whatever the chunks."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.ids import Ids, compact_ids

HEX = st.text(alphabet="0123456789abcdef", min_size=1, max_size=20)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(HEX, max_size=6), max_size=5))
def test_ascii_ids_are_held_compactly_and_read_back_unchanged(chunks):
    columns = [pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string()), pa.array(["tail"])]
    flat = [s for c in chunks for s in c] + ["tail"]
    ids = compact_ids(columns)
    assert isinstance(ids, Ids)
    assert len(ids) == len(flat) and list(ids) == flat and [ids[i] for i in range(len(flat))] == flat
    assert list(ids[1:3]) == flat[1:3] and ("tail" in ids) and ids.index("tail") == len(flat) - 1


@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=8))
def test_any_other_ids_come_back_as_a_list(values):
    ids = compact_ids([pa.array(values, pa.string())])
    assert list(ids) == values
    if not all(v and v.isascii() and "\x00" not in v for v in values):
        assert isinstance(ids, list)


def test_no_columns_or_empty_columns_give_no_ids():
    assert list(compact_ids([])) == [] and list(compact_ids([pa.array([], pa.string())] * 2)) == []
