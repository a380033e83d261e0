"""Within-article collapse of duplicated paragraphs and captions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.paragraphs import collapse, within_one_word

S30 = ("China's officially atheist Communist government at first denied the existence of the internment camps "
       "in Xinjiang, but now says they are vocational training facilities aimed at countering radicalism.")
S30_PLUS = S30.replace("countering radicalism", "countering Muslim radicalism")
S30_MINUS = S30.replace("at first ", "first ")
LEDE = ("China responded with threats of retaliation after the US announced visa refusals and withholding of "
        "assets for three Chinese officials, including Communist Party Xinjiang chief Chen Quanguo.")
FOURTH = ("The Trump administration's sanctions, which include the Xinjiang region's Communist Party Secretary "
          "Chen Quanguo, were announced on Thursday amid already-high tensions between Washington and Beijing.")
QUOTE1 = ('"We will not allow anyone to interfere in Xinjiang affairs," foreign ministry spokesman Zhao Lijian '
          'told reporters on Friday in Beijing.')
QUOTE2 = ('"The so-called sanctions are a farce and we will respond firmly," foreign ministry spokesman Zhao '
          'Lijian told reporters on Friday in Beijing.')
OTHER = "The UN estimates that more than a million Muslims have been detained in camps in the Xinjiang region."
VOTE = "You can vote for %s on the last page of this gallery!"
SHORT_VOTE = "You can vote for %s on the last page!"
TIP = "Pro tip: Get more %s-workout meal ideas here!"
MEAL = "Asparagus and eggs [1 cup asparagus, 2 soft-boiled or poached eggs, 1 slice whole-grain toast, 1 tsp. olive oil]"
HEAD = "Jeongdong Theater Tradition Series Performance: The Palace, Tale of Jang Noksu at the Welcome Festival"
TEASER = "officially atheist Communist government at first denied the existence of the internment camps in Xinjiang"


def kept_texts(paras, captions=()):
    res = collapse(paras, captions)
    return res.texts, res


@pytest.mark.parametrize("name,paras,expected", [
    ("exact repeat", [LEDE, S30, OTHER, S30], [LEDE, S30, OTHER]),
    ("one-word insertion keeps the fuller copy at the first place", [S30, LEDE, S30_PLUS], [S30_PLUS, LEDE]),
    ("one-word deletion", [S30_MINUS, OTHER, S30], [S30, OTHER]),
    ("teaser contained in a paragraph", [TEASER, LEDE, S30], [S30, LEDE]),
    ("related but different paragraphs stay", [LEDE, FOURTH, OTHER], [LEDE, FOURTH, OTHER]),
    ("two quotes from the same speaker stay", [QUOTE1, QUOTE2], [QUOTE1, QUOTE2]),
    ("short repeated speaker label stays", ["Q:", "What happened?", "Q:", "And then?"], ["Q:", "What happened?", "Q:", "And then?"]),
    ("recipe step headers stay", ["Step 1", LEDE, "Step 2", OTHER, "Step 1"], ["Step 1", LEDE, "Step 2", OTHER, "Step 1"]),
    ("refrain of a quoted poem stays", ["We shall overcome,", "We'll walk hand in hand,", "We shall overcome,"],
     ["We shall overcome,", "We'll walk hand in hand,", "We shall overcome,"]),
    ("adjacent exact short repeat collapses", [LEDE, "Loading video", "Loading video", OTHER], [LEDE, "Loading video", OTHER]),
    ("a sentence recurring three times is structure", [QUOTE1, OTHER, QUOTE1, LEDE, QUOTE1], [QUOTE1, OTHER, QUOTE1, LEDE, QUOTE1]),
    ("a template filled in three ways is structure", [VOTE % "Anna", OTHER, VOTE % "Olga", LEDE, VOTE % "Maria"],
     [VOTE % "Anna", OTHER, VOTE % "Olga", LEDE, VOTE % "Maria"]),
    ("a long running-text item repeated three times is structure", [MEAL, OTHER, MEAL, LEDE, MEAL],
     [MEAL, OTHER, MEAL, LEDE, MEAL]),
    ("a headline repeated three times collapses", [HEAD, OTHER, HEAD, LEDE, HEAD], [HEAD, OTHER, LEDE]),
    ("two wordings of one sentence are a duplicate", [VOTE % "Anna", OTHER, VOTE % "Olga"], [VOTE % "Anna", OTHER]),
    ("one word changed in a short line makes another line",
     [TIP % "pre", OTHER, TIP % "post"], [TIP % "pre", OTHER, TIP % "post"]),
    ("one word changed in a long paragraph is a variant", [S30, OTHER, S30.replace("camps", "centres")], [S30, OTHER]),
    ("a short template filled in three ways stays whole, its exact repeats too",
     [SHORT_VOTE % "Anna", OTHER, SHORT_VOTE % "Olga", LEDE, SHORT_VOTE % "Maria", SHORT_VOTE % "Anna",
      SHORT_VOTE % "Olga"],
     [SHORT_VOTE % "Anna", OTHER, SHORT_VOTE % "Olga", LEDE, SHORT_VOTE % "Maria", SHORT_VOTE % "Anna",
      SHORT_VOTE % "Olga"]),
    ("three copies a word longer or shorter are one wording, not a template",
     [S30 + " Reuters", LEDE, S30, OTHER, S30_MINUS], [S30 + " Reuters", LEDE, OTHER]),
])
def test_collapse_table(name, paras, expected):
    texts, _ = kept_texts(paras)
    assert texts == expected, name


def test_dropped_copies_say_what_they_duplicate_and_how_similar():
    res = collapse([S30, LEDE, S30_PLUS])
    assert res.kept == [0, 1]
    by_index = {(d.index, d.replaced): d for d in res.dropped}
    later = by_index[(2, False)]
    assert later.kept == 0 and 0.7 <= later.similarity <= 1.0
    first = by_index[(0, True)]  # the first copy's text gave way to the fuller variant
    assert first.kept == 2


def test_caption_and_body_copy_the_body_stays_and_the_caption_once():
    res = collapse([LEDE, S30_PLUS, OTHER], captions=[S30, "Reuters", S30, "Reuters"])
    assert res.texts == [LEDE, S30_PLUS, OTHER]
    assert res.captions == [S30, "Reuters"]


def test_short_body_line_that_repeats_a_caption_leaves_the_text():
    res = collapse([LEDE, "Updated: January 14, 2008, 7:52", OTHER], captions=["Updated: January 14, 2008, 7:52 am"])
    assert res.texts == [LEDE, OTHER]


def test_captions_one_word_variants_collapse():
    res = collapse([LEDE], captions=["January 18, 2008 - 5:44PM", "January 18, 2008 - would 5:44PM"])
    assert res.captions == ["January 18, 2008 - would 5:44PM"]


def test_no_pair_collapses_on_an_estimate_alone():
    # Paragraphs built to share many words but few 3-word runs: the estimate may be noisy, the exact check decides.
    words = [f"w{i}" for i in range(40)]
    a = " ".join(words)
    b = " ".join(words[::2] + words[1::2])
    assert collapse([a, b]).texts == [a, b]


@pytest.mark.parametrize("a,b,same", [("a b c", "a b c", True), ("a b c", "a x c", True), ("a b c", "a c", True),
                                      ("a b c", "a b c d", True), ("a b c", "x y c", False), ("a b", "a b c d", False)])
def test_within_one_word(a, b, same):
    assert within_one_word(a.split(), b.split()) is same


def _edits(a, b):
    """Levenshtein distance over tokens (the reference for within_one_word)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@given(st.lists(st.integers(0, 3), max_size=7), st.lists(st.integers(0, 3), max_size=7))
