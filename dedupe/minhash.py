"""Word shingles and MinHash signatures, compiled (dedupe/kernels.py) and compatible with datasketch.

Tokens are `\\w+` runs of the NFKC-normalised, casefolded text. Each token is hashed once: FNV-1a
(32-bit) over its code points, through the MurmurHash3 finaliser (`token_hash`). A k-word shingle's
32-bit hash combines the token hashes of its k words (`combine`), so shingles come from the token
hashes by arithmetic, no per-shingle string. `shingle_hash` computes the same value from a shingle's
bytes, so datasketch can be handed it as `hashfunc`:

    m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)   # scheme "affine32"
    m.update_batch([" ".join(s).encode() for s in shingles])
    assert (m.hashvalues == MinHasher(128, 1).signature(shingle_hashes(tokens, k))).all()

The permutation scheme is datasketch's "affine32" (its default since 2.0): the MurmurHash3
finaliser on the 32-bit value, then h -> a*h + b mod 2^32 with odd a, the parameters drawn from
numpy's RandomState(seed) exactly as datasketch draws them.

Bulk entry points take all of an article's paragraphs at once (`text_token_hashes`): one
normalisation of the joined text, one compiled pass over its code points, no per-token Python call.
`HASH_SCHEME` names the token hash; state/ records it, so signatures made by another scheme are
never compared with these.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from cleaners.folding import casefold_cps
from cleaners.words import word_table_for
from dedupe import kernels

HASH_SCHEME = "fnv1a32-codepoints+fmix32"
_TOKEN = re.compile(r"\w+")
# Multiplier of the polynomial that combines token hashes into a shingle hash (odd, 32-bit).
_COMBINE = np.uint32(kernels.COMBINE)
_SEP = "\x1e"  # joins paragraphs for the compiled pass; not a word character, kept by NFKC and casefold


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> list[str]:
    """Casefolded word tokens of a text (punctuation, case and spacing do not count)."""
    return _TOKEN.findall(_normalise(text))


def text_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The token hashes of several texts (an article's paragraphs) in one pass: (uint32 hashes of all
    tokens in order, int64 token count per text). The same tokens as `tokenize` on each text."""
    if not texts:
        return np.empty(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a text carrying the separator itself
        joined = _SEP.join(t.replace(_SEP, " ") for t in texts)
    cps = casefold_cps(joined)  # NFKC and casefolded (cleaners.folding), as `_normalise` does
    return kernels.hash_tokens(cps, word_table_for(cps), ord(_SEP), len(texts))


def split_counts(flat: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    """A flat array cut into consecutive pieces of the given lengths, as lists of ints."""
    values, out, start = flat.tolist(), [], 0
    for c in counts.tolist():
        out.append(values[start: start + c])
        start += c
    return out


def token_hash(token: str) -> int:
    """The hash of one (normalised) token, as the compiled pass computes it: FNV-1a over the code
    points, then the MurmurHash3 finaliser."""
    h = kernels.FNV_OFFSET
    for ch in token:
        h = ((h ^ ord(ch)) * kernels.FNV_PRIME) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """One 32-bit hash per token (uint32 array); tokens as `tokenize` returns them."""
    th, _ = text_token_hashes([" ".join(tokens)])
    return th


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


def shingle_sets_flat(th: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The set of k-word shingle hashes of each of several texts, from their token hashes given flat
    (as `text_token_hashes` returns them): (the sets concatenated, each sorted; offsets, len(counts) + 1).
    The same sets as np.unique(combine(th_i, k)) per text; shingles never cross a text boundary."""
    return kernels.shingle_sets(np.ascontiguousarray(th, dtype=np.uint32), np.asarray(counts, dtype=np.int64), k)


def flatten(token_hash_lists: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes given one array per text, as `text_token_hashes` gives them: (all, count per text)."""
    counts = np.fromiter((len(th) for th in token_hash_lists), dtype=np.int64, count=len(token_hash_lists))
    flat = np.concatenate(token_hash_lists) if len(token_hash_lists) else np.empty(0, dtype=np.uint32)
    return flat, counts


def shingle_sets(token_hash_lists: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_sets_flat` for token hashes given one array per text."""
    return shingle_sets_flat(*flatten(token_hash_lists), k)


def shingle_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """Hashes (uint32) of the k-word shingles of a token list."""
    return combine(token_hashes(tokens), k)


def shingle_hash(shingle: bytes) -> int:
    """The hash of one shingle given as UTF-8 bytes of space-separated tokens (a datasketch `hashfunc`)."""
    toks = shingle.decode("utf-8").split(" ")
    return int(combine(np.array([token_hash(t) for t in toks], dtype=np.uint32), len(toks))[0])


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

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """The signature (uint32[num_perm]) of a set of shingle hashes; all-max for an empty set."""
        return self.signatures(hashes, [0, len(hashes)])[0]

    def signatures(self, hashes: np.ndarray, offsets: Sequence[int] | np.ndarray) -> np.ndarray:
        """Signatures of consecutive segments of `hashes` (segment i = hashes[offsets[i]:offsets[i+1]]).

        Returns uint32[len(offsets) - 1, num_perm]; an empty segment gets the all-max signature.
        One compiled pass: each hash is finalised once and folded into the running minimum of every
        permutation, with no [n, num_perm] temporary.
        """
        return kernels.segment_minhash(np.ascontiguousarray(hashes, dtype=np.uint32),
                                       np.asarray(offsets, dtype=np.int64), self.a, self.b)


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature slots: the MinHash estimate of the Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
