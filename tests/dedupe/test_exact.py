"""Exact duplicate keys (content hash, URL key), the survivor rule, and exact-key clustering."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.corpus import Corpus, CorpusParams, cluster
from dedupe.exact import Candidate, content_hash, survivor_rank, url_key

EXACT_ONLY = CorpusParams(near_duplicates=False)


@pytest.mark.parametrize("a,b,same", [
    ("The  mayor said: yes.", "the mayor said yes", True),
    ("The mayor said yes.", "The mayor said no.", False),
    ("Café", "CAFÉ", True),
])
def test_content_hash_ignores_case_punctuation_and_spacing(a, b, same):
    assert (content_hash(a) == content_hash(b)) is same


def _hash_of_tokens(text: str) -> str:
    """content_hash by its definition: the tokens joined by single spaces (the way it was first written)."""
    import xxhash

    from dedupe.minhash import tokenize

    return xxhash.xxh3_128_hexdigest(" ".join(tokenize(text)).encode("utf-8"))


@pytest.mark.parametrize("text", ["", " ", "...", "a", " a ", "_", "a.b", "Straße", "ﬁne print", "caf\u00e9 CAFE\u0301",
                                  "soft\u00adhyphen", "zero\u200bwidth", "lone \ud800 surrogate", "中文 字",
                                  "WASHINGTON (Reuters) - The mayor said: \u201cyes\u201d.\n\nSecond paragraph.\t"])
def test_content_hash_is_the_hash_of_the_tokens_joined_by_spaces(text):
    assert content_hash(text) == _hash_of_tokens(text)


@given(st.text(alphabet=st.sampled_from("ab Z_9,.-\n\t'\u2019\u00adß\ufb01é中\u0301\u00a0") | st.characters(), max_size=60))
@settings(max_examples=300, deadline=None)
def test_content_hash_matches_its_definition_on_any_text(text):
    assert content_hash(text) == _hash_of_tokens(text)


@pytest.mark.parametrize("url,key", [
    ("https://www.Example.com/news/a?utm_source=rss&fbclid=1#top", "example.com/news/a"),
    ("http://example.com/news/a/", "example.com/news/a"),
    ("https://ex.example/story.php?id=2&b=1", "ex.example/story.php?b=1&id=2"),
    ("https://example.com/", None),  # a site's front page is not an article's identity
    ("not a url", None),
    (None, None),
])
def test_url_key(url, key):
    assert url_key(url) == key


def cand(aid, h="h", u=None, ts=None, n=100, earlier=False, cluster=None):
    return Candidate(aid, h, u, ts, n, earlier, cluster)


def run(cands: list[Candidate]) -> dict:
    n = len(cands)
    corpus = Corpus([c.article_id for c in cands], np.zeros((n, EXACT_ONLY.num_perm), dtype=np.uint32),
                    np.full(n, 100), [np.empty(0, np.uint64)] * n, cands,
                    [c.article_id if c.earlier else None for c in cands])  # earlier ones: kept survivors
    is_new = np.array([not c.earlier for c in cands])
    return {d.article_id: d for d in cluster(corpus, is_new, EXACT_ONLY)[0]}


def test_survivor_rule_earliest_then_longest_then_smallest_id():
    a = cand("b", ts=200.0, n=500)
    b = cand("a", ts=100.0, n=10)
    c = cand("c", ts=None, n=9999)
    assert min([a, b, c], key=survivor_rank).article_id == "a"
    d, e = cand("z", ts=100.0, n=50), cand("y", ts=100.0, n=50)
    assert min([d, e], key=survivor_rank).article_id == "y"
    f, g = cand("f", n=10), cand("g", n=20)
    assert min([f, g], key=survivor_rank).article_id == "g"


def test_same_text_or_same_url_cluster_transitively():
    d = run([cand("1", h="x", u="s.com/a"), cand("2", h="y", u="s.com/a"), cand("3", h="y"), cand("4", h="z")])
    assert d["1"].cluster_id == d["2"].cluster_id == d["3"].cluster_id != d["4"].cluster_id
    assert {k: (v.duplicate_of, v.reason) for k, v in d.items() if v.duplicate_of} == {
        "2": ("1", "same_url"), "3": ("1", "same_text")}
    assert d["3"].matched == "2"  # matched directly through article 2, which shares its text


def test_earlier_survivor_stays_survivor():
    d = run([cand("old", h="x", ts=999.0, n=1, earlier=True, cluster="c-old"), cand("new", h="x", ts=1.0, n=1000)])
    assert set(d) == {"new"}
    assert (d["new"].cluster_id, d["new"].duplicate_of, d["new"].similarity) == ("c-old", "old", 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from([None, "u1", "u2"]),
                          st.one_of(st.none(), st.integers(0, 3).map(float)), st.integers(1, 3)),
                min_size=1, max_size=12), st.randoms())
def test_partition_and_survivors_do_not_depend_on_order(specs, rnd):
    items = [cand(f"id{i:02d}", h, u, ts, n) for i, (h, u, ts, n) in enumerate(specs)]
    base = run(items)
    shuffled = items[:]
    random.Random(rnd.random()).shuffle(shuffled)
    again = run(shuffled)
    assert {k: (v.cluster_id, v.duplicate_of) for k, v in base.items()} == {
        k: (v.cluster_id, v.duplicate_of) for k, v in again.items()}
