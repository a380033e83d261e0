"""Corpus-adaptive debris: lines that recur across many different articles are boilerplate.

A site's templates put the same lines into every page ("Resize Text", "Report Error", "Фото:",
"Join our forums to keep talking ..."); no rule names them, but they give themselves away by
recurring. A line's key is its casefolded text with digits and whitespace normalised, hashed to a
stable 64-bit integer, once per site (when the site is known) and once globally.

The pipeline counts keys in two passes (cleaners only define the keys and the decision):
1. for every article, `article_line_keys` gives each distinct key once, with whether the line
   reads as body text there (a long sentence-like paragraph); `KeyTally` sums that over a batch
   of articles in arrays, counting the copies of one story (`fingerprint`) once; a run of many
   batches takes back out the copies that an earlier batch counted (`repeated_stories`,
   `StoryRows.only`), so every story counts once in the run whatever its batches;
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
    return xxhash.xxh3_64_intdigest(_scope_head(scope) + _utf8(normal))


def _scope_head(scope: str) -> bytes:
    return _utf8(f"{scope}\x00")


def _utf8(text: str) -> bytes:
    """UTF-8, a lone surrogate kept as its own bytes (a str can hold one): the same bytes as plain
    UTF-8 for every other text, so keys of earlier runs hold."""
    return text.encode("utf-8", "surrogatepass")


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
    () for an empty line or one of more than `max_words` words, which is never learned. Computed once
    when the keys are counted, they are what the cleaners look up later (`clean_article`'s
    `line_keys`), so a line is normalised and hashed once per run."""
    # line_key by hand: each scope's prefix encoded once, not an f-string and a generator per line
    # (52 -> 28 µs an article of a generated feed)
    h = xxhash.xxh3_64_intdigest
    heads = [_scope_head(sc) for sc in scopes_of(site)]
    most = policy.max_words
    if len(heads) == 2:
        site_head, global_head = heads
        return [(h(site_head + b), h(global_head + b)) if n and n.count(" ") < most and (b := _utf8(n)) else ()
                for n in norms]
    (head,) = heads
    return [(h(head + _utf8(n)),) if n and n.count(" ") < most else () for n in norms]


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


