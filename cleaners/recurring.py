"""Corpus-adaptive debris: lines that recur across many different articles are boilerplate.

A site's templates put the same lines into every page ("Resize Text", "Report Error", "Фото:",
"Join our forums to keep talking ..."); no rule names them, but they give themselves away by
recurring. A line's key is its casefolded text with digits and whitespace normalised, hashed to a
stable 64-bit integer, once per site (when the site is known) and once globally.

The pipeline counts keys in two passes (cleaners only define the keys and the decision):
1. for every article, `article_line_keys` gives each distinct key once, with whether the line
   reads as body text there (a long sentence-like paragraph); `KeyTally` sums that over a batch
   of articles in arrays;
2. `is_recurring` decides from the counts: a key is boilerplate when it occurs in at least
   `site_min` distinct articles of one site (or `global_min` articles overall) AND in at most
   `max_body_share` of its occurrences it read as body text. So a line is never removed on the
   evidence of its own article alone, and a paragraph that is real text in most of its
   occurrences (a background paragraph many stories share) stays.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from cleaners.folding import normal_forms
from cleaners.normalize import normalize_line

_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"""[.!?。！？]["'”’»)\]]*$""")

GLOBAL_SCOPE = ""


@dataclass(frozen=True)
class RecurringPolicy:
    """Thresholds of recurring-line learning (documented defaults; a flow parameter can change them)."""

    site_min: int = 3  # distinct articles of one site
    global_min: int = 4  # distinct articles overall (sites unknown or many)
    max_body_share: float = 0.5  # a key that read as body text in more than this share of articles stays
    max_words: int = 60  # longer lines are never learned (a shared paragraph is a duplicate, not a template)


_ASCII_DIGITS = b"0123456789"
_ASCII_DIGIT_RUNS = re.compile(r"[0-9]+")


def normal_form(line: str) -> str:
    """Casefolded, NFKC, digits as '0', whitespace collapsed: 'Updated 12:05 PM' -> 'updated 0:0 pm'.

    Written for speed, not as the three regex substitutions it amounts to (a hypothesis test holds
    them equal): an ASCII line looks for digits with bytes.translate before any regex runs, and
    whitespace is collapsed by str.split (the same whitespace as the regex's \\s)."""
    s = normalize_line(line)
    if s.isascii():
        s = s.lower()
        b = s.encode("ascii")
        return s if len(b.translate(None, _ASCII_DIGITS)) == len(b) else _ASCII_DIGIT_RUNS.sub("0", s)
    return _DIGITS.sub("0", " ".join(unicodedata.normalize("NFKC", s).casefold().split()))


def line_key(normal: str, scope: str = GLOBAL_SCOPE) -> int:
    """Stable 64-bit key of a normalised line within a scope (a site, or the global scope)."""
    return xxhash.xxh3_64_intdigest(f"{scope}\x00{normal}".encode())


def scope_of(site: str | None) -> str:
    return (site or "").strip().lower().removeprefix("www.")


def _reads_as_body(norm: str) -> bool:
    """A long sentence-like line (12 words or more, closing punctuation)."""
    return norm.count(" ") >= 11 and bool(_SENTENCE_END.search(norm))


def normal_lines(blocks: Sequence[str]) -> list[str]:
    """The normal form (`normal_form`) of every line of an article, computed once for the key
    counts and the story fingerprint. All of them in one compiled pass (cleaners.folding.normal_forms:
    the same strings, about half the time of `normal_form` a line at a time)."""
    return normal_forms([normalize_line(line) for block in blocks for line in block.split("\n")])


def line_keys(norms: Sequence[str], site: str | None, policy: RecurringPolicy = RecurringPolicy()) -> list[tuple[int, ...]]:
    """Each line's keys in the scopes of `site` (`scopes_of`), from its normal form (`normal_lines`);
    () for an empty line or one of `max_words` words or more, which is never learned. Computed once
    when the keys are counted, they are what the cleaners look up later (`clean_article`'s
    `line_keys`), so a line is normalised and hashed once per run."""
    scopes = scopes_of(site)
    return [tuple(line_key(n, sc) for sc in scopes) if n and n.count(" ") < policy.max_words else ()
            for n in norms]


