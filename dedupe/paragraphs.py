"""Collapse near-duplicate paragraphs (and captions) inside one article, keeping the most complete copy.

A scraped article repeats itself: a caption printed twice, a pull quote, a paragraph re-inserted by
a lazy-load widget, often with a word changed. Each paragraph is shingled into k-word shingles
(k = 3 by default: a one-word insertion or deletion in a 30-word sentence leaves a Jaccard of about
0.8, while paragraphs that merely share a topic or a speaker share few 3-word runs). MinHash
signatures of every paragraph propose candidate pairs; every candidate is then verified on the
exact shingle sets, so no pair is collapsed on an estimate alone. Comparing every pair is fine at
article size (tens of paragraphs: a few thousand signature slots compared in one compiled loop,
`kernels.candidate_pairs`); corpus-wide clustering uses LSH instead (dedupe/corpus.py). A page of
more than `max_compared` (1,000) paragraphs, a forum thread or a data dump rather than an article,
only has its word-for-word copies collapsed: its pairs would grow with the square.

A pair is a duplicate when (exact values, `CollapseParams`):
* the two differ by one inserted or deleted word at most, or by one substituted word in paragraphs
  of `substitution_min_words` (16) words or more (a short sentence loses too many of its few
  shingles to one edit for Jaccard to see it; but in a short line a changed word is often the
  point: "Get more pre-workout meal ideas" / "Get more post-workout meal ideas"), or
* Jaccard of the shingle sets >= `jaccard` (0.5), or
* the smaller paragraph (at least `containment_min_words` words) is contained in the larger one
  >= `containment` (0.9): a teaser of a body paragraph.
Legitimate repetition is protected:
* a paragraph under `min_words` words (8) collapses only with an exact (token-equal) copy right
  next to it, so an interview's repeated "Q:" label, recipe step headers or a poem's refrain stay;
* a sentence (or a running-text line of at least 2 x `min_words` words) that recurs word for word
  `refrain_copies` (3) or more times is the article's own structure (the question put to each
  interviewee, a meal plan's repeated item), not a scraping accident: scrapes repeat a paragraph
  once or twice, and a repeated headline or teaser (short, no closing punctuation) still collapses;
* a group of near-duplicates with `refrain_copies` (3) or more different wordings is a template the
  article fills in again and again ("Vote for Anna on the last page!", "Vote for Olga ..."; a meal
  plan's "Containers: 1 Green, 1 Red" lines), not a scraping accident: all of it stays. Copies
  that differ by one word more or less count as one wording (a caption re-printed with its credit
  appended and again in the body with a word lost is a scraping accident, three times over).

What survives of a group of duplicates: one paragraph at the position of the first copy, carrying
the text of the most complete variant (the most words; the earliest on a tie).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from cleaners.normalize import prose_case
from dedupe.kernels import candidate_pairs, intersection_size
from dedupe.minhash import EMPTY, MinHasher, shingle_sets_flat, split_counts, text_token_hashes
from dedupe.unionfind import UnionFind


@dataclass(frozen=True)
class CollapseParams:
    """Thresholds of within-article collapse (documented defaults)."""

    shingle_words: int = 3
    num_perm: int = 64
    seed: int = 1
    jaccard: float = 0.5
    containment: float = 0.9
    min_words: int = 8
    containment_min_words: int = 8
    refrain_copies: int = 3
    # Below this many words a pair with one word changed ('pre-workout' / 'post-workout') is two lines,
    # judged on Jaccard like any pair; one word more or less still joins them.
    substitution_min_words: int = 16
    # An article (or its captions) of more paragraphs than this is not compared pair by pair (the
    # pairs grow with the square: a forum thread or a data dump of 20,000 lines would hold a
    # worker for minutes); only its word-for-word copies join.
    max_compared: int = 1000
    # A pair whose MinHash estimate comes within this margin of a threshold is verified exactly.
    candidate_margin: float = 0.25


@lru_cache(maxsize=8)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A paragraph that left the text: `index` duplicated `kept` (indexes into the input list;
    kept = -1 when it repeated a caption)."""

    index: int
    kept: int
    similarity: float
    replaced: bool = False  # True for the first copy whose text gave way to a more complete variant


@dataclass
class Collapsed:
    """Result of `collapse`: the kept paragraphs in order, what was dropped, and the captions left."""

    kept: list[int]  # input indexes kept, in order
    texts: list[str]  # the text each kept slot carries (possibly a more complete variant)
    dropped: list[Dropped] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)  # per kept slot, the input index whose text it carries
    # Per input paragraph (reused for the article's corpus sketch: every paragraph hashed once):
    signatures: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=np.uint32))
    shingles: list[np.ndarray] = field(default_factory=list)
    n_tokens: list[int] = field(default_factory=list)


