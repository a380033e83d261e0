"""Exact duplicate keys (the same clean text, the same normalised URL) and the survivor rule shared by
every kind of duplicate cluster (`survivor_rank`). Clustering itself is in dedupe/corpus.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from cleaners.folding import casefold_cps
from cleaners.words import word_table_for
from dedupe import kernels
from dedupe.arrays import unique_first


def content_hash(text: str) -> str:
    """Hash of the text's casefolded word tokens: punctuation, case and spacing do not matter.

    The xxh3-128 of the tokens (dedupe.minhash.tokenize) joined by single spaces, in UTF-8. The
    tokens are joined in one compiled pass over the code points (`kernels.join_words`), not by a
    regex over the text: the same value (a test checks it against that definition) in about a
    third of the regex's time and two thirds of the numpy array operations' that it replaced
    (2,000 articles of a bench/generate.py feed). NFKC and casefolding go through
    cleaners.folding.casefold_cps (a table lookup per code point, not str.casefold)."""
    if text.isascii():  # NFKC leaves ASCII alone, casefold is lower(): joined as bytes, no UTF-32 round trip
        ascii_cps = np.frombuffer(text.lower().encode("ascii"), dtype=np.uint8)
        return xxhash.xxh3_128_hexdigest(kernels.join_words(ascii_cps, word_table_for(ascii_cps)).tobytes())
    cps = casefold_cps(text)  # NFKC and casefolded (cleaners.folding)
    joined = kernels.join_words(cps, word_table_for(cps))
    return xxhash.xxh3_128_hexdigest(joined.tobytes().decode("utf-32-le").encode("utf-8"))


def url_key(url: str | None) -> str | None:
    """A normalised URL for identity (scheme, 'www.', tracking parameters, fragment and case of host ignored).

    Returns None for a missing or unparsable URL and for a site's root page: a scraper that logs the
    front page as every article's URL must not make every article a duplicate of the others.
    """
    if not url or len(url) > 4000:
        return None
    from courlan import normalize_url

    try:
        norm = normalize_url(url.strip(), strict=False, trailing_slash=False)
    except Exception:  # courlan raises ValueError and others on junk
        return None
    norm = re.sub(r"^[a-z][a-z0-9+.-]*://", "", norm.split("#", 1)[0], flags=re.I)
    host, _, rest = norm.partition("/")
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    rest = rest.rstrip("/")
    if not host or not rest:
        return None
    return f"{host}/{rest}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the survivor rule and the exact keys need to know about one article."""

    article_id: str
    content_hash: str
    url_key: str | None
    published_ts: float | None  # seconds since the epoch, UTC; None when unknown
    text_chars: int
    earlier: bool = False  # already kept by an earlier run
    cluster_id: str | None = None  # the earlier run's cluster, for earlier articles


def survivor_rank(c: Candidate) -> tuple[int, int, float, int, str]:
    """Sort key of the survivor rule: the smallest key is kept.

    1. an article of an earlier run ranks first (an earlier survivor stays the survivor);
    2. the earliest published_at (unknown dates last);
    3. the most complete text (most characters);
    4. the smallest article_id (a stable tie-break, never file order).
    """
    return (0 if c.earlier else 1, 0 if c.published_ts is not None else 1,
            c.published_ts or 0.0, -c.text_chars, c.article_id)


class CandidateColumns:
    """The survivor-rule fields and exact keys of many articles as columns, with no Python object per
    article (a large run's corpus step holds a million of them: ~300 bytes each as Candidates).

    The exact keys are integer codes: two articles with the same clean text (or URL) have the same
    code, -1 is no key (a caller with Arrow dictionary-encodes its string columns)."""

    def __init__(self, article_id: Sequence[str], content_key: np.ndarray, url_key: np.ndarray,
                 published_ts: np.ndarray, text_chars: np.ndarray, earlier: np.ndarray,
                 cluster_id: Sequence[str | None]) -> None:
        self.article_id = article_id
        self.content_key = content_key  # int64 codes
        self.url_key = url_key  # int64 codes
        self.published_ts = published_ts  # float64 seconds since the epoch, NaN when unknown
        self.text_chars = text_chars  # int64
        self.earlier = earlier  # bool
        self.cluster_id = cluster_id  # the earlier run's cluster (earlier articles), else None

    @classmethod
    def of(cls, cands: Sequence[Candidate]) -> CandidateColumns:
        """Columns of a list of Candidates."""
        return cls([c.article_id for c in cands], key_codes([c.content_hash for c in cands]),
                   key_codes([c.url_key for c in cands]),
                   np.array([np.nan if c.published_ts is None else c.published_ts for c in cands], dtype=np.float64),
                   np.array([c.text_chars for c in cands], dtype=np.int64),
                   np.array([c.earlier for c in cands], dtype=bool), [c.cluster_id for c in cands])

    def __len__(self) -> int:
        return len(self.article_id)

    def rank(self, i: int) -> tuple[int, int, float, int, str]:
        """`survivor_rank` of article i."""
        ts = float(self.published_ts[i])
        known = ts == ts
        return (0 if self.earlier[i] else 1, 0 if known else 1, ts if known else 0.0, -int(self.text_chars[i]),
                self.article_id[i])


def as_columns(cands: Sequence[Candidate] | CandidateColumns) -> CandidateColumns:
    return cands if isinstance(cands, CandidateColumns) else CandidateColumns.of(cands)


def key_codes(values: Sequence[str | None]) -> np.ndarray:
    """int64 codes of string keys: equal strings, equal codes; -1 for a missing or empty key."""
    codes: dict[str, int] = {}
    return np.fromiter((codes.setdefault(v, len(codes)) if v else -1 for v in values), dtype=np.int64,
                       count=len(values))


def same_key_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, later): for every row whose key code (>= 0) an earlier row already has, that earlier
    row's first occurrence and the row."""
    pos = np.flatnonzero(codes >= 0)
    if not len(pos):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    c = codes[pos]
    first = np.full(int(c.max()) + 1, -1, dtype=np.int64)
    uniq, at = unique_first(c)  # each key's first occurrence
    first[uniq] = pos[at]
    later = first[c] != pos
    return first[c[later]], pos[later]
