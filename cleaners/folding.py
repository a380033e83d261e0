"""NFKC + casefolding, and the recurring-line normal forms built on them, over code point arrays.

`str.casefold()` on a 4 KB article with a curly quote in it (most of them: CPython then leaves its
one-byte fast path) took 30-50 µs, and NFKC 15-25 µs; dedupe tokenises every article's paragraphs
(dedupe.minhash), hashes its clean text (dedupe.exact.content_hash) and normalises each of its
lines for the recurring-line keys (cleaners.recurring), each once. Here casefolding is a table
lookup per code point in one compiled pass (`casefold_cps`), and NFKC runs only on text that is
not already in NFKC (`unicodedata.is_normalized`, a read-only check, about half the cost of
normalising). `normal_forms` gives all of an article's line normal forms from one such pass.
Per article of a generated feed (1,000 articles, best of four interleaved rounds): content_hash
60 -> 51 µs, the paragraphs' token hashes 62 -> 53 µs, the lines' normal forms 127 -> 93 µs.

The results are exactly the standard library's: the tables are built from `str.casefold` per code
point (up to three code points for one: 'ß' -> 'ss'), `\\d` and `str.isspace` (hypothesis tests
hold every function here equal to its definition in Python). Tables are built one Unicode plane at
a time, when a text first reaches that plane (plane 0: ~30 ms; planes 4-16, which hold nothing that
folds or counts as a digit or space, without a scan: cleaners.words.BLANK_PLANES_FROM).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cleaners.jit import njit
from cleaners.words import BLANK_PLANES_FROM, PLANE, code_points, plane_chars, plane_mask, planes_for

_CHUNK = 256  # casefolded a chunk at a time; only a chunk that changes is looked at per code point
DIGIT = 1  # `kinds` bits: what `re` takes for \d (Unicode decimal digits)
SPACE = 2  # what str.split() splits on (str.isspace)
_DIGIT_RE = re.compile(r"\d")
_SPACE_RE = re.compile(r"\s")  # \s of a str pattern is str.isspace


@lru_cache(maxsize=17)
def _plane(plane: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fold uint32[P, 3], fold length uint8[P], kinds uint8[P]) for the code points of one plane."""
    base = plane * PLANE
    fold = np.zeros((PLANE, 3), dtype=np.uint32)
    fold[:, 0] = np.arange(base, base + PLANE, dtype=np.uint32)
    flen = np.ones(PLANE, dtype=np.uint8)
    if plane >= BLANK_PLANES_FROM:  # nothing folds, no digit, no space
        return fold, flen, np.zeros(PLANE, dtype=np.uint8)
    every = plane_chars(plane)
    for lo in range(0, PLANE, _CHUNK):
        chunk = every[lo: lo + _CHUNK]
        if chunk.casefold() == chunk:
            continue
        for i, ch in enumerate(chunk, start=lo):
            folded = ch.casefold()
            if folded != ch:
                flen[i] = len(folded)
                fold[i, : len(folded)] = [ord(c) for c in folded]
    kinds = plane_mask(_DIGIT_RE, plane) * DIGIT | plane_mask(_SPACE_RE, plane) * SPACE
    return fold, flen, kinds


@lru_cache(maxsize=4)
def _tables(planes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [_plane(p) for p in range(planes)]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def tables_for(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fold, fold length, kinds) covering every code point of `cps` (casefolding stays in its plane)."""
    return _tables(planes_for(cps))


@njit(cache=True, nogil=True)
def _fold(cps: np.ndarray, fold: np.ndarray, flen: np.ndarray) -> np.ndarray:
    n = 0
    for i in range(cps.shape[0]):
        n += flen[cps[i]]
    out = np.empty(n, dtype=np.uint32)  # the exact size: a larger buffer cost more than this pass
    n = 0
    for i in range(cps.shape[0]):
        c = cps[i]
        if flen[c] == 1:
            out[n] = fold[c, 0]
            n += 1
        else:
            for k in range(flen[c]):
                out[n] = fold[c, k]
                n += 1
    return out


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), without building a new string for text already in NFKC."""
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def casefold_cps(text: str) -> np.ndarray:
    """The code points of unicodedata.normalize("NFKC", text).casefold(), uint32."""
    cps = code_points(nfkc(text))
    if not len(cps):
        return cps
    fold, flen, _ = tables_for(cps)
    return _fold(cps, fold, flen)


@njit(cache=True, nogil=True)
def _normal_forms(cps: np.ndarray, ascii_lines: np.ndarray, fold: np.ndarray, flen: np.ndarray,
                  kinds: np.ndarray) -> np.ndarray:
    """Lines separated by 10 (\\n) in `cps` -> their normal forms, separated by 10 (see `normal_forms`)."""
    n = 0
    for i in range(cps.shape[0]):
        n += flen[cps[i]]
    out = np.empty(n, dtype=np.uint32)  # folding may lengthen the text; nothing else does
    n = 0
    line = 0
    pending = False  # whitespace seen after some of the line's text (a non-ASCII line)
    started = False
    digits = False  # inside a run of digits, which becomes one '0'
    for i in range(cps.shape[0]):
        c = cps[i]
        if c == 10:
            out[n] = 10
            n += 1
            line += 1
            pending = started = digits = False
            continue
        collapse = not ascii_lines[line]
        for k in range(flen[c]):
            f = fold[c, k]
            kind = kinds[f]
            if collapse and kind & SPACE:
                pending = started
                digits = False
                continue
            if kind & DIGIT and digits:
                continue
            if pending:
                out[n] = 32
                n += 1
                pending = False
            if kind & DIGIT:
                out[n] = 48
                digits = True
            else:
                out[n] = f
                digits = False
            n += 1
            started = True
    return out[:n]


_ASCII_DIGIT_RUNS = re.compile(r"[0-9]+")


def normal_forms(lines: Sequence[str]) -> list[str]:
    """For lines already through cleaners.normalize.normalize_line, the recurring-line normal form
    of each (cleaners.recurring.normal_form): an ASCII line lower-cased, any other NFKC-normalised,
    casefolded and its whitespace collapsed; then every run of digits '0'. All lines in one pass;
    a line must not contain '\\n'."""
    if not lines:
        return []
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:
        raise ValueError("normal_forms: a line holds a line break (split lines on '\\n' first)")
    if joined.isascii():
        return _ASCII_DIGIT_RUNS.sub("0", joined.lower()).split("\n")
    ascii_lines = np.fromiter((s.isascii() for s in lines), dtype=np.uint8, count=len(lines))
    cps = code_points(nfkc(joined))  # NFKC never joins or splits across a line break
    fold, flen, kinds = tables_for(cps)
    out = _normal_forms(cps, ascii_lines, fold, flen, kinds)
    return out.tobytes().decode("utf-32-le", "surrogatepass").split("\n")