def article_line_keys(blocks: Sequence[str], site: str | None,
                      policy: RecurringPolicy = RecurringPolicy(),
                      norms: Sequence[str] | None = None,
                      keys: Sequence[tuple[int, ...]] | None = None) -> dict[int, tuple[bool, bool]]:
    """Each distinct line key of one article -> (is a site-scope key, the line read as body text there).
    `norms`: the article's `normal_lines`, and `keys` its `line_keys`, when already computed."""
    scopes = scopes_of(site)
    norms = normal_lines(blocks) if norms is None else norms
    keys = line_keys(norms, site, policy) if keys is None else keys
    out: dict[int, tuple[bool, bool]] = {}
    for norm, ks in zip(norms, keys, strict=True):
        if not ks:
            continue
        body = _reads_as_body(norm)
        for sc, k in zip(scopes, ks, strict=True):
            prev = out.get(k)
            out[k] = (sc != GLOBAL_SCOPE, body or (prev is not None and prev[1]))
    return out


class KeyTally:
    """The line-key counts of many articles, as `article_line_keys` per article summed per key would
    give them, kept as flat lists while articles come and summed once in arrays (`counts`).

    Per key: whether it is a site-scope key, in how many of the added articles it occurs, and in how
    many of those it read as body text (any of its lines there). `add` costs each line a test and
    three list extensions; the per-article dictionary and the per-key sums that a Python loop
    paid (~150 µs an article of 34 lines) are sorting and segment sums over the whole batch."""

    def __init__(self) -> None:
        self._keys: list[int] = []
        self._site: list[bool] = []
        self._body: list[bool] = []
        self._article: list[int] = []
        self.articles = 0

    def add(self, norms: Sequence[str], keys: Sequence[tuple[int, ...]], site: str | None) -> None:
        """One article: its lines' normal forms (`normal_lines`) and keys (`line_keys` for `site`)."""
        flags = tuple(sc != GLOBAL_SCOPE for sc in scopes_of(site))
        n = len(self._keys)
        for norm, ks in zip(norms, keys, strict=True):
            if ks:
                self._keys.extend(ks)
                self._site.extend(flags)
                self._body.extend((_reads_as_body(norm),) * len(ks))
        self._article.extend((self.articles,) * (len(self._keys) - n))
        self.articles += 1

    def counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(keys uint64 ascending, is a site-scope key bool, articles int64, articles as body int64)."""
        keys = np.array(self._keys, dtype=np.uint64)
        if not len(keys):
            return keys, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        article = np.array(self._article, dtype=np.int64)
        order = np.lexsort((article, keys))
        keys, article = keys[order], article[order]
        body = np.array(self._body, dtype=np.int8)[order]
        site = np.array(self._site, dtype=np.int8)[order]
        # one entry per (key, article): the line read as body there if any of its copies did
        first = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]) | (article[1:] != article[:-1])])
        keys, body, site = keys[first], np.maximum.reduceat(body, first), np.maximum.reduceat(site, first)
        # then one per key
        start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        n = np.diff(np.r_[start, len(keys)])
        return (keys[start], np.maximum.reduceat(site, start).astype(bool), n.astype(np.int64),
                np.add.reduceat(body.astype(np.int64), start))


def fingerprint(blocks: Sequence[str], norms: Sequence[str] | None = None) -> int:
    """One key per story: copies of an article (same longest line) count once when keys are counted."""
    longest = max(normal_lines(blocks) if norms is None else norms, key=len, default="")
    return line_key(longest, "\x01fingerprint")


def scopes_of(site: str | None) -> tuple[str, ...]:
    """The scopes a line of this site is counted in: its site (when known) and the global scope."""
    scope = scope_of(site)
    return (scope, GLOBAL_SCOPE) if scope else (GLOBAL_SCOPE,)


def is_recurring(n_articles: int, n_body: int, is_site_scope: bool, policy: RecurringPolicy) -> bool:
    """The decision for one key from its counts (see the module docstring)."""
    need = policy.site_min if is_site_scope else policy.global_min
    return n_articles >= need and n_body <= policy.max_body_share * n_articles


def recurring_mask(n_articles: np.ndarray, n_body: np.ndarray, is_site_scope: np.ndarray,
                   policy: RecurringPolicy) -> np.ndarray:
    """`is_recurring` over whole count columns at once (millions of keys, no Python object per key)."""
    need = np.where(is_site_scope, policy.site_min, policy.global_min)
    return (n_articles >= need) & (n_body <= policy.max_body_share * n_articles)


def recurring_keys_of(line: str, scopes: Sequence[str], recurring: Collection[int]) -> bool:
    """True when the line's key in any of the scopes was learned as boilerplate."""
    norm = normal_form(line)
    return bool(norm) and any(line_key(norm, sc) in recurring for sc in scopes)
