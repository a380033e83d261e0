"""Article ids of a large corpus held compactly.

The corpus step of a run over a million articles needs every id, but only touches the few hundred
thousand that an edge joins. As a list of Python strings the ids cost ~80 bytes each (object,
pointer); held as one fixed-width bytes array they cost their length (16 bytes for newsclean's hex
ids), and a string is made only for an id that is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Ids(Sequence[str]):
    """A read-only sequence of ASCII ids over a numpy fixed-width bytes array ('S<width>')."""

    __slots__ = ("_a",)

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __len__(self) -> int:
        return len(self._a)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Ids: ...
    def __getitem__(self, i: int | slice) -> str | Ids:
        if isinstance(i, slice):
            return Ids(self._a[i])
        return self._a[i].decode("ascii")

    def __iter__(self) -> Iterator[str]:
        return (b.decode("ascii") for b in self._a.tolist())

    def __repr__(self) -> str:
        return f"Ids({len(self)} ids)"


def compact_ids(columns: Sequence[pa.Array | pa.ChunkedArray]) -> Sequence[str]:
    """The ids of `columns` (string columns, in order, without nulls) as one sequence: `Ids` when
    they are all non-empty ASCII without NUL (newsclean's are hex digests), else a list of str.

    Converted a chunk at a time: the strings of a million ids never exist at once."""
    chunks = [c for col in columns for c in (col.chunks if isinstance(col, pa.ChunkedArray) else [col])]
    n = sum(len(c) for c in chunks)
    if not n:
        return []
    widths = [pc.binary_length(c) for c in chunks if len(c)]
    compact = all(c.null_count == 0 and pc.all(pc.string_is_ascii(c)).as_py() for c in chunks if len(c))
    compact = compact and min(pc.min(w).as_py() for w in widths) > 0
    compact = compact and not any(pc.any(pc.match_substring(c, "\x00")).as_py() for c in chunks if len(c))
    if not compact:
        return [s for c in chunks for s in c.to_pylist()]
    out = np.empty(n, dtype=f"S{max(pc.max(w).as_py() for w in widths)}")
    at = 0
    for c in chunks:
        out[at: at + len(c)] = c.to_pylist()
        at += len(c)
    return Ids(out)