def test_within_one_word_is_one_edit_at_most(a, b):
    assert within_one_word(a, b) == (_edits(a, b) <= 1)


paragraph = st.sampled_from([S30, S30_PLUS, S30_MINUS, LEDE, FOURTH, QUOTE1, QUOTE2, OTHER, TEASER, "Q:", "Step 1"])


@settings(max_examples=80, deadline=None)
@given(st.lists(paragraph, max_size=10), st.lists(st.sampled_from([S30, "Reuters", "AP Photo"]), max_size=4))
def test_collapse_is_idempotent_and_never_loses_a_unique_paragraph(paras, caps):
    once = collapse(paras, caps)
    twice = collapse(once.texts, once.captions)
    assert twice.texts == once.texts
    assert twice.captions == once.captions
    for i, p in enumerate(paras):
        has_twin = any(j != i and collapse([p, q]).texts != [p, q] for j, q in enumerate(paras))
        if not has_twin:
            assert p in once.texts


@settings(max_examples=40, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=8), st.randoms())
def test_the_set_of_kept_texts_does_not_depend_on_order(paras, rnd):
    shuffled = paras[:]
    random.Random(rnd.random()).shuffle(shuffled)
    assert sorted(set(collapse(paras).texts)) == sorted(set(collapse(shuffled).texts))


