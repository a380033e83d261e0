"""cleaners/folding.py gives exactly what the standard library gives: NFKC + casefold, and the
recurring-line normal forms (the keys of earlier runs' state/lines depend on them)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleaners import folding
from cleaners.normalize import normalize_line
from cleaners.recurring import normal_form, normal_lines

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# casefolds to several code points (ß, İ, ŉ, ﬃ), NFKC changes (ﬁ, ½, ¨, ①, fullwidth Ａ), digits of
# other scripts, whitespace str.split() knows and normalize_line leaves (\x1c-\x1f, \r, \x0b, \x0c,
# \u2028, \x85), combining marks, a Deseret capital (casefolds in plane 1), an emoji
ODD = "aB 1٣9.\t\n\r\x0b\x0c\x1c\x1f\x85\u2028\u00a0\u2003éE\u0301\u00a8\u00bdﬁﬃßẞİŉ①Ａ\U00010400😀’-"
odd_text = st.text(alphabet=st.sampled_from(ODD) | st.characters(), max_size=60)


def test_the_tables_fold_and_classify_every_code_point_as_python_does():
    """Every code point of every plane: casefold (up to three code points), \\d and str.isspace."""
    fold, flen, kinds = folding.tables_for(np.array([0x10FFFF], dtype=np.uint32))
    assert len(flen) == 0x110000
    digit = re.compile(r"\d")
    for cp in range(0x110000):
        ch = chr(cp)
        folded = ch.casefold()
        assert flen[cp] == len(folded) and fold[cp, : len(folded)].tolist() == [ord(c) for c in folded], hex(cp)
        assert bool(kinds[cp] & folding.DIGIT) == (digit.fullmatch(ch) is not None), hex(cp)
        assert bool(kinds[cp] & folding.SPACE) == ch.isspace(), hex(cp)


def test_tables_cover_only_the_planes_a_text_reaches():
    assert len(folding.tables_for(np.array([0x41, 0xFFFF], dtype=np.uint32))[1]) == 0x10000
    assert len(folding.tables_for(np.array([0x1F600], dtype=np.uint32))[1]) == 0x20000


@SETTINGS
@given(odd_text)
@example("Straße İstanbul ﬁnal ½ ①")
@example("a\ud800b")  # a lone surrogate (JSON can carry one) passes through
@example("")
def test_casefold_cps_is_nfkc_then_casefold(text):
    import unicodedata

    expected = unicodedata.normalize("NFKC", text).casefold()
    assert folding.casefold_cps(text).tolist() == [ord(c) for c in expected]


@SETTINGS
@given(st.lists(odd_text, max_size=8))
@example(["Updated 12:05 PM", "Straße  ①  2 ٣4", "ASCII\x1cline with\rodd  spaces", "caf\u00e9\x1c x"])
@example(["", "", "x"])
@example(["a\ud800b 12"])
def test_normal_lines_are_normal_form_line_by_line(lines):
    """The one-pass normal forms of an article's lines equal recurring.normal_form on each line, on
    ASCII lines (lower-cased, odd ASCII whitespace kept) and others (NFKC, casefolded, whitespace
    collapsed) mixed in one article, with digits of any script."""
    blocks = ["\n".join(lines[:3]), *lines[3:]] if lines else []
    expected = [normal_form(line) for block in blocks for line in block.split("\n")]
    assert normal_lines(blocks) == expected
    assert folding.normal_forms([normalize_line(line) for block in blocks for line in block.split("\n")]) == expected


def test_a_line_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        folding.normal_forms(["one\ntwo", "three"])
