"""The pattern catalogue: debris rules as data (TOML), compiled once into one combined regex per site.

A catalogue file holds `[[rule]]` entries (name, description, example, patterns, where, cut) and
per-site sections `[site."example.com"]` with `disable = [...]` and extra `[[site."example.com".rule]]`
entries. See cleaners/catalogue.toml for the format and the built-in rules.
"""

from __future__ import annotations

import bisect
import dataclasses
import importlib
import itertools
import logging
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import ahocorasick_rs
import regex

log = logging.getLogger(__name__)
# Time budget of one line against a site's combined *user* patterns. User rules run on the `regex`
# engine (not `re`) because it can stop a match after a timeout: a user's pattern with
# catastrophic backtracking costs at most this per line, never a hung run; the line is then
# judged unmatched (and a warning logged).
MATCH_TIMEOUT_S = 0.25

BUILTIN = Path(__file__).with_name("catalogue.toml")
WHERE = ("anywhere", "edge")
CUTS = ("", "rest", "box", "list")
MAX_PATTERN_CHARS = 2000


class CatalogueError(ValueError):
    """A rule file is malformed; the message says which file, rule and field to fix."""


@dataclass(frozen=True)
class Rule:
    """One named debris rule: full-line patterns plus where it applies and what it cuts."""

    name: str
    patterns: tuple[str, ...]
    description: str = ""
    example: str = ""
    where: str = "anywhere"
    cut: str = ""
    trusted: bool = False  # the built-in catalogue: matched with `re` (fast); user rules with `regex` + timeout


@dataclass(frozen=True, eq=False)  # hashed by identity: compiled matchers are cached per catalogue
class Catalogue:
    """Global rules plus per-site additions and disabled rule names."""

    rules: tuple[Rule, ...]
    site_rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    site_disable: dict[str, frozenset[str]] = field(default_factory=dict)

    def merged(self, other: Catalogue) -> Catalogue:
        sites = set(self.site_rules) | set(other.site_rules) | set(self.site_disable) | set(other.site_disable)
        return Catalogue(
            self.rules + other.rules,
            {s: self.site_rules.get(s, ()) + other.site_rules.get(s, ()) for s in sites},
            {s: self.site_disable.get(s, frozenset()) | other.site_disable.get(s, frozenset()) for s in sites},
        )

    def site_key(self, site: str | None) -> str | None:
        """The catalogue's site section for an article's site or domain (subdomains match), else None."""
        if not site:
            return None
        s = site.lower().strip()
        if s.startswith("www."):
            s = s[4:]
        sections = set(self.site_rules) | set(self.site_disable)
        while s:
            if s in sections:
                return s
            if "." not in s:
                return None
            s = s.split(".", 1)[1]
        return None


def _rule(raw: Any, where_from: str) -> Rule:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where_from}: each [[rule]] must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
        raise CatalogueError(f"{where_from}: rule name {name!r} must be lower_snake_case (letters, digits, _)")
    pats = raw.get("patterns")
    if isinstance(pats, str):
        pats = [pats]
    if not isinstance(pats, list) or not pats or not all(isinstance(p, str) and p for p in pats):
        raise CatalogueError(f"{where_from}: rule '{name}' needs a non-empty list of string `patterns`")
    for p in pats:
        if len(p) > MAX_PATTERN_CHARS:
            raise CatalogueError(f"{where_from}: rule '{name}': pattern longer than {MAX_PATTERN_CHARS} characters")
        try:
            compiled = _regex_compiled(p)
        except regex.error as exc:
            raise CatalogueError(f"{where_from}: rule '{name}': invalid pattern {p!r}: {exc}") from None
        if compiled.groups:
            raise CatalogueError(f"{where_from}: rule '{name}': use non-capturing groups (?:...) in {p!r}")
    where = raw.get("where", "anywhere")
    cut = raw.get("cut", "")
    if where not in WHERE:
        raise CatalogueError(f"{where_from}: rule '{name}': where must be one of {WHERE}, not {where!r}")
    if cut not in CUTS:
        raise CatalogueError(f"{where_from}: rule '{name}': cut must be one of {CUTS}, not {cut!r}")
    return Rule(name, tuple(pats), str(raw.get("description", "")), str(raw.get("example", "")), where, cut)


