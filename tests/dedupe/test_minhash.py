"""MinHash signatures: identical to datasketch's over the same shingles, hash function and seed."""

from __future__ import annotations

import datasketch
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.minhash import (
    MinHasher,
    combine,
    jaccard_estimate,
    shingle_hash,
    shingle_hashes,
    shingle_sets,
    token_hashes,
    tokenize,
)
from tests.conftest import SEED

SEED_TEXT = SEED.read_text(encoding="utf-8")


def shingle_bytes(tokens, k):
    if len(tokens) <= k:
        return [" ".join(tokens).encode()] if tokens else []
    return [" ".join(tokens[i:i + k]).encode() for i in range(len(tokens) - k + 1)]


@pytest.mark.parametrize("k,num_perm,seed", [(3, 128, 1), (5, 64, 7), (1, 16, 42), (3, 256, 2026)])
def test_signature_equals_datasketch(k, num_perm, seed):
    tokens = tokenize(SEED_TEXT)
    ref = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    ref.update_batch(shingle_bytes(tokens, k))
    ours = MinHasher(num_perm, seed).signature(shingle_hashes(tokens, k))
    assert ref.scheme == "affine32"
    assert np.array_equal(ref.hashvalues, ours)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=1, max_size=40), st.integers(1, 5))
def test_shingle_hash_matches_the_vectorised_shingles(tokens, k):
    vec = combine(token_hashes(tokens), k).tolist()
    one_by_one = [shingle_hash(b) for b in shingle_bytes(tokens, k)]
    assert vec == one_by_one


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abcde", min_size=1, max_size=3), max_size=12), max_size=8), st.integers(1, 5))
def test_shingle_sets_of_many_texts_at_once_equal_each_text_alone(texts, k):
    ths = [token_hashes(t) for t in texts]
    flat, offsets = shingle_sets(ths, k)
    assert len(offsets) == len(texts) + 1
    for i, th in enumerate(ths):
        assert flat[offsets[i]: offsets[i + 1]].tolist() == np.unique(combine(th, k)).tolist()


def test_article_signature_equals_datasketch_over_its_paragraphs_shingles():
    from dedupe.corpus import CorpusParams, Sketcher

    paras = SEED_TEXT.split("\n\n") + ["", "»", "Who is sanctioned?"]
    sketch = Sketcher(CorpusParams()).sketch([token_hashes(tokenize(p)) for p in paras])
    m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)
    m.update_batch(sorted({b for p in paras for b in shingle_bytes(tokenize(p), 3)}))
    assert np.array_equal(sketch.signature, m.hashvalues.astype(np.uint32))
    assert sketch.n_shingles == len({b for p in paras for b in shingle_bytes(tokenize(p), 3)})


def test_segment_signatures_equal_separate_signatures():
    hasher = MinHasher(64, 1)
    paras = [p for p in SEED_TEXT.split("\n\n") if p.strip()]
    hashes = [shingle_hashes(tokenize(p), 3) for p in paras] + [np.empty(0, dtype=np.uint32)]
    offsets = np.cumsum([0] + [len(h) for h in hashes]).tolist()
    together = hasher.signatures(np.concatenate(hashes), offsets)
    for i, h in enumerate(hashes):
        assert np.array_equal(together[i], hasher.signature(h))
    # the article's signature is the slot-wise minimum of its paragraphs' signatures
    assert np.array_equal(together.min(axis=0), hasher.signature(np.concatenate(hashes)))


def test_estimate_tracks_jaccard():
    hasher = MinHasher(256, 1)
    a = np.arange(1000, dtype=np.uint32) * 7919
    b = np.concatenate([a[:500], np.arange(500, dtype=np.uint32) * 104729 + 3])
    true = 500 / 1500
    assert abs(jaccard_estimate(hasher.signature(a), hasher.signature(b)) - true) < 0.08
    assert jaccard_estimate(hasher.signature(a), hasher.signature(a)) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab Z9,.\u00e9\u4e2d\U00020000\U0001f600\U00010400\u0301") | st.characters(),
                        max_size=30), min_size=1, max_size=4))
def test_token_hashes_of_any_text_are_the_hashes_of_its_tokens(texts):
    """The compiled pass reads a `\\w` table of the Basic Multilingual Plane unless a text goes beyond
    it (CJK extensions, Deseret letters, emoji): the same tokens either way."""
    from dedupe.minhash import text_token_hashes, token_hash, tokenize

    flat, counts = text_token_hashes(texts)
    expected = [token_hash(t) for text in texts for t in tokenize(text)]
    assert flat.tolist() == expected
    assert counts.tolist() == [len(tokenize(t)) for t in texts]