def sum_key_rows(keys: np.ndarray, site: np.ndarray, body: np.ndarray,
                 story: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-line key rows of several stories (articles) -> per key: (keys uint64 ascending, is a
    site-scope key bool, stories holding it int64, stories where it read as body text int64).

    A key holds once per story however many of its lines carry it, and read as body there if any
    of them did: sorting by key and story, then segment max and sum (no Python object per key)."""
    keys = np.asarray(keys, dtype=np.uint64)
    if not len(keys):
        return keys, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    story = np.asarray(story, dtype=np.int64)
    order = np.lexsort((story, keys))
    keys, story = keys[order], story[order]
    body = np.asarray(body, dtype=np.int8)[order]
    site = np.asarray(site, dtype=np.int8)[order]
    # one entry per (key, story): the line read as body there if any of its copies did
    first = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]) | (story[1:] != story[:-1])])
    keys, body, site = keys[first], np.maximum.reduceat(body, first), np.maximum.reduceat(site, first)
    # then one per key
    start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    n = np.diff(np.r_[start, len(keys)])
    return (keys[start], np.maximum.reduceat(site, start).astype(bool), n.astype(np.int64),
            np.add.reduceat(body.astype(np.int64), start))


@dataclass(frozen=True)
class StoryRows:
    """The stories a `KeyTally` counted, in the order they came, and their line-key rows:
    story i's rows are keys[offsets[i]:offsets[i + 1]] (with site and body alongside)."""

    fingerprints: np.ndarray  # uint64, one per story (`fingerprint`)
    offsets: np.ndarray  # int64, len(fingerprints) + 1
    keys: np.ndarray  # uint64
    site: np.ndarray  # bool: a site-scope key
    body: np.ndarray  # bool: its line read as body text

    def counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`sum_key_rows` of these stories: (keys ascending, is a site-scope key, stories, stories as body)."""
        story = np.repeat(np.arange(len(self.fingerprints)), np.diff(self.offsets))
        return sum_key_rows(self.keys, self.site, self.body, story)

    def only(self, which: np.ndarray) -> StoryRows:
        """The stories whose fingerprint is in `which`, in their order."""
        chosen = np.flatnonzero(np.isin(self.fingerprints, which))
        lengths = self.offsets[chosen + 1] - self.offsets[chosen]
        ends = np.cumsum(lengths)
        idx = np.repeat(self.offsets[chosen] - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)
        return StoryRows(self.fingerprints[chosen], np.r_[0, ends].astype(np.int64),
                         self.keys[idx], self.site[idx], self.body[idx])


class KeyTally:
    """The line-key counts of many articles, as `article_line_keys` per article summed per key would
    give them, kept as flat lists while articles come and summed once in arrays (`counts`).

    Per key: whether it is a site-scope key, in how many of the added articles it occurs, and in how
    many of those it read as body text (any of its lines there). `add` costs each line a test and
    three list extensions; the per-article dictionary and the per-key sums that a Python loop
    paid (~150 µs an article of 34 lines) are sorting and segment sums over the whole batch.

    Given a story fingerprint, `add` counts the first copy of each story only (copies of one story
    are one piece of evidence that a line is a template, not many); `stories` gives what was counted
    story by story, so that copies in other tallies can be taken back out (`repeated_stories`)."""

    def __init__(self) -> None:
        self._keys: list[int] = []
        self._site: list[bool] = []
        self._body: list[bool] = []
        self._offsets: list[int] = [0]  # story i's rows: _keys[_offsets[i]:_offsets[i + 1]]
        self._fingerprints: list[int] = []
        self._seen: set[int] = set()

    @property
    def articles(self) -> int:
        """The articles counted (a story's later copies are not)."""
        return len(self._fingerprints)

    def add(self, norms: Sequence[str], keys: Sequence[tuple[int, ...]], site: str | None,
            story: int | None = None) -> bool:
        """One article: its lines' normal forms (`normal_lines`) and keys (`line_keys` for `site`).
        `story`: its `fingerprint`; an article whose story was added before is not counted (False)."""
        if story is not None:
            if story in self._seen:
                return False
            self._seen.add(story)
        flags = tuple(sc != GLOBAL_SCOPE for sc in scopes_of(site))
        for norm, ks in zip(norms, keys, strict=True):
            if ks:
                self._keys.extend(ks)
                self._site.extend(flags)
                self._body.extend((_reads_as_body(norm),) * len(ks))
        self._offsets.append(len(self._keys))
        self._fingerprints.append(0 if story is None else story)
        return True

    def counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(keys uint64 ascending, is a site-scope key bool, articles int64, articles as body int64)."""
        return self.stories().counts()

    def stories(self) -> StoryRows:
        """What `add` counted, story by story (fingerprint 0 for an article added without one)."""
        return StoryRows(np.array(self._fingerprints, dtype=np.uint64), np.array(self._offsets, dtype=np.int64),
                         np.array(self._keys, dtype=np.uint64), np.array(self._site, dtype=bool),
                         np.array(self._body, dtype=bool))


def repeated_stories(fingerprints: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Tallies in run order, each given by its stories' fingerprints (distinct within a tally) ->
    for each tally, the fingerprints that an earlier tally already counted (sorted).

    A run counts line keys batch by batch, each batch counting a story once; taking these repeats'
    rows back out of the sum makes every story count once in the whole run, which is what one tally
    over all the articles in order counts, however the articles were cut into batches."""
    if not fingerprints:
        return []
    fp = np.concatenate([np.asarray(f, dtype=np.uint64) for f in fingerprints])
    tally = np.repeat(np.arange(len(fingerprints)), [len(f) for f in fingerprints])
    order = np.lexsort((tally, fp))
    fp, tally = fp[order], tally[order]
    later = np.zeros(len(fp), dtype=bool)
    later[1:] = fp[1:] == fp[:-1]
    fp, tally = fp[later], tally[later]
    by_tally = np.argsort(tally, kind="stable")  # stable: each tally's fingerprints stay sorted
    fp, tally = fp[by_tally], tally[by_tally]
    bounds = np.searchsorted(tally, np.arange(len(fingerprints) + 1))
    return [fp[bounds[i]:bounds[i + 1]] for i in range(len(fingerprints))]


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
