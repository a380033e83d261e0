"""Exact duplicate keys (the same clean text, the same normalised URL) and the survivor rule shared by
every kind of duplicate cluster (`survivor_rank`). Clustering itself is in dedupe/corpus.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import xxhash

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

    1. an article of an earlier run ranks first (an earlier survivor stays the survivor);
    2. the earliest published_at (unknown dates last);
    3. the most complete text (most characters);
    4. the smallest article_id (a stable tie-break, never file order).
    """
    return (0 if c.earlier else 1, 0 if c.published_ts is not None else 1,
            c.published_ts or 0.0, -c.text_chars, c.article_id)
