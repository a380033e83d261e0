"""Within-article paragraph collapse per article on one core (issue: well under a millisecond for a
40-paragraph article).

    python bench/collapse.py [RAW_DIR] [--paragraphs 40] [--dup-rate 0.1] [--json OUT]

Articles are built from the paragraphs of the .txt files under RAW_DIR (the project's raw/ by
default; ../shared/eval/textpath/raw for real news text), --paragraphs consecutive paragraphs each,
and every article gets about --dup-rate of its paragraphs again as near-copies (one word dropped)
at a later place, so the collapse has real work to do. Reported: microseconds per article for
`dedupe.paragraphs.collapse` (tokenise, hash, shingle, 64-permutation paragraph signatures, every
pair estimated, candidates verified on exact shingle sets, groups resolved), best of three, and
the number of copies it dropped (it should be close to the number planted).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from timing import best_of, emit  # bench/timing.py (the scripts run as files)

ROOT = Path(__file__).resolve().parent.parent


def articles(raw: Path, n_paras: int, dup_rate: float, seed: int = 7) -> tuple[list[list[str]], int]:
    paras = [q.strip() for p in sorted(raw.rglob("*.txt"))
             for q in p.read_text(encoding="utf-8", errors="replace").partition("\n")[2].split("\n\n") if q.strip()]
    if len(paras) < n_paras:
        paras = paras * (n_paras // max(len(paras), 1) + 1)
    rng = random.Random(seed)
    out, planted = [], 0
    for start in range(0, len(paras) - n_paras + 1, n_paras):
        art = paras[start: start + n_paras]
        for _ in range(round(n_paras * dup_rate)):
            src = rng.randrange(len(art))
            words = art[src].split()
            if len(words) < 12:
                continue
            del words[rng.randrange(len(words))]
            art.insert(rng.randrange(src + 1, len(art) + 1), " ".join(words))
            planted += 1
        out.append(art)
    return out, planted


def main() -> None:
    from dedupe.paragraphs import collapse

    ap = argparse.ArgumentParser()
    ap.add_argument("raw", nargs="?", type=Path, default=ROOT / "raw")
    ap.add_argument("--paragraphs", type=int, default=40)
    ap.add_argument("--dup-rate", type=float, default=0.1)
    ap.add_argument("--json")
    a = ap.parse_args()
    arts, planted = articles(a.raw, a.paragraphs, a.dup_rate)
    if not arts:
        raise SystemExit(f"no .txt articles under {a.raw}")
    collapse(arts[0])  # compile / warm up
    dropped = sum(len(r.dropped) for r in (collapse(p) for p in arts))
    best = best_of(lambda: [collapse(p) for p in arts])
    res = {"articles": len(arts), "paragraphs_per_article": round(sum(map(len, arts)) / len(arts), 1),
           "words_per_article": round(sum(len(" ".join(p).split()) for p in arts) / len(arts)),
           "planted_copies": planted, "dropped_copies": dropped,
           "us_per_article": round(best / len(arts) * 1e6, 1)}
    emit(res, a.json)


if __name__ == "__main__":
    main()