class _Para:
    """One paragraph's token hashes (compared, counted and grouped as the words they stand for) and
    its set of shingle hashes. The hashes stay a view of the article's array: most paragraphs are
    only counted (`n`) and grouped by their exact wording (`wording`); the list of Python ints
    (`tokens`) is made only for those compared word by word (~70 µs an article when every
    paragraph had one)."""

    __slots__ = ("hashes", "n", "shingles", "_tokens")

    def __init__(self, hashes: np.ndarray, shingles: np.ndarray) -> None:
        self.hashes = hashes  # uint32 token hashes, in order
        self.n = len(hashes)
        self.shingles = shingles  # unique shingle hashes
        self._tokens: list[int] | None = None

    @property
    def tokens(self) -> list[int]:
        if self._tokens is None:
            self._tokens = self.hashes.tolist()
        return self._tokens

    @property
    def wording(self) -> bytes:
        """Equal for two paragraphs exactly when their token hashes are (the array's bytes)."""
        return self.hashes.tobytes()


def _prepare(texts: Sequence[str], k: int) -> tuple[list[_Para], np.ndarray, np.ndarray]:
    """Each text's tokens and shingle set, and the shingle sets flat with their offsets (the
    signatures' input: `paragraph_signatures`)."""
    th, counts = text_token_hashes(texts)  # every paragraph tokenised and hashed in one pass
    flat, offsets = shingle_sets_flat(th, counts, k)  # and its shingle set
    ends = np.cumsum(counts).tolist()
    starts, cuts = [0, *ends][: len(ends)], offsets.tolist()
    return [_Para(th[a:b], flat[cuts[i]: cuts[i + 1]]) for i, (a, b) in enumerate(zip(starts, ends, strict=True))], flat, offsets


