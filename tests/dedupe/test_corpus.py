"""Corpus dedup: every kind of near-copy is found, every kind of hard negative is not; order never matters."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.corpus import Corpus, CorpusParams, Sketcher, cluster
from dedupe.exact import Candidate, content_hash
from dedupe.minhash import token_hashes, tokenize
from tests.dedupe import stories as S

SKETCHER = Sketcher(CorpusParams())


def corpus_of(docs: dict[str, list[str]], earlier: dict[str, str] | None = None) -> tuple[Corpus, np.ndarray]:
    """Build a Corpus; `earlier` maps ids of earlier-run articles to their cluster survivor."""
    earlier = earlier or {}
    ids = sorted(docs, key=lambda a: (a not in earlier, a))
    sketches = [SKETCHER.sketch([token_hashes(tokenize(p)) for p in docs[a]]) for a in ids]
    cands = [Candidate(a, content_hash("\n\n".join(docs[a])), None, None, sum(map(len, docs[a])), a in earlier,
                       earlier.get(a)) for a in ids]
    corpus = Corpus(ids, np.stack([s.signature for s in sketches]), np.array([s.n_shingles for s in sketches]),
                    [s.para_keys for s in sketches], cands, [earlier.get(a) for a in ids])
    return corpus, np.array([a not in earlier for a in ids])


def clusters(docs, earlier=None):
    corpus, is_new = corpus_of(docs, earlier)
    decisions, _ = cluster(corpus, is_new, CorpusParams())
    return {d.article_id: d for d in decisions}


@pytest.mark.parametrize("kind,copy", [
    ("exact", S.BASE), ("brief", S.BRIEF), ("abridged", S.ABRIDGED), ("updated", S.UPDATED),
    ("reordered", S.REORDERED), ("rewrapped", S.REWRAPPED),
])
def test_near_copies_are_found(kind, copy):
    d = clusters({"base": S.BASE, "copy": copy})
    assert d["copy"].cluster_id == d["base"].cluster_id, kind
    dup = [x for x in d.values() if x.duplicate_of]
    assert len(dup) == 1 and dup[0].similarity is not None and dup[0].similarity >= 0.5


@pytest.mark.parametrize("kind,other", [
    ("follow-up reusing a background paragraph", S.FOLLOW_UP),
    ("same site boilerplate", S.OTHER_STORY + S.SITE_BOILERPLATE),
    ("template of another company's results", S.TEMPLATE_B),
])
def test_hard_negatives_stay_apart(kind, other):
    base = S.TEMPLATE_A if "template" in kind else S.BASE + (S.SITE_BOILERPLATE if "boilerplate" in kind else [])
    d = clusters({"base": base, "other": other})
    assert d["base"].cluster_id != d["other"].cluster_id, kind


def test_a_brief_does_not_bridge_a_story_and_a_follow_up():
    d = clusters({"base": S.BASE, "brief": [S.BASE[0]] * 1 + [S.BASE[1][:120]], "follow": S.FOLLOW_UP})
    assert d["follow"].cluster_id != d["base"].cluster_id


def test_survivor_and_traceability():
    d = clusters({"a-brief": S.BRIEF, "b-base": S.BASE, "c-upd": S.UPDATED})
    survivor = [x for x in d.values() if x.duplicate_of is None]
    assert len(survivor) == 1
    # no dates: the most complete text wins
    assert survivor[0].article_id == "c-upd"
    for x in d.values():
        if x.duplicate_of:
            assert x.duplicate_of == "c-upd" and x.matched in d and x.reason == "near_duplicate"


def test_earlier_survivor_stays_the_survivor():
    d = clusters({"old": S.BRIEF, "new": S.BASE}, earlier={"old": "old"})
    assert set(d) == {"new"}
    assert d["new"].duplicate_of == "old" and d["new"].cluster_id == "old"


DOCS = {"base": S.BASE, "brief": S.BRIEF, "abr": S.ABRIDGED, "upd": S.UPDATED, "follow": S.FOLLOW_UP,
        "other": S.OTHER_STORY, "ta": S.TEMPLATE_A, "tb": S.TEMPLATE_B, "dup": list(S.BASE)}


@settings(max_examples=25, deadline=None)
@given(st.randoms())
def test_partition_and_survivors_do_not_depend_on_input_order(rnd):
    base = clusters(DOCS)
    names = list(DOCS)
    random.Random(rnd.random()).shuffle(names)
    renamed = {n: DOCS[n] for n in names}
    again = clusters(renamed)
    assert {k: (v.cluster_id, v.duplicate_of) for k, v in base.items()} == {
        k: (v.cluster_id, v.duplicate_of) for k, v in again.items()}


def test_window_days_limits_matches_to_nearby_dates():
    corpus, is_new = corpus_of({"a": S.BASE, "b": S.UPDATED})
    corpus.candidates[0] = Candidate("a", "x", None, 0.0, 10)
    corpus.candidates[1] = Candidate("b", "y", None, 40 * 86400.0, 10)
    far = {d.article_id: d for d in cluster(corpus, is_new, CorpusParams(window_days=7))[0]}
    near = {d.article_id: d for d in cluster(corpus, is_new, CorpusParams(window_days=60))[0]}
    assert far["a"].cluster_id != far["b"].cluster_id
    assert near["a"].cluster_id == near["b"].cluster_id


def test_sketch_from_collapse_equals_sketch_from_text():
    """The live path (signatures reused from paragraph collapse) and the rebuild path agree exactly."""
    from dedupe.paragraphs import CollapseParams, collapse

    paras = S.UPDATED + [S.BASE[2]]  # one repeated paragraph: collapse drops it
    col = collapse(paras, (), CollapseParams(), SKETCHER.hasher)
    live = SKETCHER.sketch_collapsed(col)
    rebuilt = SKETCHER.sketch([token_hashes(tokenize(p)) for p in col.texts])
    assert np.array_equal(live.signature, rebuilt.signature)
    assert live.n_shingles == rebuilt.n_shingles
    assert np.array_equal(live.para_keys, rebuilt.para_keys)


def test_candidates_and_verification_do_not_depend_on_how_they_are_chunked():
    """Pairs are made unique band by band and verified a chunk at a time: the same as all at once."""
    from dedupe.corpus import candidate_pairs, verify

    docs = {"base": S.BASE, "brief": S.BRIEF, "abridged": S.ABRIDGED, "updated": S.UPDATED,
            "follow": S.FOLLOW_UP, "other": S.OTHER_STORY, "a": S.TEMPLATE_A, "b": S.TEMPLATE_B}
    corpus, is_new = corpus_of(docs)
    pairs = candidate_pairs(corpus, is_new, CorpusParams(), {})
    assert len(pairs) >= 4 and (pairs[:, 0] < pairs[:, 1]).all()
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    whole = verify(corpus, pairs, CorpusParams())
    for chunk in (1, 3):
        part = verify(corpus, pairs, CorpusParams(), chunk=chunk)
        assert (part[0] == whole[0]).all() and (part[1] == whole[1]).all()
    assert whole[0].sum() >= 3


def test_clustering_does_not_depend_on_the_verification_chunk_or_the_candidate_batch(monkeypatch):
    """Candidate pairs are gathered CANDIDATE_BATCH at a time, stay packed and are unpacked and
    verified VERIFY_CHUNK at a time: the same clusters and decisions with batches and chunks of one
    pair as with all of them at once (a pair two batches propose is verified twice, counted once)."""
    import dedupe.corpus as dc

    docs = {"base": S.BASE, "brief": S.BRIEF, "abridged": S.ABRIDGED, "updated": S.UPDATED,
            "follow": S.FOLLOW_UP, "other": S.OTHER_STORY, "a": S.TEMPLATE_A, "b": S.TEMPLATE_B}
    corpus, is_new = corpus_of(docs)
    whole, stats = dc.cluster(corpus, is_new, CorpusParams())
    assert len(list(dc.candidate_batches(corpus, is_new, CorpusParams(), {}))) == 1
    monkeypatch.setattr(dc, "VERIFY_CHUNK", 1)
    chunked, chunked_stats = dc.cluster(corpus, is_new, CorpusParams())
    assert sorted(whole, key=lambda d: d.article_id) == sorted(chunked, key=lambda d: d.article_id)
    assert stats == chunked_stats and stats["verified_pairs"] >= 3
    assert any(d.duplicate_of for d in whole)
    monkeypatch.setattr(dc, "CANDIDATE_BATCH", 1)
    assert len(list(dc.candidate_batches(corpus, is_new, CorpusParams(), {}))) > 1
    batched, batched_stats = dc.cluster(corpus, is_new, CorpusParams())
    assert sorted(whole, key=lambda d: d.article_id) == sorted(batched, key=lambda d: d.article_id)
    assert batched_stats["verified_pairs"] == stats["verified_pairs"]
    assert batched_stats["candidate_pairs"] >= stats["candidate_pairs"]


def test_same_key_pairs_joins_each_later_copy_to_the_first_and_ignores_missing_keys():
    from dedupe.exact import key_codes, same_key_pairs

    codes = key_codes(["a", None, "b", "", "a", "", None, "b", "a", "c"])
    assert codes.tolist() == [0, -1, 1, -1, 0, -1, -1, 1, 0, 2]
    first, later = same_key_pairs(codes)
    assert sorted(zip(first.tolist(), later.tolist(), strict=True)) == [(0, 4), (0, 8), (2, 7)]
    assert [len(x) for x in same_key_pairs(key_codes([]))] == [0, 0]
    assert [len(x) for x in same_key_pairs(key_codes([None, ""]))] == [0, 0]


def test_candidate_columns_rank_articles_as_the_survivor_rule_does():
    from dedupe.exact import Candidate, CandidateColumns, survivor_rank

    cands = [Candidate("a1", "h1", None, None, 10), Candidate("a2", "h2", "x.com/a", 1.5e9, 20, True, "a9"),
             Candidate("a3", "h1", None, 1.4e9, 30), Candidate("a0", "h3", None, 1.4e9, 30)]
    cols = CandidateColumns.of(cands)
    assert len(cols) == 4 and cols.cluster_id[1] == "a9"
    assert [cols.rank(i) for i in range(4)] == [survivor_rank(c) for c in cands]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), max_size=5), min_size=2, max_size=14), st.integers(0, 13),
       st.integers(1, 4))
def test_paragraph_key_candidates_are_exactly_the_pairs_sharing_a_key(keys, first_new, max_bucket):
    """Paragraph-key candidates (one part of the keys at a time, each key's article found from the
    offsets) are the pairs of articles sharing a key, with a new one, from buckets within max_bucket."""
    import dedupe.corpus as dc

    n = len(keys)
    per_article = [np.array(sorted(set(k)), dtype=np.uint64) for k in keys]
    # signatures that share no band: only paragraph keys propose pairs
    sigs = np.arange(n * 128, dtype=np.uint32).reshape(n, 128)
    corpus = Corpus([f"a{i:02d}" for i in range(n)], sigs, np.full(n, 20), per_article,
                    [Candidate(f"a{i:02d}", None, None, None, 1, False, None) for i in range(n)])
    is_new = np.arange(n) >= min(first_new, n - 1)
    params = CorpusParams(max_bucket=max_bucket)
    got = {tuple(p) for p in dc.candidate_pairs(corpus, is_new, params, {}).tolist()}
    owners: dict[int, list[int]] = {}
    for i, k in enumerate(per_article):
        for v in k.tolist():
            owners.setdefault(v, []).append(i)
    want = {(a, b) for members in owners.values() if len(members) <= max_bucket
            for x, a in enumerate(members) for b in members[x + 1:] if is_new[a] or is_new[b]}
    assert got == want


def test_without_singletons_cluster_leaves_out_only_the_articles_no_edge_joined():
    docs = {"base": S.BASE, "brief": S.BRIEF, "follow": S.FOLLOW_UP, "other": S.OTHER_STORY, "a": S.TEMPLATE_A}
    corpus, is_new = corpus_of(docs)
    full, stats = cluster(corpus, is_new, CorpusParams())
    joined, joined_stats = cluster(corpus, is_new, CorpusParams(), singletons=False)
    assert stats == joined_stats
    alone = {d.article_id for d in full if d.cluster_id == d.article_id and d.duplicate_of is None} - {
        d.cluster_id for d in full if d.duplicate_of}
    assert alone and {d.article_id for d in joined} == {d.article_id for d in full} - alone
    assert sorted(joined, key=lambda d: d.article_id) == sorted((d for d in full if d.article_id not in alone),
                                                                key=lambda d: d.article_id)