def _candidates_by_matrices(sigs, sizes, lens, first, last, out, jaccard_floor, containment_floor):
    """The candidate pairs as first written: numpy expressions over whole n x n matrices (and the
    test that a pair of lengths within one word could be one edit apart: first or last token
    equal, or a paragraph of fewer than two)."""
    import numpy as np

    est = (sigs[:, None, :] == sigs[None, :, :]).sum(axis=2) / sigs.shape[1]
    small = np.minimum(sizes[:, None], sizes[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        c_est = np.where(small > 0, est * (sizes[:, None] + sizes[None, :]) / ((1.0 + est) * small), 0.0)
    near = (est >= jaccard_floor) | (c_est >= containment_floor)
    one_edit = (np.minimum(lens[:, None], lens[None, :]) < 2) | (first[:, None] == first[None, :]) | (
        last[:, None] == last[None, :])
    cand = (near | ((np.abs(lens[:, None] - lens[None, :]) <= 1) & one_edit)) & ~out[:, None] & ~out[None, :]
    i, j = np.nonzero(np.triu(cand, 1))
    return list(zip(i.tolist(), j.tolist(), strict=True)), near[i, j].tolist()


@given(st.integers(0, 12), st.integers(1, 9), st.randoms(use_true_random=False),
       st.sampled_from([(0.25, 0.65), (0.5, 0.9), (0.0, 0.0)]))
@settings(max_examples=300, deadline=None)
def test_candidate_pairs_are_those_of_the_matrix_expressions(n, slots, rnd, floors):
    """The compiled candidate search picks the same pairs, in the same order, with the same `near`
    flags as numpy over the whole matrices; few slot values make equal slots and ties common."""
    import numpy as np

    from dedupe.kernels import candidate_pairs

    sigs = np.array([[rnd.choice([1, 2, 3]) for _ in range(slots)] for _ in range(n)], dtype=np.uint32).reshape(n, slots)
    sizes = np.array([rnd.choice([0, 1, 2, 5, 9]) for _ in range(n)], dtype=np.float64)
    lens = np.array([rnd.randrange(6) for _ in range(n)], dtype=np.int64)
    first = np.array([rnd.choice([7, 8]) for _ in range(n)], dtype=np.uint32)
    last = np.array([rnd.choice([7, 8]) for _ in range(n)], dtype=np.uint32)
    out = np.array([rnd.random() < 0.2 for _ in range(n)], dtype=bool)
    pairs, near = candidate_pairs(sigs, sizes, lens, first, last, out, *floors)
    assert ([tuple(p) for p in pairs.tolist()], near.tolist()) == _candidates_by_matrices(
        sigs, sizes, lens, first, last, out, *floors)


@given(st.lists(st.integers(0, 3), max_size=6), st.lists(st.integers(0, 3), max_size=6))
def test_paragraphs_one_word_apart_keep_their_first_or_last_word(a, b):
    """What lets the candidate search skip a pair of lengths within one word: one edit leaves the
    first or the last word in place (or a paragraph has fewer than two)."""
    if within_one_word(a, b):
        assert min(len(a), len(b)) < 2 or a[0] == b[0] or a[-1] == b[-1]


@given(st.sets(st.integers(0, 40)), st.sets(st.integers(0, 40)))
def test_intersection_size_of_sorted_sets(a, b):
    import numpy as np

    from dedupe.kernels import intersection_size

    assert intersection_size(np.array(sorted(a), dtype=np.uint32), np.array(sorted(b), dtype=np.uint32)) == len(a & b)


def test_a_page_over_max_compared_paragraphs_collapses_only_word_for_word_copies():
    """Past `max_compared` paragraphs (a forum thread, a data dump) no pair is compared: a copy with a
    word more stays, a word-for-word copy (and a repeated caption) still goes, as it does below it."""
    from dedupe.paragraphs import CollapseParams

    fillers = [f"Line {i} of a long listing that holds many numbered entries of one shape here." for i in range(8)]
    paras = [S30, *fillers, S30_PLUS, S30, LEDE]
    below = collapse(paras, [OTHER, OTHER], CollapseParams(max_compared=len(paras)))
    above = collapse(paras, [OTHER, OTHER], CollapseParams(max_compared=len(paras) - 1))
    assert below.texts == [S30_PLUS, *fillers, LEDE]  # the fuller variant replaces the first copy
    assert above.texts == [S30, *fillers, S30_PLUS, LEDE]
    assert [(d.index, d.kept, d.similarity) for d in above.dropped] == [(len(paras) - 2, 0, 1.0)]
    assert above.captions == below.captions == [OTHER]


def test_twenty_thousand_same_length_paragraphs_collapse_at_once():
    """The largest article ingest lets through (max_article_blocks), every line the same length and
    distinct: every pair was a candidate compared word by word in Python (4,000 lines took 23 s and
    1.5 GB; 20,000 would take minutes and exhaust memory). In a fresh process, bounded in time."""
    import subprocess
    import sys

    code = ("from dedupe.paragraphs import collapse\n"
            "paras = [f'Entry number {i} of the register lists one more name and one more place here.' "
            "for i in range(20000)]\n"
            "paras += paras[:3]\n"
            "captions = [f'Photo: the {i}th picture of the set, taken by the staff photographer' for i in range(20000)]\n"
            "res = collapse(paras, captions + captions[:2])\n"
            "print(len(res.texts), len(res.dropped), len(res.captions))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["20000", "3", "20000"]