def _exact(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two sorted arrays of unique hashes (the
    shingle sets `shingle_sets_flat` makes)."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    inter = intersection_size(a, b)
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


_SENTENCE_END = re.compile(r"""[.!?。！？]["'”’»)\]]*\s*$""")



def refrains(texts: Sequence[str], paras: Sequence[_Para], params: CollapseParams) -> set[int]:
    """Indexes of sentences that recur word for word `refrain_copies` or more times (protected)."""
    groups: dict[bytes, list[int]] = {}
    for i, p in enumerate(paras):
        if p.n:
            groups.setdefault(p.wording, []).append(i)
    out: set[int] = set()
    for g in groups.values():  # the text tests only where there are enough word-for-word copies
        g = [i for i in g if _SENTENCE_END.search(texts[i]) or paras[i].n >= 2 * params.min_words
             and prose_case(texts[i])] if len(g) >= params.refrain_copies else []
        if len(g) >= params.refrain_copies:
            out.update(g)
    return out


def paragraph_signatures(flat: np.ndarray, offsets: np.ndarray, hasher: MinHasher) -> np.ndarray:
    """uint32[len(offsets) - 1, num_perm]: the MinHash signature of every paragraph, from one
    permutation pass over their shingle sets given flat (`_prepare`)."""
    return hasher.signatures(flat, offsets)


def duplicate_groups(paras: Sequence[_Para], params: CollapseParams, sigs: np.ndarray,
                     protected: set[int] | None = None
                     ) -> tuple[UnionFind[int], dict[tuple[int, int], float], list[tuple[int, int]]]:
    """Union-find over paragraph indexes joining verified duplicates, the similarity of each joined pair,
    and the short pairs with one word changed that were not joined (a template's filled-in slot)."""
    n = len(paras)
    uf: UnionFind[int] = UnionFind(range(n))
    sims: dict[tuple[int, int], float] = {}
    swaps: list[tuple[int, int]] = []
    protected = protected or set()
    if n < 2:
        return uf, sims, swaps
    sizes = np.array([len(p.shingles) for p in paras], dtype=np.float64)
    lens = np.array([p.n for p in paras], dtype=np.int64)
    out = (sigs == EMPTY).all(axis=1) | (lens < params.min_words)  # short lines: _collapse_adjacent_short
    if protected:
        out[list(protected)] = True
    if n > params.max_compared:
        pairs, near_flags = _copy_pairs(paras, out)
    else:
        # candidates: an estimate near a threshold, or lengths within one word (checked exactly below)
        first = np.array([p.hashes[0] if p.n else 0 for p in paras], dtype=np.uint32)
        last = np.array([p.hashes[-1] if p.n else 0 for p in paras], dtype=np.uint32)
        pairs, near_flags = candidate_pairs(np.ascontiguousarray(sigs), sizes, lens, first, last, out,
                                            params.jaccard - params.candidate_margin,
                                            params.containment - params.candidate_margin)
    for (i, j), near in zip(pairs.tolist(), near_flags.tolist(), strict=True):
        ti, tj = paras[i].tokens, paras[j].tokens
        if abs(len(ti) - len(tj)) <= 1 and within_one_word(ti, tj):
            if len(ti) != len(tj) or ti == tj or len(ti) >= params.substitution_min_words:
                uf.union(i, j)  # one word more, less or changed: short sentences lose too many shingles
                sims[(i, j)] = round(_exact(paras[i].shingles, paras[j].shingles)[0], 4)
                continue
            swaps.append((i, j))  # one word changed in a short line: another line, unless Jaccard says so
        if not near:
            continue
        jac, cont = _exact(paras[i].shingles, paras[j].shingles)
        smaller_words = min(len(ti), len(tj))
        if jac >= params.jaccard or (cont >= params.containment and smaller_words >= params.containment_min_words):
            uf.union(i, j)
            sims[(i, j)] = round(max(jac, cont if smaller_words >= params.containment_min_words else 0.0), 4)
    return uf, sims, swaps


def _copy_pairs(paras: Sequence[_Para], out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For an article too long to compare pair by pair: each paragraph (not `out`) paired with the
    previous word-for-word copy of it, none of them `near` (`duplicate_groups` joins such a pair as
    it joins them in any article: identical token lists)."""
    last_of: dict[bytes, int] = {}
    pairs: list[tuple[int, int]] = []
    for j, p in enumerate(paras):
        if out[j]:
            continue
        i = last_of.get(p.wording)
        if i is not None:
            pairs.append((i, j))
        last_of[p.wording] = j
    return np.array(pairs, dtype=np.int64).reshape(len(pairs), 2), np.zeros(len(pairs), dtype=bool)


def collapse(paragraphs: Sequence[str], captions: Sequence[str] = (),
             params: CollapseParams = CollapseParams(), hasher: MinHasher | None = None) -> Collapsed:
    """Collapse near-duplicate paragraphs (and, separately, near-duplicate captions) of one article.

    Returns the kept paragraph indexes in order with the text each carries, every dropped copy
    with the index it duplicates and the verified similarity, and the de-duplicated captions.
    A caption that repeats a body paragraph stays a caption (once); the body paragraph stays in
    the text.
    """
    hasher = hasher or _hasher(params.num_perm, params.seed)
    paras, flat, offsets = _prepare(paragraphs, params.shingle_words)
    sigs = paragraph_signatures(flat, offsets, hasher)
    uf, sims, swaps = duplicate_groups(paras, params, sigs, refrains(paragraphs, paras, params))
    result = Collapsed([], [], signatures=sigs, shingles=[p.shingles for p in paras],
                       n_tokens=[p.n for p in paras])
    found = uf.groups()
    template = _templates(found, swaps, paras, params)
    groups: list[list[int]] = []
    for g in found:
        if template.intersection(g):
            groups.extend([i] for i in g)  # a template filled in again and again: structure, all stay
        else:
            groups.append(sorted(g))
    for group in sorted(groups, key=lambda g: g[0]):  # in order of first copies
        first = group[0]
        if len(group) == 1:  # most paragraphs: no copy
            result.kept.append(first)
            result.texts.append(paragraphs[first])
            result.sources.append(first)
            continue
        best = max(group, key=lambda i: (paras[i].n, -i))
        result.kept.append(first)
        result.texts.append(paragraphs[best])
        result.sources.append(best)
        for i in group[1:]:
            result.dropped.append(Dropped(i, first, _pair_sim(sims, paras, first, i)))
        if best != first:
            result.dropped.append(Dropped(first, best, _pair_sim(sims, paras, first, best), replaced=True))
    _collapse_adjacent_short(result, paras, params)
    result.captions = _collapse_captions(captions, params, hasher)
    _drop_short_caption_repeats(result, paras, params)
    result.dropped.sort(key=lambda d: (d.index, d.replaced))
    return result


def _collapse_adjacent_short(result: Collapsed, paras: Sequence[_Para], params: CollapseParams) -> None:
    """A short line (under min_words) repeated word for word right after itself in the kept text goes.

    Judged on the text as it stands after the long duplicates left, so the result is stable:
    collapsing again changes nothing.
    """
    keep: list[int] = []
    for slot, (idx, src) in enumerate(zip(result.kept, result.sources, strict=True)):
        para = paras[src]
        if keep and 0 < para.n < params.min_words and para.tokens == paras[result.sources[keep[-1]]].tokens:
            result.dropped.append(Dropped(idx, result.kept[keep[-1]], 1.0))
            continue
        keep.append(slot)
    _keep_slots(result, keep)


def _keep_slots(result: Collapsed, slots: list[int]) -> None:
    result.kept = [result.kept[s] for s in slots]
    result.texts = [result.texts[s] for s in slots]
    result.sources = [result.sources[s] for s in slots]


def _drop_short_caption_repeats(result: Collapsed, paras: Sequence[_Para], params: CollapseParams) -> None:
    """A short body line (under min_words) that repeats a caption, credit or dateline leaves the text:
    the caption is its home. A full paragraph that repeats a caption stays in the text (and the
    caption stays a caption)."""
    if not result.captions:
        return
    cap_tokens = split_counts(*text_token_hashes(result.captions))
    keep: list[int] = []
    for slot, (idx, src) in enumerate(zip(result.kept, result.sources, strict=True)):
        if not 0 < paras[src].n < params.min_words:
            keep.append(slot)
            continue
        toks = paras[src].tokens
        if any(t == toks or (min(len(t), len(toks)) >= 3 and within_one_word(t, toks)) for t in cap_tokens):
            result.dropped.append(Dropped(idx, -1, 1.0))
            continue
        keep.append(slot)
    _keep_slots(result, keep)


def _templates(groups: Sequence[list[int]], swaps: Sequence[tuple[int, int]], paras: Sequence[_Para],
               params: CollapseParams) -> set[int]:
    """Paragraphs of a template the article fills in again and again: groups of `refrain_copies` or more
    copies with as many wordings, counting the short lines that differ by one word ('Vote for Olga',
    'Vote for Anna') as one group here although they are not duplicates of each other."""
    families = [g for g in groups if len(g) > 1]
    if swaps:
        linked: UnionFind[int] = UnionFind()  # only the paragraphs in a group or a pair with one word changed
        for g in families:
            for i in g[1:]:
                linked.union(g[0], i)
        for i, j in swaps:
            linked.union(i, j)
        families = linked.groups()
    out: set[int] = set()
    for g in families:
        if len(g) >= params.refrain_copies and _wordings([paras[i].tokens for i in g]) >= params.refrain_copies:
            out.update(g)
    return out


def _wordings(token_lists: Sequence[list[int]]) -> int:
    """How many different wordings a group of near-duplicates has: a template's slot filled with other
    words ("vote for Anna" / "vote for Olga") is another wording; a copy with one word more or less (a
    credit appended, a word lost by a lazy-load widget) is the same wording."""
    distinct = list({tuple(t): t for t in token_lists}.values())
    uf: UnionFind[int] = UnionFind(range(len(distinct)))
    for i in range(len(distinct)):
        for j in range(i + 1, len(distinct)):
            if len(distinct[i]) != len(distinct[j]) and within_one_word(distinct[i], distinct[j]):
                uf.union(i, j)
    return len(uf.groups())


def within_one_word(a: Sequence[object], b: Sequence[object]) -> bool:
    """True when two token lists differ by at most one inserted, deleted or substituted word."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if min(la, lb) >= 2 and a[0] != b[0] and a[-1] != b[-1]:
        return False  # one edit leaves the first or the last word in place
    if la == lb:
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return list(a[i:]) == list(b[i + 1:])


def _pair_sim(sims: dict[tuple[int, int], float], paras: Sequence[_Para], a: int, b: int) -> float:
    key = (min(a, b), max(a, b))
    if key in sims:
        return sims[key]
    jac, cont = _exact(paras[a].shingles, paras[b].shingles)  # joined through a third paragraph
    return round(max(jac, cont), 4)


def _collapse_captions(captions: Sequence[str], params: CollapseParams, hasher: MinHasher) -> list[str]:
    """Captions once each: exact repeats anywhere, one-word variants, near-duplicates of long ones;
    the fullest variant kept, at the place of the first copy."""
    if len(captions) < 2:
        return list(captions)
    paras, flat, offsets = _prepare(captions, params.shingle_words)
    # a repeated credit or caption is never structure: exact repeats collapse wherever they are
    uf, _, _ = duplicate_groups(paras, params, paragraph_signatures(flat, offsets, hasher))
    first_of: dict[tuple[object, ...], int] = {}
    for i, p in enumerate(paras):
        key: tuple[object, ...] = tuple(p.tokens) if p.tokens else (captions[i].strip(),)
        if key in first_of:
            uf.union(first_of[key], i)
        else:
            first_of[key] = i
    # short captions and credits re-printed with one word more or less ("January 18, 2008 - 5:44PM"),
    # pair by pair up to max_compared captions
    if len(paras) <= params.max_compared:
        for i in range(len(paras)):
            for j in range(i + 1, len(paras)):
                if min(paras[i].n, paras[j].n) >= 3 and within_one_word(paras[i].tokens, paras[j].tokens):
                    uf.union(i, j)
    out: list[tuple[int, str]] = []
    for group in uf.groups():
        g = sorted(group)
        best = max(g, key=lambda i: (paras[i].n, -i))
        out.append((g[0], captions[best]))
    return [text for _, text in sorted(out)]
