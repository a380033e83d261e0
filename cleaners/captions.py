"""Captions, photo credits, bylines and datelines: recognisers for lines that leave the body.

Each function looks at one normalised line and answers with what it found (or None).
"""

from __future__ import annotations

import re

_AGENCY = (r"(?:reuters|ap|the associated press|associated press|afp|getty(?: images)?|epa(?:-efe)?|efe|pa(?: wire| images| media)?"
           r"|ap photo|afp photo|reuters photo|epa photo|shutterstock|alamy|xinhua|bloomberg|anadolu(?: agency)?|dpa"
           r"|ansa|aap|ap images|wireimage|filmmagic|istock(?:photo)?|corbis|rex features|rex|rex/shutterstock|sipa"
           r"|imago|action images|bbc|nasa|supplied|handout|file photo|file|pool|courtesy(?: photo)?)")

# A whole line that is a photo credit.
_CREDIT = re.compile(
    r"(?:"
    rf"{_AGENCY}(?:\s*(?:/|via|photo(?:graph)?|for|,)\s*[\w .,&'’-]{{1,60}})?"  # "Reuters", "AP Photo/Evan Vucci"
    r"|(?:photo|photos|photograph|photography|image|images|picture|pictures|pic|pics|graphic|illustration|video|footage"
    r"|credit|photo credit|image credit|foto|fotos|фото|фотография|사진)\s*(?:credit)?\s*[:/|©]\s*.{1,100}"  # "Photo: AP"
    r"|(?:photo|image|picture|photograph)s?\s+(?:by|courtesy(?: of)?)\s+.{1,100}"  # "Photo by Jane Doe"
    r"|(?:image|photo|picture|media) (?:caption|copyright|source|credit)s?.{0,200}"  # BBC's "Image caption ...", "Media captionX"
    r"|courtesy of [\w .,&'’-]{1,60}"  # "Courtesy of Andrew Vaughan"
    r"|(?:фото )?(?:из )?личн(?:ый|ого) архива?(?: [\w .,&'’-]{1,60})?"  # "личный архив Анны Ивановой": personal archive
    r")",
    re.IGNORECASE,
)
# Credits named after other words, tried only on lines that hold their mark ('submitted', '©').
_SUBMITTED = re.compile(r"(?:[\w.'’-]+\s+){0,5}submitted (?:photo|image|picture)s?", re.IGNORECASE)  # "Jane Doe Submitted photo"
_COPYRIGHT_CREDIT = re.compile(r".{0,80}©\s*(?!\d{4})(?![^©]*\brights\b)[\w .,&/'’-]{1,60}",  # "Kenneth Perez © Reuters"
                               re.IGNORECASE)

# A bare credit label whose name sits in an image the scrape lost: "Photo:", "Фото:".
_CREDIT_LABEL = re.compile(r"(?:photo|photos|image|picture|foto|fotos|фото|фотография|사진)\s*:", re.IGNORECASE)

# A caption that ends with its own parenthesised credit: "... (AP Photo/Evan Vucci)", "(Ferrey/WireImage)".
_TRAILING_CREDIT = re.compile(
    rf".{{8,600}}[(\[]\s*(?:(?:{_AGENCY}|photo|photograph|picture|image|file|credit|courtesy|getty|photo by)\b[^()\[\]]{{0,80}}"
    r"|[\w .'’-]{1,40}/[\w .'’-]{1,40})\s*[)\]]\.?",
    re.IGNORECASE,
)

_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|de|da|van|von|der|la|le|del|bin|al|and|&))*"
_BYLINE = re.compile(
    rf"(?i:by|written by|words by|story by|report by|reported by)\s*[:\-]?\s+(?P<name>{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*)"
    r"(?:\s*(?:,|\||/|-|–|—|\bin\b)\s*.{0,80})?",
)
_BYLINE_PREFIX = re.compile(r"(?i)^(?:by|written by|words by|story by|report by|reported by)\b")
_BY_WORD = re.compile(r"^[Bb][Yy]\b|^BY\b")

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
          r"|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE = re.compile(
    r"(?:"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH},?\s+\d{{2,4}}"  # 10 January 2008
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # January 10, 2008
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"  # Dec 28
    r"|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # ISO
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"  # 01/02/2008
    r"|\b\d{1,2}-[A-Za-z]{3}-\d{2,4}\b"  # 8-Jan-2008
    r"|\b\d{1,2}/\d{1,2}(?=\s+\d{1,2}:\d{2})"  # 01/17 16:59 (month/day before a time)
    r")",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|\b\d{1,2}\s*[ap]\.?m\.?\b", re.IGNORECASE)
