"""Compiled inner loops (numba) of tokenising, shingling and MinHash: the per-token and per-slot work
that Python and numpy pay for in call overhead and temporaries.

numba is used because these loops are a few lines each over flat arrays: compiled, hashing an
article's tokens, building its paragraphs' shingle sets and reducing 128 permutations cost tens of
microseconds instead of the hundreds that `re.findall` + a per-token hash + numpy's outer product
took (bench/signatures.py). Compiled code is cached next to this file (`cache=True`), so only the
first import on a machine pays the compile.

The functions here take and return numpy arrays only; dedupe/minhash.py wraps them and documents the
hash functions (pure-Python twins of the same arithmetic live there for datasketch's `hashfunc`).
"""

from __future__ import annotations

import numpy as np

from cleaners.jit import njit

M32 = 0xFFFFFFFF
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
COMBINE = 0x9E3779B1


@njit(cache=True, nogil=True, inline="always")
def _fmix32(h: np.uint64) -> np.uint64:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


@njit(cache=True, nogil=True)
def hash_tokens(cps: np.ndarray, word: np.ndarray, sep: int, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of texts given as code points (uint32) separated by `sep`.

    A token is a maximal run of code points marked in `word` (uint8, one entry per code point); its
    hash is FNV-1a over the code points (32-bit) through the MurmurHash3 finaliser. Returns the
    hashes (uint32, in text order) and the number of tokens of each of the `n_texts` texts.
    """
    hashes = np.empty(cps.shape[0] // 2 + 1, dtype=np.uint32)
    counts = np.zeros(n_texts, dtype=np.int64)
    n = 0
    text = 0
    h = np.uint64(0)
    inside = False
    for i in range(cps.shape[0]):
        c = np.uint64(cps[i])
        if c == sep:
            if inside:
                hashes[n] = _fmix32(h)
                n += 1
                counts[text] += 1
                inside = False
            text += 1
        elif word[c]:
            if not inside:
                h = np.uint64(FNV_OFFSET)
                inside = True
            h = ((h ^ c) * np.uint64(FNV_PRIME)) & np.uint64(M32)
        elif inside:
            hashes[n] = _fmix32(h)
            n += 1
            counts[text] += 1
            inside = False
    if inside:
        hashes[n] = _fmix32(h)
        n += 1
        counts[text] += 1
    return hashes[:n], counts


@njit(cache=True, nogil=True)
def shingle_sets(th: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each text's set of k-word shingle hashes (sorted, unique), concatenated, with offsets.

    A shingle's hash is sum(th[i+j] * C^(k-1-j)) mod 2^32; shingles never cross texts; a text shorter
    than k words is one shingle of all its words; an empty text has none.
    """
    n_texts = counts.shape[0]
    total = 0
    for t in range(n_texts):
        c = counts[t]
        total += c - k + 1 if c >= k else (1 if c > 0 else 0)
    out = np.empty(total, dtype=np.uint32)
    offsets = np.zeros(n_texts + 1, dtype=np.int64)
    start = 0
    o = 0
    for t in range(n_texts):
        c = counts[t]
        span = k if c >= k else c
        m = c - span + 1 if c > 0 else 0
        seg = np.empty(m, dtype=np.uint32)
        for s in range(m):
            acc = np.uint64(0)
            for j in range(span):
                acc = (acc * np.uint64(COMBINE) + np.uint64(th[start + s + j])) & np.uint64(M32)
            seg[s] = acc
        seg.sort()
        w = 0
        for s in range(m):
            if w == 0 or seg[s] != out[o + w - 1]:
                out[o + w] = seg[s]
                w += 1
        o += w
        offsets[t + 1] = o
        start += c
    return out[:o], offsets


@njit(cache=True, nogil=True)
def segment_minhash(hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """uint32[len(offsets) - 1, len(a)]: per segment, min over its hashes h of (a * fmix32(h) + b) mod 2^32
    (datasketch's affine32 permutations); an empty segment is all 0xFFFFFFFF."""
    n_seg = offsets.shape[0] - 1
    p = a.shape[0]
    out = np.full((n_seg, p), M32, dtype=np.uint32)
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    for s in range(n_seg):
        row = out[s]
        for i in range(offsets[s], offsets[s + 1]):
            x = np.uint64(_fmix32(np.uint64(hashes[i])))
            for j in range(p):
                row[j] = min(row[j], np.uint32((a64[j] * x + b64[j]) & np.uint64(M32)))
    return out


@njit(cache=True, nogil=True)
def join_words(cps: np.ndarray, word: np.ndarray) -> np.ndarray:
    """The runs of code points marked in `word` (uint8 per code point), in order, one space (32)
    between runs: a text's tokens joined by single spaces, in the dtype of `cps`."""
    out = np.empty_like(cps)
    n = 0
    inside = False
    for i in range(cps.shape[0]):
        c = cps[i]
        if word[c]:
            if not inside and n > 0:
                out[n] = 32
                n += 1
            out[n] = c
            n += 1
            inside = True
        else:
            inside = False
    return out[:n]


@njit(cache=True, nogil=True)
def _doubled(a: np.ndarray) -> np.ndarray:
    """`a` copied into an array twice as long (its first axis), the rest left unset."""
    out = np.empty((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True, nogil=True)
def candidate_pairs(sigs: np.ndarray, sizes: np.ndarray, lens: np.ndarray, first: np.ndarray, last: np.ndarray,
                    out: np.ndarray, jaccard_floor: float, containment_floor: float) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j, row by row) of an article's paragraphs worth verifying, and whether each is
    `near`: the MinHash estimate e (share of equal slots of their signatures) is at least
    `jaccard_floor`, or the containment it implies for the smaller set,
    e * (|A| + |B|) / ((1 + e) * min(|A|, |B|)), at least `containment_floor`. A pair is a candidate
    when near, or when its token counts `lens` differ by at most one and it could differ by one word:
    one edit leaves the first or the last token in place (`first`, `last`: each paragraph's first
    and last token hash), unless a paragraph has fewer than two; and neither paragraph is `out`.
    The same arithmetic, in the same order, as the numpy expression over whole matrices it replaces.
    (Without the first/last test, a list of thousands of same-length lines made every pair a
    candidate that Python then compared word by word: 4,000 paragraphs took 23 s.)"""
    n, p = sigs.shape
    cap = min(n * (n - 1) // 2, 4 * n + 16)  # grown when full: most articles have few candidates
    pairs = np.empty((cap, 2), dtype=np.int64)
    near = np.empty(cap, dtype=np.bool_)
    m = 0
    for i in range(n):
        if out[i]:
            continue
        for j in range(i + 1, n):
            if out[j]:
                continue
            same = 0
            for k in range(p):
                same += sigs[i, k] == sigs[j, k]
            est = same / p
            small = min(sizes[i], sizes[j])
            c_est = est * (sizes[i] + sizes[j]) / ((1.0 + est) * small) if small > 0 else 0.0
            is_near = est >= jaccard_floor or c_est >= containment_floor
            if is_near or (abs(lens[i] - lens[j]) <= 1 and (
                    min(lens[i], lens[j]) < 2 or first[i] == first[j] or last[i] == last[j])):
                if m == pairs.shape[0]:
                    pairs, near = _doubled(pairs), _doubled(near)
                pairs[m, 0] = i
                pairs[m, 1] = j
                near[m] = is_near
                m += 1
    return pairs[:m], near[:m]


@njit(cache=True, nogil=True)
def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """How many values two sorted arrays of unique values share (one merge pass)."""
    i = j = n = 0
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] < b[j]:
            i += 1
        elif a[i] > b[j]:
            j += 1
        else:
            n += 1
            i += 1
            j += 1
    return n