def parse_catalogue(data: dict[str, Any], source: str = "<catalogue>") -> Catalogue:
    """Build a Catalogue from parsed TOML; raise CatalogueError naming what to fix."""
    unknown = set(data) - {"rule", "site"}
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level keys {sorted(unknown)} (expected [[rule]] and [site.\"...\"])")
    rules = tuple(_rule(r, f"{source} [[rule]] #{i + 1}") for i, r in enumerate(data.get("rule", [])))
    site_rules: dict[str, tuple[Rule, ...]] = {}
    site_disable: dict[str, frozenset[str]] = {}
    sites = data.get("site", {})
    if not isinstance(sites, dict):
        raise CatalogueError(f"{source}: [site] must be a table of site sections")
    for site, sec in sites.items():
        key = site.lower().removeprefix("www.")
        if not isinstance(sec, dict):
            raise CatalogueError(f"{source}: [site.\"{site}\"] must be a table")
        dis = sec.get("disable", [])
        if not isinstance(dis, list) or not all(isinstance(x, str) for x in dis):
            raise CatalogueError(f"{source}: [site.\"{site}\"] disable must be a list of rule names")
        site_disable[key] = frozenset(dis)
        site_rules[key] = tuple(_rule(r, f"{source} [site.\"{site}\"] rule #{i + 1}")
                                for i, r in enumerate(sec.get("rule", [])))
    return Catalogue(rules, site_rules, site_disable)


def load_catalogue(path: str | Path) -> Catalogue:
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise CatalogueError(f"cannot read rule file {p}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"rule file {p} is not valid TOML: {exc}") from None
    return parse_catalogue(data, str(p))


@lru_cache(maxsize=1)
def builtin_catalogue() -> Catalogue:
    cat = load_catalogue(BUILTIN)
    return Catalogue(tuple(dataclasses.replace(r, trusted=True) for r in cat.rules), cat.site_rules, cat.site_disable)


@lru_cache(maxsize=32)
def catalogue_with(extra_files: tuple[str, ...] = ()) -> Catalogue:
    """The built-in catalogue plus user rule files, in order."""
    cat = builtin_catalogue()
    for f in extra_files:
        cat = cat.merged(load_catalogue(f))
    return cat


# Decorations stripped before matching: bullets, arrows, pipes and brackets around a label.
_EDGE_PUNCT = " \t•·*▪►▶◦‣∙|»›>«‹<[](){}-–—_=~:#"
_SURROGATE = re.compile("[\ud800-\udfff]")  # replaced by U+FFFD (one code point: the same offsets)


def match_key(line: str) -> str:
    """The text a pattern sees: decorations around the line and a final full stop stripped (case is
    ignored by the regex)."""
    return line.strip(_EDGE_PUNCT).rstrip(".!").strip(_EDGE_PUNCT)


def _parse(pattern: str, flags: int = 0) -> tuple[Any, Any] | None:
    """(the regex constants module, the parsed pattern: a sequence of items with `getwidth()`) from the
    standard library's regex parser, or None when it is unavailable (a private module: never let it
    break matching) or fails."""
    try:
        return importlib.import_module("re._constants"), importlib.import_module("re._parser").parse(pattern, flags)
    except Exception:
        return None


def _needles(pattern: str) -> frozenset[str] | None:
    """For a pattern that starts with a floating run ('.{0,120}', '[\\w ]{1,80}') or a few words
    ('(?:[\\w'-]+ ){0,3}', after any lookahead): literals of which any matching line contains at least
    one (lower-cased), else None (no such prefilter, or another shape).

    A floating start makes `re` retry the rest of the pattern at every offset of every line; a
    substring test in C rules out almost all lines first. Uses the standard library's regex parser;
    when it is unavailable or the pattern is beyond this analysis, the pattern simply has no prefilter.
    """
    parsed = _parse(pattern)
    if parsed is None:
        return None
    c, items = parsed
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)
    letters = {c.CATEGORY_WORD, c.CATEGORY_NOT_DIGIT, c.CATEGORY_NOT_SPACE}  # classes that take letters

    def broad_run(item: Any) -> bool:
        """'.{0,120}', '[\\w ]{1,80}', '[\\w'-]+': a long repeat of any character or of a class that takes
        letters ('\\d+' fails at once on most lines)."""
        op, av = item
        if op not in repeats or av[1] < 20 or len(av[2]) != 1:
            return False
        (el_op, el_av), = av[2]
        return el_op is c.ANY or el_op is c.IN and any(o is c.CATEGORY and a in letters for o, a in el_av)

    lead = next((it for it in items if it[0] not in (c.ASSERT, c.ASSERT_NOT, c.AT)), None)
    if lead is None:
        return None
    # a floating run, or a few words of one ('(?:[\\w.'’-]+ ){0,3}reporter'); anything else ('\\d{1,2}',
    # '(?:«|<)+') fails at once on most lines, no need for a prefilter
    if not (broad_run(lead) or lead[0] in repeats and lead[1][2] and broad_run(list(lead[1][2])[0])):
        return None

    def of_seq(seq: Any) -> frozenset[str] | None:
        best: frozenset[str] | None = None
        run = ""

        def score(found: frozenset[str]) -> tuple[int, int]:
            return min(map(len, found)), -len(found)  # longer literals, then fewer of them: more selective

        def consider(found: frozenset[str] | None) -> None:
            nonlocal best
            if found and all(found) and (best is None or score(found) > score(best)):
                best = found

        for op, av in seq:
            if op is c.LITERAL:
                run += chr(av)
                continue
            consider(frozenset({run.lower()}) if run else None)
            run = ""
            if op is c.SUBPATTERN:
                consider(of_seq(av[3]))
            elif op is c.BRANCH:
                alts = [of_seq(a) for a in av[1]]
                consider(frozenset().union(*alts) if alts and all(alts) else None)  # type: ignore[arg-type]
            elif op in repeats and av[0] >= 1:
                consider(of_seq(av[2]))
        consider(frozenset({run.lower()}) if run else None)
        return best

    return of_seq(items)


_ASCII = [chr(x) for x in range(128)]


def _first_chars(pattern: str) -> frozenset[str] | None:
    """The ASCII characters (lower-cased) a match of `pattern` can start with, or None when that is
    not simply known (a start that takes any character, a negated set, a back-reference).

    Optional leading items ('(?:\\d+ )?comments', '(?:please )?log in') add their first characters to
    those of what follows; zero-width items (lookaheads, '\\b') are passed over. A first literal
    outside ASCII is in the set as itself (case-folded); a class or range that also takes characters
    outside ASCII ('\\w', '[à-ü]') adds NON_ASCII_CLASS, which no character equals: the matcher
    asks these sets about a line's ASCII prefix, and for a line that starts outside ASCII only
    whether a pattern can start with some character outside ASCII (`Matcher._for_non_ascii`)."""
    parsed = _parse(pattern, re.IGNORECASE)
    if parsed is None:
        return None
    c, items = parsed
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
    zero_width = {c.AT, c.ASSERT, c.ASSERT_NOT}

    def of_set(av: Any) -> set[str] | None:  # an IN item: [...] with literals, ranges, \d \w \s
        out: set[str] = set()
        for o, a in av:
            if o is c.LITERAL:
                out.add(chr(a).casefold())
            elif o is c.RANGE and a[1] - a[0] <= 0x10000:  # every member that folds to ASCII
                folded = (chr(x).casefold() for x in range(a[0], a[1] + 1))
                out.update(f for f in folded if len(f) == 1 and f.isascii())
                out.update(ch.lower() for ch in _ASCII if a[0] <= ord(ch.swapcase()) <= a[1])
                if a[1] >= 0x80:
                    out.add(NON_ASCII_CLASS)
            elif o is c.CATEGORY:
                rx = re.compile(_CATEGORY_ESCAPES.get(str(a), "(?!)"))
                out.update(ch.lower() for ch in _ASCII if rx.fullmatch(ch))
                out.add(NON_ASCII_CLASS)  # every category (\d, \s, \w and their negations) has members beyond ASCII
            else:  # a negated set and anything else: not simply known
                return None
        return out

    def seq_first(seq: Any) -> tuple[set[str] | None, bool]:
        """(first characters, whether the sequence can match the empty string)."""
        out: set[str] = set()
        for op, av in seq:
            if op in zero_width:
                continue
            if op is c.LITERAL:
                out.add(chr(av).casefold())
                return out, False
            if op is c.IN:
                found = of_set(av)
                if found is None:
                    return None, False
                out |= found
                return out, False
            if op is c.SUBPATTERN:
                found, nullable = seq_first(av[3])
            elif op is c.BRANCH:
                alts = [seq_first(alt) for alt in av[1]]
                sets = [f for f, _ in alts if f is not None]
                if len(sets) < len(alts):
                    return None, False
                found = set().union(*sets)
                nullable = any(n for _, n in alts)
            elif op in repeats:
                found, nullable = seq_first(av[2])
                nullable = nullable or av[0] == 0
            else:  # any character, a back-reference, ...
                return None, False
            if found is None:
                return None, False
            out |= found
            if not nullable:
                return out, False
        return out, True

    found, _ = seq_first(items)
    # a case-folded character can stand for several (IGNORECASE matches 'K' and the Kelvin sign):
    # keep only single characters, else give up
    return frozenset(found) if found is not None and all(len(ch) == 1 or ch == NON_ASCII_CLASS for ch in found) else None


# In a `_first_chars` set: the pattern can start with a class or range that takes characters outside ASCII.
NON_ASCII_CLASS = "<non-ASCII class>"


@cache
def _matches_ascii(ch: str) -> bool:
    """Whether `re`, ignoring case, takes the character for an ASCII one: the Kelvin sign for 'k',
    the long s for 's', 'İ' and 'ı' for 'i'."""
    return any(re.fullmatch(re.escape(a), ch, re.IGNORECASE) for a in _ASCII)


# The regex parser's category names and the escapes that stand for them.
_CATEGORY_ESCAPES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
                     "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def _alternation_of(patterns: Sequence[tuple[int, str]]) -> str:
    """One alternation of (rule index, pattern) pairs: a named group per rule ('r<index>'), rules in
    catalogue order, so the first group that matches names the first matching rule."""
    by_rule: dict[int, list[str]] = {}
    for i, p in patterns:
        by_rule.setdefault(i, []).append(p)
    return "|".join(f"(?P<r{i}>{'|'.join(f'(?:{p})' for p in pats)})" for i, pats in sorted(by_rule.items()))


# A line's first characters pick the patterns tried on it (`Matcher._for_prefix`): 'The council said'
# tries only the few that can start with 'The'. At most PREFIX_CACHE prefixes are remembered.
PREFIX_CHARS = 3
PREFIX_CACHE = 1 << 16
# A cut of several patterns is compiled as one alternation once this many lines have tried it
# (`Matcher._for_prefix`); until then its patterns are tried one at a time.
COMPILE_AFTER = 1000
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def _max_width(pattern: str) -> int:
    """The most characters `pattern` can match (sys.maxsize when unbounded or not known: `_parse`)."""
    parsed = _parse(pattern, re.IGNORECASE)
    return sys.maxsize if parsed is None else min(int(parsed[1].getwidth()[1]), sys.maxsize)


class Matcher:
    """All rules that apply to one site, compiled into one alternation per engine (one pass per line).

    User rules come first and run on the `regex` engine with a time budget per line; the built-in
    catalogue runs on `re`, twice as fast, since its patterns are known to be safe, and a line tries
    only the built-in patterns that can start with its first three characters (`_for_prefix`).
    Built-in patterns that start with a floating run are kept out of the alternation and tried only
    on lines that contain one of their literals (`_needles`, all searched at once by an Aho-Corasick
    automaton): the first matching rule in catalogue order still wins.
    """

    def __init__(self, rules: Sequence[Rule], compile_after: int = COMPILE_AFTER) -> None:
        user = [r for r in rules if not r.trusted]
        builtin = [r for r in rules if r.trusted]
        self.rules = tuple(user + builtin)
        self.n_user = len(user)
        self.user_regex = regex.compile(self._alternation(user, 0), regex.IGNORECASE | regex.VERSION0) if user else None
        rest: list[tuple[int, str]] = []  # (rule index, pattern) of the built-in patterns in the alternation
        self.floating: list[tuple[int, frozenset[str], re.Pattern[str], int]] = []
        for i, r in enumerate(builtin, start=len(user)):
            for p in r.patterns:
                needles = _needles(p)
                if needles:
                    self.floating.append((i, needles, re.compile(p, re.IGNORECASE), _max_width(p)))
                else:
                    rest.append((i, p))
        # the alternation cut by a line's first characters (`_for_prefix`): only the patterns that can
        # start with them are tried, compiled when a prefix is first seen
        self._rest = rest
        self._starts = [_first_chars(p) for _, p in rest]
        self._partial = [None if _LOOKAROUND.search(p) else p for _, p in rest]
        self._by_prefix: dict[str, tuple[re.Pattern[str], ...]] = {}
        self._members_of: dict[str, tuple[int, ...]] = {}  # lower-cased prefix -> positions in self._rest
        self._by_members: dict[tuple[int, ...], tuple[re.Pattern[str], ...]] = {}
        self._single: dict[int, re.Pattern[str]] = {}  # position in self._rest -> that pattern alone
        self.compile_after = compile_after
        # a cut not compiled yet: [lines that tried it, its patterns compiled alone]
        self._pending: dict[tuple[int, ...], list[Any]] = {}
        # the patterns that can start with a character outside ASCII (`_for_non_ascii`)
        self._non_ascii_members = tuple(k for k, f in enumerate(self._starts)
                                        if f is None or any(ch == NON_ASCII_CLASS or not ch.isascii() for ch in f))
        # one search for any floating pattern's literal over all the lines of an article
        # (`match_many`): most lines hold none and skip them all; a line that holds some tries only
        # the patterns owning them (`owners`: literal index -> positions in self.floating) that can
        # match that many characters
        literals = sorted({n for _, ns, _, _ in self.floating for n in ns})
        owners = [tuple(j for j, (_, ns, _, _) in enumerate(self.floating) if lit in ns) for lit in literals]
        self.needles: tuple[ahocorasick_rs.AhoCorasick, list[tuple[int, ...]]] | None = (
            (ahocorasick_rs.AhoCorasick(literals), owners) if literals else None)

    @cached_property
    def builtin_regex(self) -> tuple[re.Pattern[str], ...]:
        """The whole built-in alternation, for the rare lines whose first character `re` takes for an
        ASCII one (`_for_non_ascii`): compiled when the first such line comes (0.1 s), not with every
        Matcher."""
        rx = self._grouped(self._rest)
        return (rx,) if rx is not None else ()

    def _members(self, prefix: str) -> tuple[int, ...]:
        """The built-in patterns (positions in self._rest, in catalogue order) that a line starting with
        the lower-cased ASCII `prefix` can match: those that can start with its first character
        (`_first_chars`) and whose match can begin with the whole prefix (the `regex` engine's partial
        matching; a pattern with a lookaround is always kept). Case does not matter: the patterns
        ignore case, and on ASCII letters that is symmetric. Each prefix is tried only on the patterns
        its own prefix one character shorter kept, so a new prefix costs a few partial matches."""
        got = self._members_of.get(prefix)
        if got is None:
            if len(prefix) == 1:
                candidates: Sequence[int] = [k for k, f in enumerate(self._starts) if f is None or prefix in f]
            else:
                candidates = self._members(prefix[:-1])
            got = tuple(k for k in candidates if _can_start(self._partial[k], prefix))
            self._members_of[prefix] = got
        return got

    def _for_prefix(self, prefix: str) -> tuple[re.Pattern[str], ...]:
        """The compiled patterns a line starting with `prefix` (ASCII) tries, in order (`_members`,
        `_cut`); remembered for the prefix once its cut is compiled."""
        found, final = self._cut(self._members(prefix.lower()))
        if final and len(self._by_prefix) < PREFIX_CACHE:
            self._by_prefix[prefix] = found
        return found

    def _for_non_ascii(self, first: str) -> tuple[re.Pattern[str], ...]:
        """The compiled patterns a line whose first character is outside ASCII tries: those that can
        start with such a character (`_first_chars`: a literal outside ASCII, or a class that takes
        one; 17 of the 228 built-in patterns), not the whole alternation (24 µs a line, and 0.1 s to
        compile it). A character that `re` takes for an ASCII one when ignoring case (the Kelvin
        sign for 'k') still tries the whole alternation."""
        return self.builtin_regex if _matches_ascii(first) else self._cut(self._non_ascii_members)[0]

    def _cut(self, members: tuple[int, ...]) -> tuple[tuple[re.Pattern[str], ...], bool]:
        """The compiled patterns at `members` (positions in self._rest, in order), and whether that is
        final (the alternation compiled, or a single pattern).

        A cut of several patterns is tried a pattern at a time (each compiled alone, once per process)
        until `compile_after` lines (COMPILE_AFTER) have used it; then it is compiled as one
        alternation, shared by the prefixes with the same patterns. Compiling an alternation costs
        as much as matching it on a thousand lines or more, and most prefixes are rare ('Zim',
        'Kaz'): compiling every cut at once cost a worker about a second of its run, a small run
        most of it."""
        found = self._by_members.get(members)
        if found is not None:
            return found, True
        pending = self._pending.get(members)
        if pending is None:
            pending = self._pending[members] = [0, tuple(self._single_pattern(k) for k in members)]
        pending[0] += 1
        if len(members) > 1 and pending[0] < self.compile_after:
            return pending[1], False  # not final: the next line is counted too
        found = (self._compiled([self._rest[k] for k in members]),) if len(members) > 1 else pending[1]
        self._by_members[members] = found
        del self._pending[members]
        return found, True

    def _single_pattern(self, k: int) -> re.Pattern[str]:
        """The built-in pattern at position k of self._rest compiled alone (named group as in the
        alternation), once per Matcher."""
        rx = self._single.get(k)
        if rx is None:
            rx = self._single[k] = self._compiled([self._rest[k]])
        return rx

    @staticmethod
    def _compiled(patterns: Sequence[tuple[int, str]]) -> re.Pattern[str]:
        """One compiled alternation of (rule index, pattern) pairs (`_alternation_of`)."""
        return re.compile(_alternation_of(patterns), re.IGNORECASE)

    @classmethod
    def _grouped(cls, patterns: Sequence[tuple[int, str]]) -> re.Pattern[str] | None:
        """`_compiled`, None when there are no patterns."""
        return cls._compiled(patterns) if patterns else None

    @staticmethod
    def _alternation(rules: Sequence[Rule], offset: int) -> str:
        return _alternation_of([(offset + i, p) for i, r in enumerate(rules) for p in r.patterns])

    def match(self, line: str) -> Rule | None:
        """The first rule whose pattern matches the whole (decoration-stripped) line, else None."""
        return self.match_many((line,))[0]

    def match_many(self, lines: Sequence[str]) -> list[Rule | None]:
        """`match` of each line, in order: the same rules, with the floating patterns' literals
        searched once over all the lines (one automaton call an article instead of one a line)."""
        keys = [match_key(line) for line in lines]
        found = [self._cut_match(key) if key else len(self.rules) for key in keys]
        first = self.floating[0][0] if self.floating else len(self.rules)
        todo = [k for k, (key, f) in enumerate(zip(keys, found, strict=True)) if key and f > first]
        if todo and self.needles is not None:
            automaton, owners = self.needles
            lowered = [keys[k].lower() for k in todo]
            starts = list(itertools.accumulate((len(s) + 1 for s in lowered[:-1]), initial=0))
            # one search over the lines joined by line breaks; a hit across two lines (a literal
            # holding a line break) would only add a candidate that its full match then rejects
            candidates: dict[int, set[int]] = {}
            joined = "\n".join(lowered)
            try:
                hits = automaton.find_matches_as_indexes(joined, overlapping=True)
            except UnicodeEncodeError:  # a lone surrogate (a str can hold one, UTF-8 input cannot): searched
                hits = automaton.find_matches_as_indexes(_SURROGATE.sub("\ufffd", joined), overlapping=True)
            for lit, start, _ in hits:
                candidates.setdefault(bisect.bisect_right(starts, start) - 1, set()).update(owners[lit])
            for pos, js in candidates.items():
                k = todo[pos]
                found[k] = self._floating_match(keys[k], found[k], js)
        return [self.rules[f] if f < len(self.rules) else None for f in found]

    def _floating_match(self, key: str, found: int, candidates: set[int]) -> int:
        """The first floating pattern among `candidates` (positions in self.floating, from the line's
        literals) that matches the whole key, if its rule comes before rule `found`; else `found`."""
        for j in sorted(candidates):
            i, _, rx, width = self.floating[j]
            if i >= found:
                break
            if width >= len(key) and rx.fullmatch(key):
                return i
        return found

    def _cut_match(self, key: str) -> int:
        """The index of the first rule that a user pattern or a built-in pattern of the key's cut of
        the alternation (not the floating patterns) matches on the whole key; len(self.rules) if none."""
        m = None
        if self.user_regex is not None:
            try:
                m = self.user_regex.fullmatch(key, timeout=MATCH_TIMEOUT_S)
            except TimeoutError:
                log.warning("user debris patterns timed out on a line of %d characters; line kept", len(key))
        if m is not None and m.lastgroup is not None:
            return int(m.lastgroup[1:])
        # an ASCII first character picks its cut of the alternation by the line's first characters;
        # any other, the patterns that can start outside ASCII
        if key[0].isascii():
            prefix = key[:PREFIX_CHARS] if key[:PREFIX_CHARS].isascii() else key[0]
            cut = self._by_prefix[prefix] if prefix in self._by_prefix else self._for_prefix(prefix)
        else:
            cut = self._for_non_ascii(key[0])
        for rx in cut:  # in catalogue order: the first that matches names the first matching rule
            m = rx.fullmatch(key)
            if m is not None and m.lastgroup is not None:
                return int(m.lastgroup[1:])
        return len(self.rules)


@cache
def _regex_compiled(pattern: str) -> regex.Pattern[str]:
    """`pattern` compiled by the `regex` engine, ignoring case, once per process: the catalogue's
    validation (`_rule`) and partial matching (`Matcher._members`) share it (compiling the built-in
    patterns twice cost every worker process 0.15-0.25 s more at its start)."""
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def _partial_regex(pattern: str) -> regex.Pattern[str] | None:
    """A built-in pattern compiled for partial matching (`Matcher._members`); None when the `regex`
    engine cannot read it (then it is simply always tried)."""
    try:
        return _regex_compiled(pattern)
    except regex.error:
        return None


def _can_start(pattern: str | None, prefix: str) -> bool:
    """Whether a match of `pattern` can begin with `prefix` (True when that is not known)."""
    rx = _partial_regex(pattern) if pattern is not None else None
    return rx is None or rx.fullmatch(prefix, partial=True) is not None


@lru_cache(maxsize=512)
def _matcher(cat: Catalogue, site_key: str | None) -> Matcher:
    disabled = cat.site_disable.get(site_key, frozenset()) if site_key else frozenset()
    extra = cat.site_rules.get(site_key, ()) if site_key else ()
    return Matcher([r for r in (*extra, *cat.rules) if r.name not in disabled])


def matcher_for(site: str | None, cat: Catalogue | None = None) -> Matcher:
    """The compiled Matcher for an article's site (cached per catalogue and site section)."""
    cat = cat or builtin_catalogue()
    return _matcher(cat, cat.site_key(site))
