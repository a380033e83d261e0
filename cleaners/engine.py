"""The cleaning engine: an article's blocks in; kept blocks, captions and removals out.

How an article is judged, in order (each step is a small named function below):

1. every line is normalised (odd spaces, zero-width characters) and empty lines dropped;
2. photo credits and the caption they belong to leave the body for `captions`
   (`photo_credit`, `caption`); bylines fill `author` (`byline`); date-only lines fill the
   date (`dateline`);
3. the pattern catalogue (cleaners/catalogue.toml) names debris lines; a rule with `cut`
   removes what follows too (a comment section, a list of related headlines up to a sentence or a
   paragraph broken across lines; an invitation to comment printed as a box between the article's
   paragraphs takes only the box, `_after_comment_box`);
4. lines learned as boilerplate because they recur across many articles (`recurring_line`,
   cleaners/recurring.py); structural rules: link lists and menus (`link_list`), lines without
   letters (`no_letters`);
5. a repeat of the title above the first body paragraph goes (`title_repeat`);
6. every remaining line is classed `good` (a long sentence-like paragraph), `near` (a short
   sentence) or `short` (a label, a heading, a headline); the article's body is the run from the
   first to the last good paragraph that no edge rule names, or line of a data list of six or more
   numbered lines of one shape (`_data_lists`: a calendar on a page with little prose), its ends
   reaching over running-text lines of 12 words or more that lost their full stop (a scraped lede,
   a last paragraph; a datelined lede is good however it ends). Lines before it (`page_header`)
   and after it (`page_footer`) go, except short sentences that touch the body and a data list, a
   list numbered 1, 2, 3, a table of short cells, a list of phrases under a lead-in line ending
   with ':', a fact box of labelled lines with numbers or the section break that closes the story
   (`_list_run`, `_enumerated_run`, `_table_run`, `_colon_list_run`, `_fact_box_run`,
   `_closing_break`); a small run of paragraphs above or below a wide
   stretch of furniture is a teaser, not the body (`_lead_in_furniture`, `_tail_furniture`);
   inside it, short lines stay (headings, list items, one-line quotes) unless a rule above named
   them. Edge-only catalogue rules ("Click here", navigation, an author's bio) apply outside the
   body, and to three or more of them in a row anywhere, but a lone such sentence leading into the
   body stays.

Nothing is ever rewritten: a line is kept as it is (normalised) or removed whole, with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cache

from cleaners.captions import (
    byline_author,
    dateline_date,
    has_glued_credit,
    has_trailing_credit,
    is_bare_credit_label,
    is_caption_label,
    is_credit,
    is_relative_dateline,
)
from cleaners.normalize import normalize_line, prose_case
from cleaners.patterns import Catalogue, Rule, matcher_for
from cleaners.recurring import recurring_keys_of, scopes_of
from cleaners.words import word_count, word_counts

# Thresholds of the structural classes (words are \w+ tokens).
GOOD_WORDS = 12  # a sentence-like line with at least this many words is body text
LONG_WORDS = 30  # a line this long is body text even without final punctuation, unless most of its words are numbers
NEAR_WORDS = 4  # a sentence-like line with this many words is a short sentence
LEAD_GAP = 8  # lines of page furniture between a run of good paragraphs above and the article below
TAIL_MAX_PARAGRAPHS = 2  # a run below the article's furniture with at most this many good paragraphs may be left out
LEAD_SHARE = 0.1  # such a run above with fewer good words than this share of the rest is not the article
EDGE_WIDGET_LINES = 3  # this many edge-rule lines in a row are a widget wherever they stand (3 'Click here' promos)
CUT_MIN_GOOD_WORDS = 80  # a comment/related marker cuts the rest only after this much body text
COMMENT_METADATA = frozenset({"byline", "dateline"})  # a poster's name and date: below the box, comments go on
COMMENT_BOX_LINES = 4  # a comment box between the article's paragraphs: the marker and at most this many lines
LIST_MIN_ITEMS = 3  # a numbered list of at least this many lines of one shape continues the body
# A data table the body ends with (a scoreboard, a results grid): at least TABLE_MIN_CELLS short
# lines of at most TABLE_MAX_WORDS words, TABLE_MEAN_WORDS on average, TABLE_DIGIT_SHARE with digits.
TABLE_MIN_CELLS = 12
TABLE_MAX_WORDS = 8
TABLE_MEAN_WORDS = 4
TABLE_DIGIT_SHARE = 0.4
# Reasons a table's own cells with digits get when judged alone ('13', '1-3, 2-41', a number
# recurring in other articles): a table takes them back.
TABLE_CELL_REASONS = frozenset({"no_letters", "navigation", "recurring_line"})
CAPTION_MAX_WORDS = 60  # a paragraph above a stand-alone credit is its caption only when this short
# Catalogue rules whose lines are credits: they leave the body for `captions`, not for nowhere.
CREDIT_RULES = frozenset({"reporter_credit", "copyright", "photo_caption"})

_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"""(?:[.!?。！？]|[.!?]["'”’»)\]]+|["”’]\s*[.!?]?)$""")
# "... runs from Jan. 14-27. (Writing by Greg Stutchbury; Editing by John O'Brien)"
_WIRE_CREDIT_END = re.compile(r"""[.!?]["'”’]?\s*\((?:additional )?(?:reporting|writing|editing|compiled|produced)"""
                              r"""\b[^()]{0,200}\)$""", re.IGNORECASE)
