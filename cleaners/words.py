"""Words (`\\w+` runs) counted for many lines at once, and the per-code-point table of what `\\w` is.

The cleaners need every line's word count (`engine.clean_article`); dedupe tokenises on the same
`\\w` (dedupe/minhash.py uses `word_table_for`). Counting an article's lines one regex call at a
time cost ~120 µs per 20-line article of a generated feed, most of it on the lines with a curly
quote or a dash (re.findall builds the list of words: 9 µs for such a line against 1.6 µs for an
ASCII one counted over its bytes); `word_counts` joins the lines and counts them in one compiled
pass over the code points: ~30 µs for the same article, the same counts (a hypothesis test holds
them equal to re.findall's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cleaners.jit import njit

_WORD = re.compile(r"\w+")
_SEP = "\n"  # joins the lines for the compiled pass; not a word character
PLANE = 0x10000  # code points per Unicode plane; plane 0 is the Basic Multilingual Plane
_PLANES = 17
# Planes 4 to 16 hold no letter, digit, space or cased character in any Unicode version to date
# (4-13 unassigned, 14 tags and variation selectors, 15-16 private use): their tables are built
# without scanning the plane (the first subdivision flag's tag characters, plane 14, cost a process
# ~0.6 s of scans of every plane up to it; now ~0.2 s). Tests compare every code point's entry with
# Python's own answer, so a Unicode version that assigns letters there fails them.
BLANK_PLANES_FROM = 4


def plane_chars(plane: int) -> str:
    """Every code point of one plane, in order, as one string (for building per-plane tables)."""
    return "".join(map(chr, range(plane * PLANE, (plane + 1) * PLANE)))


def plane_mask(rx: re.Pattern[str], plane: int) -> np.ndarray:
    """uint8 per code point of one plane: 1 where `rx` (a character class, or a run of one) matches."""
    table = np.zeros(PLANE, dtype=np.uint8)
    for m in rx.finditer(plane_chars(plane)):
        table[m.start(): m.end()] = 1
    return table


@njit(cache=True, nogil=True)
def _top(cps: np.ndarray) -> int:
    """The largest value of a non-empty array (half the time of ndarray.max() on an article)."""
    top = cps[0]
    for i in range(1, cps.shape[0]):
        if cps[i] > top:
            top = cps[i]
    return top


def planes_for(cps: np.ndarray) -> int:
    """How many planes, from the first, a table needs to cover every code point in `cps`. An array
    of one or two bytes a code point (ASCII text as bytes) cannot leave the first plane: not scanned."""
    if cps.dtype.itemsize <= 2 or not len(cps):
        return 1
    return int(_top(cps)) // PLANE + 1


def code_points(text: str) -> np.ndarray:
    """The text's code points, uint32 (a lone surrogate passes through as its own value)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@lru_cache(maxsize=_PLANES)
def _plane_table(plane: int) -> np.ndarray:
    """uint8 per code point of one plane: 1 where `re` takes it for `\\w` (a few milliseconds)."""
    if plane >= BLANK_PLANES_FROM:
        return np.zeros(PLANE, dtype=np.uint8)
    return plane_mask(_WORD, plane)


@lru_cache(maxsize=4)
def _word_table(planes: int) -> np.ndarray:
    return np.concatenate([_plane_table(p) for p in range(planes)])


def word_table() -> np.ndarray:
    """uint8 per code point: 1 where `\\w` matches, built once per process (0.1-0.25 s;
    `word_table_for` builds only the planes a text reaches)."""
    return _word_table(_PLANES)


def word_table_for(cps: np.ndarray) -> np.ndarray:
    """A `word_table` that covers every code point in `cps`: the planes up to the highest one among
    them, built on first use. Text with an emoji (plane 1) needs two planes, not all seventeen:
    building the whole table cost every worker 0.25 s the first time a page held one (`planes_for`)."""
    return _word_table(planes_for(cps))


@njit(cache=True, nogil=True)
def _run_counts(cps: np.ndarray, word: np.ndarray, sep: int, n_texts: int) -> np.ndarray:
    """int64[n_texts]: the runs of code points marked in `word` in each of the texts that `sep`
    separates in `cps` (n_texts - 1 separators)."""
    out = np.zeros(n_texts, dtype=np.int64)
    t = 0
    inside = False
    for i in range(cps.shape[0]):
        c = cps[i]
        if c == sep:
            t += 1
            inside = False
        elif word[c]:
            if not inside:
                out[t] += 1
                inside = True
        else:
            inside = False
    return out


def word_counts(texts: Sequence[str]) -> list[int]:
    """How many `\\w+` runs each text holds: [len(re.findall(r"\\w+", t)) for t in texts], in one pass."""
    if not texts:
        return []
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a text with a line break of its own: one regex call per text
        return [len(_WORD.findall(t)) for t in texts]
    cps = code_points(joined)
    return _run_counts(cps, word_table_for(cps), ord(_SEP), len(texts)).tolist()


# Every code point `str.isspace` (hence `str.split`) takes for whitespace is below SPACE_LIMIT
# (U+3000, the ideographic space, is the last; a test checks all of Unicode).
SPACE_LIMIT = 0x3001
_SPACE = np.array([chr(c).isspace() for c in range(SPACE_LIMIT)], dtype=np.bool_)


@njit(cache=True, nogil=True)
def _split_runs(cps: np.ndarray, space: np.ndarray) -> int:
    """The runs of code points that are not whitespace (`space`, indexed below its length)."""
    n = 0
    inside = False
    limit = space.shape[0]
    for i in range(cps.shape[0]):
        c = cps[i]
        if c < limit and space[c]:
            inside = False
        elif not inside:
            n += 1
            inside = True
    return n


def split_count(text: str) -> int:
    """len(text.split()) without making the strings: the runs of non-whitespace code points, in
    one compiled pass (every article's `word_count`; ~50 -> ~20 µs for a generated article)."""
    return _split_runs(code_points(text), _SPACE)


# ASCII bytes of word characters (\w: letters, digits, '_') become 'a', all others a space: an ASCII
# line's words are then the runs of 'a' that bytes.split() counts, twice as fast as a regex findall.
_ASCII_WORDS = bytes(ord("a") if chr(i).isalnum() or chr(i) == "_" else ord(" ") for i in range(128)) + b" " * 128


def word_count(text: str) -> int:
    """How many `\\w+` runs (words) one text holds (`word_counts` for many)."""
    if text.isascii():
        return len(text.encode("ascii").translate(_ASCII_WORDS).split())
    return len(_WORD.findall(text))
