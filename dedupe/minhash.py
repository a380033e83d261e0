"""Word shingles and MinHash signatures, vectorised with numpy and compatible with datasketch.

Tokens are NFKC-casefolded `\\w+` runs. Each token is hashed once (xxh32); a k-word shingle's
32-bit hash combines the token hashes of its k words (`combine`), so shingles of any size come
from the same token hashes with array arithmetic, no per-shingle Python call. `shingle_hash`
computes the same value from a shingle's bytes, so datasketch can be handed it as `hashfunc`:

    m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)   # scheme "affine32"
    m.update_batch([" ".join(s).encode() for s in shingles])
    assert (m.hashvalues == MinHasher(128, 1).signature(shingle_hashes(tokens, k))).all()

The permutation scheme is datasketch's "affine32" (its default since 2.0): the MurmurHash3
finaliser on the 32-bit value, then h -> a*h + b mod 2^32 with odd a, the parameters drawn from
numpy's RandomState(seed) exactly as datasketch draws them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import xxhash

_TOKEN = re.compile(r"\w+")
_U32 = np.uint32
_M1, _M2 = _U32(0x85EBCA6B), _U32(0xC2B2AE35)
# Multiplier of the polynomial that combines token hashes into a shingle hash (odd, 32-bit).
_COMBINE = np.uint32(0x9E3779B1)


def tokenize(text: str) -> list[str]:
    """Casefolded word tokens of a text (punctuation, case and spacing do not count)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


class _TokenHashCache(dict[str, int]):
    """token -> xxh32 of its UTF-8 bytes, filled on first use (words repeat across a corpus)."""

    MAX = 1 << 20

    def __missing__(self, token: str) -> int:
        if len(self) >= self.MAX:
            self.clear()
        h = self[token] = xxhash.xxh32_intdigest(token.encode("utf-8"))
        return h


_TOKEN_HASHES = _TokenHashCache()


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """One 32-bit hash per token (uint32 array): xxh32 of its UTF-8 bytes."""
    return np.fromiter(map(_TOKEN_HASHES.__getitem__, tokens), dtype=np.uint32, count=len(tokens))


def combine(th: np.ndarray, k: int) -> np.ndarray:
    """Hashes of the k-word shingles of a token-hash array: sum of th[i+j] * C^(k-1-j) mod 2^32.

    A text shorter than k words yields one shingle made of all its words; an empty one yields none.
    """
    n = len(th)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    if n <= k:
        k = n
    with np.errstate(over="ignore"):
        out = th[: n - k + 1].astype(np.uint32).copy()
        for j in range(1, k):
            out = out * _COMBINE + th[j: n - k + 1 + j]
    return out


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique of a flat integer array by one sort (faster here than np.unique's hashing)."""
    a = np.sort(values)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def shingle_sets(token_hash_lists: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The set of k-word shingle hashes of each of several texts (an article's paragraphs), computed for
    all of them at once: (the sets concatenated, each sorted; offsets, len(texts) + 1).

    The same sets as np.unique(combine(th, k)) per text, but with one pass of array arithmetic over
    the concatenated token hashes (shingles crossing a text boundary are dropped) and one sort, so
    the cost does not grow with the number of paragraphs. A text shorter than k words is one
    shingle of all its words, as in `combine`."""
    lens = np.fromiter((len(th) for th in token_hash_lists), dtype=np.int64, count=len(token_hash_lists))
    n_texts = len(lens)
    if not n_texts or not lens.sum():
        return np.empty(0, dtype=np.uint32), np.zeros(n_texts + 1, dtype=np.int64)
    starts = np.cumsum(lens) - lens
    glued = np.concatenate(token_hash_lists).astype(np.uint32, copy=False)
    full = lens >= k
    per_text = np.where(full, lens - k + 1, (lens > 0).astype(np.int64))
    # positions (in the glued array) of every shingle of the texts with at least k words
    counts = np.where(full, lens - k + 1, 0)
    first = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    hashes = np.empty(int(per_text.sum()), dtype=np.uint32)
    owner = np.repeat(np.arange(n_texts, dtype=np.uint64), per_text)
    is_full = np.repeat(full, per_text)
    with np.errstate(over="ignore"):
        acc = glued[first].copy()
        for j in range(1, k):
            acc = acc * _COMBINE + glued[first + j]
    hashes[is_full] = acc
    short = np.flatnonzero(~full & (lens > 0))  # a heading, a label: one shingle of all its words
    if len(short):
        with np.errstate(over="ignore"):
            acc = glued[starts[short]].copy()
            for j in range(1, k - 1):
                more = lens[short] > j
                acc[more] = acc[more] * _COMBINE + glued[starts[short][more] + j]
        hashes[~is_full] = acc
    keyed = sorted_unique((owner << np.uint64(32)) | hashes.astype(np.uint64))
    offsets = np.searchsorted(keyed >> np.uint64(32), np.arange(n_texts + 1, dtype=np.uint64))
    return (keyed & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets.astype(np.int64)


def shingle_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """Hashes (uint32) of the k-word shingles of a token list."""
    return combine(token_hashes(tokens), k)


def shingle_hash(shingle: bytes) -> int:
    """The hash of one shingle given as UTF-8 bytes of space-separated tokens (a datasketch `hashfunc`)."""
    toks = shingle.decode("utf-8").split(" ")
    return int(combine(token_hashes(toks), len(toks))[0])


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, element-wise (the pre-mix of datasketch's affine32 scheme)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> _U32(16))
        h = h * _M1
        h = h ^ (h >> _U32(13))
        h = h * _M2
        return h ^ (h >> _U32(16))


EMPTY = np.uint32(0xFFFFFFFF)


class MinHasher:
    """MinHash signatures with `num_perm` affine32 permutations drawn from `seed` (as datasketch)."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        gen = np.random.RandomState(seed)
        self.num_perm, self.seed = num_perm, seed
        self.a = (gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)).astype(np.uint32)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def permuted(self, hashes: np.ndarray) -> np.ndarray:
        """uint32[len(hashes), num_perm]: every hash under every permutation (one allocation)."""
        with np.errstate(over="ignore"):
            out = np.multiply.outer(fmix32(hashes.astype(np.uint32)), self.a)
            out += self.b
            return out

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """The signature (uint32[num_perm]) of a set of shingle hashes; all-max for an empty set."""
        if len(hashes) == 0:
            return np.full(self.num_perm, EMPTY, dtype=np.uint32)
        return self.permuted(np.unique(hashes)).min(axis=0)

    def signatures(self, hashes: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
        """Signatures of consecutive segments of `hashes` (segment i = hashes[offsets[i]:offsets[i+1]]).

        Returns uint32[len(offsets) - 1, num_perm]; an empty segment gets the all-max signature.
        """
        n_seg = len(offsets) - 1
        out = np.full((n_seg, self.num_perm), EMPTY, dtype=np.uint32)
        if n_seg <= 0 or len(hashes) == 0:
            return out
        perm = self.permuted(hashes)
        starts = np.asarray(offsets[:-1], dtype=np.int64)
        ends = np.asarray(offsets[1:], dtype=np.int64)
        nonempty = ends > starts
        if nonempty.any():
            out[nonempty] = np.minimum.reduceat(perm, starts[nonempty], axis=0)
        return out


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature slots: the MinHash estimate of the Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
