"""The record types that flow between pipeline stages.

One frozen dataclass per kind of row: an `Article` travels from ingest through cleaning and
deduplication to the Parquet sink; a `Reject` is an input that could not become an article.
Arrow appears only at the Parquet edge (flows/sink.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Removal:
    """One paragraph or line removed from an article's body, with the rule that removed it."""

    position: int  # index of the block in the article's body (0-based, after the title)
    line: int | None  # index of the line inside the block, None when the whole block went
    text: str
    reason: str
    detail: str = ""
    dup_of: int | None = None  # for duplicate_paragraph: the position of the copy that stays
    similarity: float | None = None  # for duplicate_paragraph: the verified similarity


@dataclass(frozen=True, slots=True)
class Article:
    """One input record on its way to becoming a row of articles/ or duplicates/.

    `blocks` is the body as scraped: paragraphs in order, each a string whose lines stay
    separate (a caption and its credit). After cleaning, `blocks` holds only what was kept.
    """

    article_id: str
    source_file: str
    source_line: int | None
    record_index: int  # position of the record inside its file (0 for single-article files)
    fmt: str  # txt | html | json | jsonl
    title: str
    blocks: tuple[str, ...]
    url: str | None = None
    site: str | None = None
    domain: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    source_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    captions: tuple[str, ...] = ()
    removals: tuple[Removal, ...] = ()
    # index in the scraped body of each block in `blocks` (removals refer to these positions)
    positions: tuple[int, ...] | None = None

    def block_positions(self) -> tuple[int, ...]:
        return self.positions if self.positions is not None else tuple(range(len(self.blocks)))

    def replace(self, **changes: Any) -> Article:
        return dataclasses.replace(self, **changes)

    @property
    def text(self) -> str:
        """The body as it is written to Parquet: blocks joined by a blank line."""
        return "\n\n".join(self.blocks)


@dataclass(frozen=True, slots=True)
class Reject:
    """An input (a file, a JSON record, a line) that could not become an article."""

    source_file: str
    source_line: int | None
    reason: str  # short machine-friendly key, e.g. "invalid_json"
    detail: str  # a sentence a person understands
    raw_text: str = ""  # the raw input, bounded (see config.max_reject_raw_chars)
    record_index: int | None = None
