"""Exact duplicates: the same clean text (content hash) or the same normalised URL.

Also the survivor rule shared by every kind of duplicate cluster (see `survivor_rank`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from dedupe.unionfind import UnionFind

_TOKEN = re.compile(r"\w+")


def content_hash(text: str) -> str:
    """Hash of the text's casefolded word tokens: punctuation, case and spacing do not matter."""
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    return xxhash.xxh3_128_hexdigest(" ".join(tokens).encode("utf-8"))


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

    1. an article kept by an earlier run stays the survivor (history is never rewritten);
    2. the earliest published_at (unknown dates last);
    3. the most complete text (most characters);
    4. the smallest article_id (a stable tie-break, never file order).
    """
    return (0 if c.earlier else 1, 0 if c.published_ts is not None else 1,
            c.published_ts or 0.0, -c.text_chars, c.article_id)


@dataclass(frozen=True, slots=True)
class Match:
    """A new article that duplicates a kept one."""

    article_id: str
    duplicate_of: str
    cluster_id: str
    reason: str  # same_text | same_url
    similarity: float | None


def exact_clusters(new: Sequence[Candidate], earlier: Sequence[Candidate] = ()) -> tuple[dict[str, str], list[Match]]:
    """Group articles that share a content hash or a URL key.

    Returns (cluster_id of every new article, one Match for each new article that is not its
    cluster's survivor). Earlier articles are only matched against, never moved.
    """
    by_key: dict[tuple[str, str], list[Candidate]] = {}
    for c in list(earlier) + list(new):
        by_key.setdefault(("h", c.content_hash), []).append(c)
        if c.url_key:
            by_key.setdefault(("u", c.url_key), []).append(c)
    uf: UnionFind[str] = UnionFind(c.article_id for c in new)
    linked_earlier: dict[str, list[Candidate]] = {}
    for members in by_key.values():
        if len(members) < 2:
            continue
        fresh = [m for m in members if not m.earlier]
        for m in fresh[1:]:
            uf.union(fresh[0].article_id, m.article_id)
        if fresh:
            olds = [m for m in members if m.earlier]
            if olds:
                linked_earlier.setdefault(fresh[0].article_id, []).extend(olds)
    by_id = {c.article_id: c for c in new}
    cluster_of: dict[str, str] = {}
    matches: list[Match] = []
    for group in uf.groups():
        members = [by_id[a] for a in group]
        olds = [o for a in group for o in linked_earlier.get(a, [])]
        survivor = min(olds + members, key=survivor_rank)
        cluster_id = survivor.cluster_id or survivor.article_id
        for m in members:
            cluster_of[m.article_id] = cluster_id
            if m.article_id == survivor.article_id:
                continue
            same_text = m.content_hash == survivor.content_hash
            matches.append(Match(m.article_id, survivor.article_id, cluster_id,
                                 "same_text" if same_text else "same_url", 1.0 if same_text else None))
    return cluster_of, matches