_CONTINUED = re.compile(r"[.!?][\"'”’]?\s+\(?(?:continued|cont\.|continues)(?:\.\.\.|…|\)|\.)?\s*$", re.IGNORECASE)
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|…)\s*[\]\)»›]?$")
_SEPARATORS = re.compile(r"\s*(?:\||•|·|»|›|/ |\s/|::|\u2022|\u25aa)\s*")
_SEPARATOR_CHAR = re.compile(r"[|•·»›/:\u25aa]")  # a quick test: every separator holds one of these


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

    `blocks` are the kept paragraphs (lines of a block joined by newlines) and `positions` their
    indexes in the input; `captions` were moved out of the body; `author` / `dateline` are set when
    a byline or a date-only line was found.
    """

    blocks: list[str]
    positions: list[int]
    captions: list[str] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    author: str | None = None
    dateline: str | None = None


@dataclass(slots=True)
class _Line:
    block: int
    idx: int
    raw: str
    text: str
    words: int
    sentence: bool
    cls: str = ""  # good | near | short
    reason: str = ""  # set when removed
    detail: str = ""
    caption: bool = False
    keys: tuple[int, ...] | None = None  # its recurring-line keys, when given (clean_article's line_keys)


def _sentence(text: str) -> bool:
    """The line ends as a sentence does (or as a paragraph continued overleaf, or with the wire's credit).

    Most lines are prose ending with a full stop, a '!' or a '?' that is not part of an ellipsis:
    `_SENTENCE_END` holds and `_ELLIPSIS_END` (which ends with '...', '…' or a bracket) cannot, so
    they are answered without a regex (`_sentence_by_patterns` is the definition)."""
    last = text[-1:]
    if last in _FINAL_STOPS and last and (last != "." or text[-2:-1] != "."):
        return True
    return _sentence_by_patterns(text)


_FINAL_STOPS = "!?。！？."  # each ends a sentence alone (`_SENTENCE_END`'s first branch)


def _sentence_by_patterns(text: str) -> bool:
    tail = max(0, len(text) - 16)  # both patterns end the line: search only its last characters
    sentence = bool(_SENTENCE_END.search(text, tail)) and not _ELLIPSIS_END.search(text, tail)
    if not sentence and _CONTINUED.search(text, max(0, len(text) - 40)):
        sentence = True  # '... less visible to radar. Continued...': a paragraph that goes on overleaf
    if not sentence and text.endswith(")"):  # the wire's credit glued to the last paragraph
        sentence = _WIRE_CREDIT_END.search(text) is not None
    return sentence


def _classify(ln: _Line) -> str:
    if (ln.sentence and ln.words >= GOOD_WORDS) or (ln.words >= LONG_WORDS and _mostly_words(ln)):
        return "good"
    if ln.words >= GOOD_WORDS and _WIRE_LEDE.match(ln.text) and prose_case(ln.text):  # a datelined lede, however it ends
        return "good"
    if ln.sentence and ln.words >= NEAR_WORDS:
        return "near"
    return "short"


_LETTER_WORD = re.compile(r"\w*[^\W\d_]\w*")


def _mostly_words(ln: _Line) -> bool:
    """At least half the line's words hold a letter: a line of page numbers ('1 2 3 ... 40 Last »') or
    of scores is no long paragraph that lost its full stop, however many numbers it holds."""
    return 2 * len(_LETTER_WORD.findall(ln.text)) >= ln.words


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _drop(ln: _Line, reason: str, detail: str = "") -> None:
    if not ln.reason:
        ln.reason, ln.detail = reason, detail


# ------------------------------------------------------------------------------------ the rules

def rule_title_repeat(lines: list[_Line], title: str) -> None:
    """The title printed again above the first body paragraph. Example: 'US sanctions Chinese officials' under that title.

    Runs again once the edge rules have taken their lines off the top (an author's bio sentence above
    the repeat was not the first body paragraph), so a second cleaning finds no repeat left there."""
    t = _tokens(title)
    if not t:
        return
    for ln in lines:
        if ln.cls == "good" and not ln.reason:
            return  # only the top of the article, before its first body paragraph
        if not ln.reason and _same_title(_tokens(ln.text), t):
            _drop(ln, "title_repeat", "the article's title repeated in the body")


def _same_title(line: list[str], title: list[str]) -> bool:
    """The title, or the title without its site suffix ('Headline | Site'), or with a short prefix."""
    if line == title:
        return True
    if len(line) >= 4 and len(line) < len(title) and title[: len(line)] == line and len(title) - len(line) <= 6:
        return True
    return len(line) > len(title) >= 4 and line[-len(title):] == title and len(line) - len(title) <= 3


def rule_captions(lines: list[_Line]) -> tuple[str | None, str | None]:
    """Photo credits with their captions, bylines and datelines. Example: a caption line followed by 'Reuters'.

    All of them leave the body for the `captions` column (the supplemental lines of the page);
    a byline also names the author and a dateline the date. Returns (author, dateline).
    """
    author: str | None = None
    dateline: str | None = None
    for i, ln in enumerate(lines):
        if ln.reason:
            continue
        if is_bare_credit_label(ln.text):  # nothing to credit and no caption to claim
            _drop(ln, "photo_credit", "an empty image-credit label")
            continue
        if ln.words <= 40 and is_credit(ln.text):
            _drop(ln, "photo_credit", "image credit line")
            ln.caption = True
            prev = lines[i - 1] if i > 0 else None
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if nxt is not None and is_caption_label(nxt.text):
                prev = None  # the credit's caption is the labelled one below it, not the paragraph above
            if prev is not None and not prev.reason and (
                    prev.block == ln.block or (prev.words <= CAPTION_MAX_WORDS and prev.cls != "good")):
                _drop(prev, "caption", "the caption of the image credited on the next line")
                prev.caption = True
            continue
        if ln.words <= CAPTION_MAX_WORDS and (has_trailing_credit(ln.text) or has_glued_credit(ln.text)):
            _drop(ln, "caption", "caption with its own image credit at the end")
            ln.caption = True
            continue
        name = byline_author(ln.text)
        if name:
            _drop(ln, "byline", name)
            ln.caption = True
            author = author or name
            continue
        date = dateline_date(ln.text) if ln.words <= 16 else None  # a dateline is a short line
        if date:
            _drop(ln, "dateline", date)
            ln.caption = True
            dateline = dateline or date
            continue
        if is_relative_dateline(ln.text):
            _drop(ln, "dateline", "relative date")
            ln.caption = True
    return author, dateline


def rule_link_list(ln: _Line) -> bool:
    """A menu or share bar: short items between separators. Example: 'Email | Print | Comments'."""
    text = ln.text
    if ln.words > 40 or not _SEPARATOR_CHAR.search(text) or not _SEPARATORS.search(text):
        return False
    parts = [p for p in _SEPARATORS.split(text) if p.strip()]
    if not parts:
        return True
    short = sum(1 for p in parts if word_count(p) <= 4)
    trailing = bool(re.search(r"(?:\||•|·|»|›)\s*$", text))
    return (len(parts) >= 3 and short >= len(parts) - 1) or (len(parts) >= 2 and short == len(parts)) or (
        trailing and short == len(parts))


def rule_no_letters(ln: _Line) -> bool:
    """A line with no letters at all: counters, scores, stray punctuation. Example: '31', '| |'.
    Not a section break ('___', '* * *') or a price ('$139.00'): inside the body they are the
    article's own (the positional rules remove them at its edges)."""
    return _LETTER.search(ln.text) is None and not is_section_break(ln.text) and not _PRICE.fullmatch(ln.text)


_SECTION_BREAK = re.compile(r"([-_=*#~—–•·])(?:\s*\1){2,}")  # one character repeated: '___', '* * *', '———'
_PRICE = re.compile(r"(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?[$€£¥])")


def is_section_break(text: str) -> bool:
    """A line that only separates sections: one separator character, repeated."""
    return _SECTION_BREAK.fullmatch(text) is not None


# ---------------------------------------------------------------------------------- the engine

def clean_article(blocks: Sequence[str], *, title: str = "", site: str | None = None,
                  catalogue: Catalogue | None = None, recurring: Collection[int] = frozenset(),
                  extracted: bool = False, line_keys: Sequence[tuple[int, ...]] | None = None) -> Cleaned:
    """Clean one article: the kept blocks, the captions moved out and every removal with its rule.

    `site` (a domain or site name) selects the catalogue's per-site section and the scope of
    learned boilerplate; `recurring` holds the line keys learned as boilerplate (cleaners.recurring).
    `extracted=True` says a main-content extractor (trafilatura) already cut the page down to the
    article: then the positional rules (page_header, page_footer, link_list) stand down, because
    what is left at the edges is the extractor's choice of content (lists, tables, schedules).
    `line_keys`: every line's recurring-line keys (cleaners.recurring.line_keys over the blocks'
    lines in order), when the caller computed them already (the pipeline does, counting them);
    else a line is normalised and hashed here when it is looked up.
    """
    if line_keys is not None and len(line_keys) != sum(block.count("\n") + 1 for block in blocks):
        raise ValueError(f"line_keys has {len(line_keys)} entries, the blocks have another number of lines")
    lines: list[_Line] = []
    removed: list[Removed] = []
    n = 0
    for b, block in enumerate(blocks):
        raw_lines = block.split("\n")
        for j, raw in enumerate(raw_lines):
            n += 1
            text = normalize_line(raw)
            if not text:
                if raw.strip() or len(raw_lines) > 1:
                    removed.append(Removed(b, j if len(raw_lines) > 1 else None, raw, "empty", "whitespace only"))
                continue
            lines.append(_Line(b, j, raw, text, 0, _sentence(text),
                               keys=line_keys[n - 1] if line_keys is not None else None))
    for ln, words in zip(lines, word_counts([ln.text for ln in lines]), strict=True):  # one compiled pass
        ln.words = words
    for ln in lines:
        ln.cls = _classify(ln)

    author, dateline = rule_captions(lines)
    matcher = matcher_for(site, catalogue)
    scopes = scopes_of(site)
    unjudged = [i for i, ln in enumerate(lines) if not ln.reason]
    matched: list[Rule | None] = [None] * len(lines)
    for i, rule in zip(unjudged, matcher.match_many([lines[i].text for i in unjudged]), strict=True):
        matched[i] = rule
    edge_only: list[int] = []
    for i, (ln, rule) in enumerate(zip(lines, matched, strict=True)):
        if ln.reason:
            continue
        if rule is not None and rule.where == "edge":
            edge_only.append(i)
            if rule_link_list(ln):
                _drop(ln, "link_list", "short items between separators: a menu or share bar")
        elif rule is not None:
            _drop(ln, rule.name, rule.description)
        elif recurring and not is_section_break(ln.text) and (
                any(k in recurring for k in ln.keys) if ln.keys is not None
                else recurring_keys_of(ln.text, scopes, recurring)):
            _drop(ln, "recurring_line", "recurs in many other articles (learned boilerplate)")
        elif rule_no_letters(ln):
            _drop(ln, "no_letters", "no letters: a counter, score or stray punctuation")
        elif not extracted and rule_link_list(ln):
            _drop(ln, "link_list", "short items between separators: a menu or share bar")

    for ln, rule in zip(lines, matched, strict=True):
        if rule is not None and rule.name in CREDIT_RULES and ln.reason == rule.name:
            ln.caption = True
    rule_title_repeat(lines, title)
    _cuts(lines, matched)
    edge_set = set(edge_only)
    first, last = _body_span(lines, edge_set)
    # edge-rule lines next to each other once removed lines are left out: a widget, not a lone call to action
    live = [i for i, ln in enumerate(lines) if not ln.reason]
    pairs = [(a, b) for a, b in zip(live, live[1:], strict=False) if a in edge_set and b in edge_set]
    stacked = {i for pair in pairs for i in pair}
    widget = _edge_runs(live, edge_set, EDGE_WIDGET_LINES)  # inside the body too: a promo box, a menu
    _drop_edge_lines(lines, edge_only, matched, widget, stacked, first, last)
    rule_title_repeat(lines, title)  # again: the edge lines that went may have been all above it
    first, last = _body_span(lines)
    if first is not None and not extracted:
        first = _lead_in_furniture(lines, first, last)
        last = _tail_furniture(lines, first, last)
        _trim_edges(lines, first, last)

    captions = [ln.text for ln in lines if ln.caption]
    return _assemble(blocks, lines, removed, captions, author, dateline)


# 'LARKANA, PAKISTAN — ', 'QUEENSTOWN, New Zealand (AFP) - ', 'WASHINGTON (Reuters) - '
_WIRE_LEDE = re.compile(r"[A-Z][A-Z'’.-]+(?:[ ,]+[A-Z][\w'’.-]*){0,4}\s*(?:\([^)]{1,40}\))?\s*(?:[-–—]{1,2}|:)\s")


def _good_lines(lines: Sequence[_Line], lo: int, hi: int) -> list[int]:
    """The good paragraphs among lines lo..hi (inclusive) that no rule removed."""
    return [i for i in range(lo, hi + 1) if not lines[i].reason and lines[i].cls == "good"]


def _wide_gaps(lines: Sequence[_Line], first: int, last: int) -> list[tuple[int, int]]:
    """Consecutive good paragraphs (a, b) of the body with a wide stretch of page furniture between them:
    at least LEAD_GAP lines that rules removed or that are short non-sentences."""
    good = _good_lines(lines, first, last)
    return [(a, b) for a, b in zip(good, good[1:], strict=False)
            if sum(1 for k in range(a + 1, b) if lines[k].reason or lines[k].cls == "short") >= LEAD_GAP]


def _lead_in_furniture(lines: Sequence[_Line], first: int, last: int) -> int:
    """The body's first line once a small run of good paragraphs above the first wide stretch of page
    furniture (`_wide_gaps`) is left out: a teaser, a caption or a promo printed above the site's
    menus and headline lists, not the article's start. Small: under LEAD_SHARE of the good words
    below. A run that opens with a wire dateline ('LARKANA, PAKISTAN — ...') is the article's lede
    and stays."""
    gaps = _wide_gaps(lines, first, last)
    if not gaps:
        return first
    a, b = gaps[0]
    if _good_words(lines, first, a + 1) >= LEAD_SHARE * _good_words(lines, b, last + 1) or any(
            _WIRE_LEDE.match(lines[i].text) for i in _good_lines(lines, first, a)):
        return first
    return b


def _tail_furniture(lines: Sequence[_Line], first: int, last: int) -> int:
    """The body's last line once a run of at most TAIL_MAX_PARAGRAPHS good paragraphs below the last
    wide stretch of page furniture (`_wide_gaps`) is left out when it is small beside the article
    (under LEAD_SHARE of its good words): a related story's summary, a promo or a bio printed below
    the share bars and headline lists."""
    gaps = _wide_gaps(lines, first, last)
    if not gaps:
        return last
    a, b = gaps[-1]
    small = _good_words(lines, b, last + 1) < LEAD_SHARE * _good_words(lines, first, a + 1)
    return a if len(_good_lines(lines, b, last)) <= TAIL_MAX_PARAGRAPHS and small else last


def _edge_runs(live: Sequence[int], edge: Collection[int], min_run: int) -> set[int]:
    """The edge-rule lines in runs of at least `min_run` consecutive live lines."""
    out: set[int] = set()
    run: list[int] = []
    for i in [*live, -1]:
        if i in edge:
            run.append(i)
            continue
        if len(run) >= min_run:
            out.update(run)
        run = []
    return out


def _drop_edge_lines(lines: list[_Line], edge_only: Sequence[int], matched: Sequence[Rule | None],
                     widget: Collection[int], stacked: Collection[int], first: int | None, last: int) -> None:
    """Drop, in order, the edge-rule lines in a widget or outside the body (`_outside_body`).

    Where the lead-in above the body reaches (`_lead_in`) is walked once, not once per line: a page
    of thousands of menu lines made that quadratic (20,000 lines: 21 s, now 1.3 s). Dropping line i
    cannot change the answer for a later line j > i above the body: the walk up from `first` stops
    at j or steps over it before it could get to i. A test holds this to walking it for every line."""
    lead_in = cache(lambda: _lead_in(lines, first)) if first is not None else None
    for i in edge_only:
        rule = matched[i]
        if rule is not None and (i in widget or _outside_body(i, first, last, i in stacked, lead_in)):
            _drop(lines[i], rule.name, rule.description)


def _outside_body(i: int, first: int | None, last: int, stacked: bool, lead_in: Callable[[], int] | None) -> bool:
    """Whether an edge rule's line `i` is outside the body: after it, or before it and not a lone
    sentence that short sentences lead into the body (an intro's "Click here to download the game.",
    above `lead_in()`, where `_lead_in` reaches); a stack of edge-rule lines before the body is a widget."""
    if first is None or i > last:
        return True
    if i >= first:
        return False
    return stacked or (lead_in is not None and i < lead_in())


def _lead_in(lines: list[_Line], first: int) -> int:
    """The top of the body's lead-in: from its first line `first` up over short sentences
    (`_reach_over_near`)."""
    return _reach_over_near(lines, first, range(first - 1, -1, -1))


def _good_words(lines: Sequence[_Line], lo: int, hi: int) -> int:
    return sum(ln.words for ln in lines[lo:hi] if not ln.reason and ln.cls == "good")


def _cuts(lines: list[_Line], matched: list) -> None:
    """Comment sections (the marker and everything after it, once the article has had its body) and
    related-headline lists (the header and the headlines under it, up to the next sentence)."""
    markers = {i for i, rule in enumerate(matched) if rule is not None and rule.cut in ("rest", "box")}
    for i, rule in enumerate(matched):
        if rule is None or not rule.cut or lines[i].reason and lines[i].reason != rule.name:
            continue
        if rule.cut in ("rest", "box") and _good_words(lines, 0, i) >= CUT_MIN_GOOD_WORDS:
            resume = _after_comment_box(lines, i, markers) if rule.cut == "box" else len(lines)
            for ln in lines[i:resume]:
                _drop(ln, rule.name, "inside the comment section")
            if resume == len(lines):
                return
        if rule.cut == "list":
            _drop(lines[i], rule.name, rule.description)
            for ln in lines[i + 1:]:
                if ln.reason:
                    continue
                if ln.cls != "short" or _WIRE_LEDE.match(ln.text) or _broken_sentence(ln):
                    break  # a sentence, an article's datelined lede, or its paragraph broken across lines
                _drop(ln, rule.name, "headline under a related-stories header")


# Words that never end a headline: a line ending with one is a sentence broken across lines.
_OPEN_END = re.compile(r"\b(?:a|an|the|of|with|from|and|or|but|which)$", re.IGNORECASE)


def _broken_sentence(ln: _Line) -> bool:
    """Running text cut off mid-sentence ('Brown's basket gave WSU a'): the start of a paragraph the
    scrape broke across lines, not a headline."""
    return not ln.sentence and _OPEN_END.search(ln.text) is not None


def _after_comment_box(lines: Sequence[_Line], marker: int, markers: Collection[int]) -> int:
    """Where the comment section that opens at `marker` ends: the end of the article, or, for a
    'Have your say' box printed between the article's paragraphs, the article's last paragraphs below
    it. Those are a run of at least two adjacent good paragraphs that starts within COMMENT_BOX_LINES
    live lines of the marker, holds the page's last good paragraphs and ends where a rule names the
    page's furniture (a share bar): comments come apart, each with its poster's name, date or
    'Reply' line, keep coming, and end the page."""
    live = [j for j in range(marker + 1, len(lines)) if not lines[j].reason]
    for j in live[:COMMENT_BOX_LINES + 1]:
        after = j
        while after < len(lines) and not lines[after].reason and lines[after].cls == "good":
            after += 1  # the run: adjacent lines, nothing removed between them
        if after - j < 2:
            continue
        furniture_next = after < len(lines) and lines[after].reason not in ("", *COMMENT_METADATA)
        if furniture_next and not any(lines[k].cls == "good" and not lines[k].reason or k in markers
                                      or lines[k].reason in COMMENT_METADATA for k in range(after, len(lines))):
            return j
        break
    return len(lines)


def _body_span(lines: Sequence[_Line], edge: Collection[int] = ()) -> tuple[int | None, int]:
    """(first, last) line of the body: from the first to the last good paragraph, not counting lines an
    edge rule names (a call to action, an author's bio: they belong to the body only between its
    paragraphs, never at its ends) unless the article has nothing else."""
    good = [i for i, ln in enumerate(lines) if not ln.reason and ln.cls == "good"]
    good = sorted({i for i in good if i not in edge} | _data_lists(lines)) or good
    if not good:
        return None, -1
    first, last = good[0], good[-1]
    for i in range(first - 1, -1, -1):  # a lede that lost its full stop: running text right above the body
        if not _unstopped_text(lines[i]) or i in edge:
            break
        first = i
    for i in range(last + 1, len(lines)):  # and a last paragraph that lost it, right below
        if not _unstopped_text(lines[i]) or i in edge:
            break
        last = i
    return first, last


DATA_LIST_MIN = 6  # this many lines in a row of one numbered shape are the article's own data (a calendar, a tour)
DATA_LIST_KEY = 4  # lines of one shape: the same first DATA_LIST_KEY shape characters ('9a:9', 'a9--')


def _data_lists(lines: Sequence[_Line]) -> set[int]:
    """Lines in runs of at least DATA_LIST_MIN consecutive live lines of one shape that carries
    numbers between words ('1a etapa: 10 de março – Interlagos', 'June 9 -- Venue, City, ST'): the
    article's own data, a body anchor like a good paragraph even where the page has little prose.
    A menu or archive list ('Route 6', 'January 2018 (5)') has one word run only and is not one."""
    out: set[int] = set()
    run: list[int] = []
    shape = ""
    for i, ln in enumerate([*lines, None]):
        if ln is not None and ln.reason:
            continue
        s = _shape(ln.text) if ln is not None and ln.cls != "good" and _SHAPE_DIGITS.search(ln.text) else ""
        s = s[:DATA_LIST_KEY] if "9" in s and s.count("a") >= 2 and len(s) >= DATA_LIST_KEY else ""
        if s and s == shape:
            run.append(i)
            continue
        if len(run) >= DATA_LIST_MIN:
            out.update(run)
        run, shape = ([i], s) if s else ([], "")
    return out


def _unstopped_text(ln: _Line) -> bool:
    """Running text of GOOD_WORDS words or more that lost its full stop (not a title-cased headline,
    a sentence, a credit, or a row of numbers behind a few words: 'Go to page 1 2 3 ... 40')."""
    return (not ln.reason and ln.words >= GOOD_WORDS and prose_case(ln.text) and not ln.sentence
            and _mostly_words(ln) and not is_credit(ln.text))


def _reach_over_near(lines: list[_Line], start: int, indices: range) -> int:
    """From `start`, step over removed lines, short sentences ('near') and short lines that end like a
    sentence ('Well ... um ... ANYTHING.', 'Thanks Junior!') in `indices`; the last one reached."""
    reached = start
    for i in indices:
        if lines[i].reason:
            continue
        if lines[i].cls != "near" and not (lines[i].sentence and lines[i].words >= 2):
            break
        reached = i
    return reached


_SHAPE_WORD = re.compile(r"[^\W\d_]+(?:\s+[^\W\d_]+)*")
_SHAPE_DIGITS = re.compile(r"\d+")
_SHAPE_SPACE = re.compile(r"\s+")


def _shape(text: str) -> str:
    """A line's skeleton: each run of words 'a', each run of digits '9', punctuation kept, spaces dropped."""
    return _SHAPE_SPACE.sub("", _SHAPE_DIGITS.sub("9", _SHAPE_WORD.sub("a", text)))


def _list_run(lines: Sequence[_Line], start: int) -> int:
    """The end (exclusive) of a data list that continues the body at `start`, or `start` when there is none.

    A table or list the article ends with (tour dates, results, a calendar) is a run of short lines
    of one shape carrying numbers ('June 9 -- Venue, City, ST', '1. Name (Team) 1'32.2'), after at
    most one heading line. Menus, share bars and headline lists have no such common numbered shape;
    title-cased lines that are only a number and words ('27 Oddest Medical Case Reports') are a
    listicle's headlines, while '3 eggs', '2 cups of flour' are the article's own list.
    """
    live = [i for i in range(start, len(lines)) if not lines[i].reason]
    for lead in (0, 1):
        items = live[lead:]
        shapes: list[str] = []
        for i in items:  # the run of numbered lines (shapes made only as far as it goes)
            shape = _shape(lines[i].text)
            if "9" not in shape or lines[i].cls == "good":
                break
            shapes.append(shape)
        n = len(shapes)
        if n < LIST_MIN_ITEMS:
            continue
        common = max(set(shapes), key=lambda s: (shapes.count(s), s))
        if shapes.count(common) * 2 < n:
            continue
        if common == "9a" and not any(prose_case(lines[i].text) for i in items[:n]):
            continue  # '27 Oddest Medical Case Reports', '10 Strangest Medical Cases': listicle headlines
        return items[n - 1] + 1
    return start


_ENUMERATOR = re.compile(r"(\d{1,3})\s*[.)]\s+\S")
ENUM_MIN_ITEMS = 3  # a list numbered 1, 2, 3 ... with at least this many items continues the body
ENUM_MAX_BETWEEN = 3  # lines an item may carry below it (its link, a description)


def _enumerated_run(lines: Sequence[_Line], start: int) -> int:
    """The end (exclusive) of a numbered list that continues the body at `start`, or `start` when there is none.

    Items numbered in sequence ('1) Lego Star Wars 75188 ...', '2) ...'), after at most one lead-in
    line ('Here are the offers:'), each with up to ENUM_MAX_BETWEEN lines below it (its link, a line
    of description): a list of the article's own, whatever the items' shapes. It stops at a line a
    rule removed (a related-stories list under its header is removed, never continued)."""
    for lead in (0, 1):
        end = _enumerated_items(lines, start + lead)
        if end > start + lead:
            return end
    return start


def _enumerated_items(lines: Sequence[_Line], start: int) -> int:
    expected, end, between = None, start, 0
    items = 0
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.reason:
            break
        m = _ENUMERATOR.match(ln.text)
        number = int(m.group(1)) if m else None
        if number is not None and (expected is None or number == expected):
            expected, items, between, end = number + 1, items + 1, 0, i + 1
            continue
        if expected is None:
            break
        between += 1
        if between > ENUM_MAX_BETWEEN:
            break
        end = i + 1
    return end if items >= ENUM_MIN_ITEMS else start


def _table_run(lines: Sequence[_Line], start: int) -> int:
    """The end (exclusive) of a data table that continues the body at `start`, or `start` when there is none.

    A scoreboard or results grid printed one cell per line ('Tamim Iqbal', 'c Styris b Mason', '13')
    has no single shape, but its cells are short and many carry digits: a run of at least
    TABLE_MIN_CELLS such lines (see the constants). Menus and headline lists are either too wordy
    or without digits. The run stops at a line a rule named (other than a cell's own reasons,
    TABLE_CELL_REASONS, which the table takes back) or at running text."""
    cells: list[int] = []
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.reason:
            if ln.reason not in TABLE_CELL_REASONS or not any(ch.isdigit() for ch in ln.text):
                break
        elif ln.cls == "good" or ln.words > TABLE_MAX_WORDS:
            break
        cells.append(i)
    n = len(cells)
    if n < TABLE_MIN_CELLS:
        return start
    with_digits = sum(1 for i in cells if any(ch.isdigit() for ch in lines[i].text))
    if with_digits < TABLE_DIGIT_SHARE * n or sum(lines[i].words for i in cells) > TABLE_MEAN_WORDS * n:
        return start
    for i in cells:
        lines[i].reason = lines[i].detail = ""
    return cells[-1] + 1


COLON_LIST_MIN_ITEMS = 3  # items under a lead-in line ending with ':' that continue the body
COLON_LIST_ITEM_WORDS = (4, 30)  # an item's words: a phrase, not a label or a menu entry


def _colon_list_run(lines: Sequence[_Line], start: int) -> int:
    """The end (exclusive) of a list the body ends with under its lead-in line ('The game has:',
    'Dare to Play 3:'), or `start` when there is none: at least COLON_LIST_MIN_ITEMS lines of
    COLON_LIST_ITEM_WORDS words written as prose (not title-cased headlines), up to a line a rule
    removed, a label or a paragraph. A menu, share bar or tag list has items of a word or two; a
    related-stories header is a catalogue rule and its headlines go with it."""
    live = [i for i in range(start, len(lines)) if not lines[i].reason]
    if not live or live[0] != start or not lines[start].text.endswith(":") or lines[start].words > GOOD_WORDS:
        return start
    lo, hi = COLON_LIST_ITEM_WORDS
    items = 0
    for i in range(start + 1, len(lines)):
        ln = lines[i]
        if ln.reason or ln.cls == "good" or not lo <= ln.words <= hi or not prose_case(ln.text):
            break
        items += 1
    return start + 1 + items if items >= COLON_LIST_MIN_ITEMS else start


def _trim_edges(lines: list[_Line], first: int, last: int) -> None:
    """Lines before the first and after the last good paragraph, except short sentences touching the
    body and a data list or table the body ends with."""
    for ln in lines[:_lead_in(lines, first)]:
        _drop(ln, "page_header", "before the article's body")
    end = _list_run(lines, _reach_over_near(lines, last, range(last + 1, len(lines))) + 1)
    end = _colon_list_run(lines, _table_run(lines, _enumerated_run(lines, end)))
    end = _closing_break(lines, _fact_box_run(lines, end))
    for ln in lines[end:]:
        _drop(ln, "page_footer", "after the article's body")


_FACT = re.compile(r"[A-Z][\w'’]*(?: [\w'’]+){0,2}\s?: \S")  # 'Who: Wright State at Loyola', 'When: 8 p.m., Saturday'
FACT_BOX_MIN = 3  # labelled lines in a row that make a fact box


def _fact_box_run(lines: Sequence[_Line], start: int) -> int:
    """The end (exclusive) of a fact box the body ends with ('Next game' / 'Who: ...' / 'When: ...' /
    'Radio: ...'), or `start`: at least FACT_BOX_MIN lines in a row of a label of up to three words,
    a colon and a value with a number (a date, a time, a score, a price), after at most one heading
    line. Menus, share bars and headline lists ('USA: In Iowa, so many candidates') carry no numbers."""
    live = [i for i in range(start, len(lines)) if not lines[i].reason]
    for lead in (0, 1):
        items = live[lead:]
        n = 0
        while n < len(items) and lines[items[n]].cls != "good" and _FACT.match(lines[items[n]].text) and any(
                ch.isdigit() for ch in lines[items[n]].text):
            n += 1
        if n >= FACT_BOX_MIN and (lead == 0 or lines[live[0]].words <= NEAR_WORDS):
            return items[n - 1] + 1
    return start


def _closing_break(lines: Sequence[_Line], end: int) -> int:
    """`end` past a section break that closes the body ('___', '# # #', '———'): the wire's and the press
    release's end-of-story mark is part of the article, whatever page furniture follows it."""
    for i in range(end, len(lines)):
        if not lines[i].reason:
            return i + 1 if is_section_break(lines[i].text) else end
    return end


def _assemble(blocks: Sequence[str], lines: list[_Line], removed: list[Removed], captions: list[str],
              author: str | None, dateline: str | None) -> Cleaned:
    by_block: dict[int, list[_Line]] = {}
    for ln in lines:
        by_block.setdefault(ln.block, []).append(ln)
    kept_blocks: list[str] = []
    positions: list[int] = []
    for b in range(len(blocks)):
        bl = by_block.get(b, [])
        keep = [ln.text for ln in bl if not ln.reason]
        gone = [ln for ln in bl if ln.reason]
        if keep:
            kept_blocks.append("\n".join(keep))
            positions.append(b)
        whole = not keep and len({ln.reason for ln in gone}) == 1 and len(blocks[b].split("\n")) == len(gone)
        if whole:
            removed.append(Removed(b, None, blocks[b], gone[0].reason, gone[0].detail))
        else:
            removed.extend(Removed(b, ln.idx, ln.raw, ln.reason, ln.detail) for ln in gone)
    removed.sort(key=lambda r: (r.position, -1 if r.line is None else r.line))
    return Cleaned(kept_blocks, positions, captions, removed, author, dateline)