_DATE_FILLER = re.compile(
    r"(?i)\b(?:published|updated|update|posted|last|modified|created|first|on|at|date|time|dateline|uhr|le|am|pm|a\.m|p\.m"
    r"|gmt|utc|bst|cet|cest|est|edt|et|pst|pdt|cst|cdt|mst|mdt|ist|aest|aedt|hkt|sgt|jst|local|hrs|hours|ago|day|days|week|weeks"
    r"|month|months|year|years|hour|minute|minutes|mins|today|yesterday|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|of|the|and|in|\d+(?:st|nd|rd|th)?)\b"
)
_TRAILING_DATE = re.compile(rf"\s(?:{_DATE.pattern})(?:\s*(?:{_TIME.pattern}))?\s*$", re.IGNORECASE)
_PLACE = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:[ ,]+[A-ZÀ-ÖØ-Þ][\w'’.-]*){0,3}")
_RELATIVE_DATE = re.compile(
    r"(?i)^(?:(?:posted|updated|published)\s*:?\s*)?(?:\d+|an?|one)\s+(?:minute|min|hour|hr|day|week|month|year)s?\s+ago$"
    r"|^(?:posted|updated|published|last updated)\s*(?:at|:)?\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*(?:[a-z]{2,4})?$")
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")


# A photographer's name with the outlet or agency: "John Raoux/Associated Press", "Michael Conroy, AP",
# "Sonu Mehta/Hindustan Times/Getty Images" (case-sensitive: a capitalised name of two to four words).
_NAME = r"[A-Z][\w'’-]*\.?(?:\s+[A-Z][\w'’-]*\.?){1,3}"
_NAME_CREDIT = re.compile(rf"{_NAME}\s*(?:/\s*[A-Z][\w .&'’-]{{1,40}}){{1,2}}|{_NAME},\s*(?:AP|AFP|Reuters|EPA|Getty Images|AP Photo)")


def is_credit(line: str) -> bool:
    """True for a photo/image credit line: 'Reuters', 'AP Photo/Evan Vucci', 'Photo: Getty Images', 'Image caption ...'."""
    s = line.strip(" .;")
    if s[:1] in "([" and s[-1:] in ")]":  # "(Image credit: NASA)"
        s = s[1:-1].strip(" .;")
    if len(line) > 300:
        return False
    return (_CREDIT.fullmatch(s) is not None
            or ("©" in s and _COPYRIGHT_CREDIT.fullmatch(s) is not None)
            or "submitted" in s.lower() and _SUBMITTED.fullmatch(s) is not None
            or s[:1].isupper() and ("/" in s or "," in s) and _NAME_CREDIT.fullmatch(s) is not None)


_CAPTION_LABEL = re.compile(r"(?:image|photo|picture|media|video)\s*caption|caption\s*:", re.IGNORECASE)


def is_caption_label(line: str) -> bool:
    """True for a caption that names itself: 'Image caption Scooter Braun has managed ...', 'Caption: ...'.
    A credit right above such a line belongs to it (the BBC prints 'Image copyright X' first)."""
    return _CAPTION_LABEL.match(line.strip(" ([")) is not None


def is_bare_credit_label(line: str) -> bool:
    """True for a credit label whose name was in the image the scrape lost: 'Photo:', 'Фото:'."""
    return _CREDIT_LABEL.fullmatch(line.strip(" .;")) is not None


# A caption whose credit follows its last sentence with no bracket, often glued on by the scrape:
# "... earnings. Photograph by Robyn Beck/AFP/Getty Images", "... in New York.Reuters",
# "... He didn't get it.Credit...Doug Mills/The New York Times", "... on eBay. Photo / Reuters".
_GLUED = re.compile(r"(?P<caption>.{8,600}?[.!?”\"’])\s*(?P<credit>(?:(?:credit|photo|image)\s*(?:\.{2,}|…))?[^.!?…]{2,120})",
                    re.IGNORECASE)
_GLUED_MARKER = re.compile(r"\b(?:photo\w*|image|picture|credit|getty|reuters|ap|afp|epa|shutterstock|alamy)\b|/",
                           re.IGNORECASE)
# "... after a hunter killed and ate a rabbitCredit: Getty - Contributor": a "Credit:" label glued to the caption
_GLUED_LABEL = re.compile(r"(?P<caption>.{8,600}?[a-z)\]])(?P<credit>(?:Credit|Photo|Picture|Image)s?:\s*[^.!?…]{2,80})")
_CREDIT_DOTS = re.compile(r"^(credit|photo|image)\s*(?:\.{2,}|…)\s*", re.IGNORECASE)


# Either form needs one of these: the caption's last character (`_GLUED`) or the label's colon
# (`_GLUED_LABEL`). Most lines that end without a full stop (headings, labels) hold none.
_GLUED_NEEDS = re.compile(r"[.!?”\"’:]")


def has_glued_credit(line: str) -> bool:
    """True for a caption sentence followed by a photo credit without brackets: '... in New York.Reuters'."""
    s = line.strip()
    if not s or s[-1] in '.!?…"”’' or _GLUED_NEEDS.search(s) is None:
        return False
    return _glued_credit_by_patterns(s)


def _glued_credit_by_patterns(s: str) -> bool:
    """has_glued_credit of a stripped line, by its patterns alone (the definition)."""
    if not s or s[-1] in '.!?…"”’' or _GLUED_MARKER.search(s, max(0, len(s) - 130)) is None:
        return False  # a credit ends the line, without a full stop, and names itself in the last 120 characters
    m = _GLUED.fullmatch(s) or _GLUED_LABEL.fullmatch(s)
    if m is None:
        return False
    credit = _CREDIT_DOTS.sub(r"\1: ", m.group("credit").strip())
    return _GLUED_MARKER.search(credit) is not None and is_credit(credit)


_CAMEL = re.compile(r"[a-z]+[A-Z]")  # '(ePA)', '(iOS)': a term, never an agency's credit


def has_trailing_credit(line: str) -> bool:
    """True for a caption that carries its own credit in brackets at the end: '... (AP Photo/Evan Vucci)'."""
    s = line.strip()
    if not s.endswith((")", "]", ").", "].")) or _TRAILING_CREDIT.fullmatch(s) is None:
        return False
    inner = s[max(s.rfind("("), s.rfind("[")) + 1:]
    return _CAMEL.match(inner) is None  # '(ePA)' is a term the sentence explains, not the agency EPA


_BYLINE_TAIL = re.compile(r"\s+(?:[|?•·/／]|on|at|[-–—])\s+", re.IGNORECASE)
_BYLINE_TAIL_TEXT = re.compile(r"\d|\bmore (?:by|from) (?:this )?(?:author|writer|reporter)\b|\b(?:updated|posted|published)\b",
                               re.IGNORECASE)


def byline_author(line: str) -> str | None:
    """The author named by a byline line ('By BARBARA VANCHERI' -> 'Barbara Vancheri'), else None."""
    s = line.strip(" .|-–—•")
    if len(s) > 160 or not _BY_WORD.match(s) and not _BYLINE_PREFIX.match(s):
        return None
    short = len(s.split()) <= 16
    m = _BYLINE.fullmatch(s) if short else None
    if m is None and short:
        dated = _TRAILING_DATE.search(s)  # "By Adrian Shaw 18/01/2008"
        if dated is not None and dated.start() > 0:
            m = _BYLINE.fullmatch(s[: dated.start()].rstrip(" ,|-–—"))
    if m is None:
        # "By Louis Jacobson on Monday, November 18th, 2019 at 11:04 a.m.", "By HNN Staff | November 18, 2019 ...",
        # "By John Leyden ? More by this author": the name, a separator, then a date or the author's links
        parts = _BYLINE_TAIL.split(s, maxsplit=1)
        if len(parts) == 2 and len(parts[0].split()) <= 8 and _BYLINE_TAIL_TEXT.search(parts[1]):
            m = _BYLINE.fullmatch(parts[0].rstrip(" ,"))
        if m is None:
            return None
    name = m.group("name").strip(" ,")
    if name.isupper():
        name = name.title()
    return name or None


def dateline_date(line: str) -> str | None:
    """The date text of a line that holds only a date/time and filler words ('Published: 10 January 2008 16:22 BST'),
    possibly beside a place name ('Tucson, Arizona | Published: 01.09.2008')."""
    if _DIGIT.search(line) is None:
        return None  # every date form has a digit
    parts = [p.strip() for p in line.split("|")]
    if len(parts) == 2:
        for date_part, place in (parts, parts[::-1]):
            if _PLACE.fullmatch(place) and (found := _date_only(date_part)):
                return found
    return _date_only(line)


_NUMBER_GLUE = re.compile(r"[-/.]\d")
_NUMBER_GLUE_BEFORE = re.compile(r"\d[-/.]$")


def _date_only(line: str) -> str | None:
    s = line.strip(" []()|-–—•:")
    if not s or len(s) > 120:
        return None
    if _DIGIT.search(s) is None:
        return None  # every date form has a digit: most short lines (headings, labels) stop here
    if _RELATIVE_DATE.match(s):
        return None  # "2 hours ago" carries no date to keep, but is still a dateline-like label
    m = _DATE.search(s)
    if m is None or _NUMBER_GLUE.match(s, m.end()) or (m.start() and _NUMBER_GLUE_BEFORE.search(s, 0, m.start())):
        return None  # part of a longer run of numbers: a bowling figure '10-4-22-0', a code, not a date
    rest = _DATE.sub(" ", s)
    rest = _TIME.sub(" ", rest)
    rest = _DATE_FILLER.sub(" ", rest)
    if len(_WORD.findall(rest)) > 1:
        return None
    return m.group(0)


def is_relative_dateline(line: str) -> bool:
    """True for '1 day ago', 'Posted 3 hours ago'."""
    return _RELATIVE_DATE.match(line.strip(" []()|-–—•:")) is not None
