"""Whitespace and Unicode normalisation of paragraph text, and the one text feature the cleaners and
the paragraph collapse share (`prose_case`)."""

from __future__ import annotations

import re
import unicodedata

# Every Unicode space (NBSP, thin, zero-width, ideographic ...) and tabs become one ASCII space.
_ODD_SPACE = re.compile(r"[\t\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_ZERO_WIDTH = re.compile(r"[\u200c\u200d\u2060\u00ad]")
_MULTI_SPACE = re.compile(r" {2,}")
# Any character of the first two: a charset alone is searched 6x faster than with a '  ' branch beside it
# (re then gives up its charset scan), so two spaces are looked for with `in`.
_ANY_ODD_CHAR = re.compile(r"[\t\u00a0\u1680\u2000-\u200d\u202f\u205f\u3000\ufeff\u2060\u00ad]")


def normalize_line(line: str) -> str:
    """NFC text with odd spaces folded to one space, zero-width characters and soft hyphens removed, stripped.

    >>> normalize_line("READ MORE:\\u00a0US  has")
    'READ MORE: US has'
    """
    if line.isascii():
        # fast path for the common case: no odd spaces, no zero-width characters, NFC already
        if "\t" in line or "  " in line:
            line = _MULTI_SPACE.sub(" ", line.replace("\t", " "))
        return line.strip()
    line = unicodedata.normalize("NFC", line)
    if _ANY_ODD_CHAR.search(line) is None and "  " not in line:  # most non-ASCII lines: spacing already plain
        return line.strip()
    line = _ZERO_WIDTH.sub("", _ODD_SPACE.sub(" ", line))
    return _MULTI_SPACE.sub(" ", line).strip()


def normalize_block(block: str) -> str:
    """normalize_line on each line of a block; empty lines dropped."""
    return "\n".join(n for n in (normalize_line(ln) for ln in block.split("\n")) if n)


_INITIAL = re.compile(r"\b[^\W\d_]")


def prose_case(text: str) -> bool:
    """Most words start lower-case: running text, not a title-cased headline, menu or label."""
    initials = _INITIAL.findall(text)
    return sum(c.islower() for c in initials) * 2 > len(initials)
