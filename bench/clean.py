"""Cleaning per article on one core (issue: well under a millisecond for a typical ~600-word article).

    python bench/clean.py [RAW_DIR] [--repeat 3] [--json OUT]

Runs `cleaners.clean_article` (the built-in catalogue, no learned boilerplate) over every .txt article
under RAW_DIR (the project's raw/ by default; ../shared/eval/textpath/raw for real scraped news
here): line 1 the title, blocks split on blank lines, as ingest does. Reported: milliseconds per
article and microseconds per line, best of --repeat passes (a shared machine's noise only adds
time), with the articles' average words and lines, and the share of the time spent in the
pattern catalogue.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from timing import best_of, emit  # bench/timing.py (the scripts run as files)

from cleaners import clean_article
from cleaners.patterns import Matcher

ROOT = Path(__file__).resolve().parent.parent


def load(raw: Path) -> list[tuple[str, list[str]]]:
    docs = []
    for p in sorted(raw.rglob("*.txt")):
        title, _, body = p.read_text(encoding="utf-8", errors="replace").partition("\n")
        docs.append((title, [b for b in body.split("\n\n") if b.strip()]))
    return docs


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("raw", nargs="?", type=Path, default=ROOT / "raw")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    docs = load(args.raw)
    if not docs:
        raise SystemExit(f"no .txt articles under {args.raw}")
    n_lines = sum(len(b.split("\n")) for _, blocks in docs for b in blocks)
    n_words = sum(len(b.split()) for _, blocks in docs for b in blocks)

    def clean_all() -> None:
        for title, blocks in docs:
            clean_article(blocks, title=title)

    clean_all()  # warm up: the catalogue is compiled once per process
    seconds = best_of(clean_all, args.repeat)
    # the catalogue's share: the same passes with the matcher timed alone
    matching = 0.0
    original = Matcher.match_many

    def timed(self: Matcher, lines: Sequence[str]) -> Any:
        nonlocal matching
        t0 = time.perf_counter()
        try:
            return original(self, lines)
        finally:
            matching += time.perf_counter() - t0

    Matcher.match_many = timed  # type: ignore[method-assign]
    try:
        clean_all()
    finally:
        Matcher.match_many = original  # type: ignore[method-assign]
    res = {
        "articles": len(docs), "words_per_article": round(n_words / len(docs)),
        "lines_per_article": round(n_lines / len(docs), 1),
        "ms_per_article": round(seconds / len(docs) * 1e3, 3),
        "us_per_line": round(seconds / n_lines * 1e6, 2),
        "catalogue_share": round(matching / max(seconds, 1e-9), 2),
    }
    emit(res, args.json)
    return res


if __name__ == "__main__":
    main()
