"""The cleaning engine: an article's blocks in, kept blocks, captions and removals out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cleaners.normalize import normalize_block


@dataclass(frozen=True, slots=True)
class Removed:
    """A block (line=None) or one line of a block that left the body, and the rule that took it."""

    position: int
    line: int | None
    text: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The result of cleaning one article.

    `blocks` are the kept paragraphs with their original positions in `positions`;
    `captions` were moved out of the body; `author` / `dateline` are filled when a byline or a
    dateline-only line was found.
    """

    blocks: list[str]
    positions: list[int]
    captions: list[str] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    author: str | None = None
    dateline: str | None = None


def clean_article(blocks: Sequence[str], *, title: str = "", site: str | None = None) -> Cleaned:
    """Normalise whitespace in every block; blocks left empty are dropped as `empty`."""
    kept: list[str] = []
    positions: list[int] = []
    removed: list[Removed] = []
    for i, block in enumerate(blocks):
        norm = normalize_block(block)
        if norm:
            kept.append(norm)
            positions.append(i)
        else:
            removed.append(Removed(i, None, block, "empty", "whitespace only"))
    return Cleaned(kept, positions, [], removed)
