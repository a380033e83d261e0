"""Article signatures per second on one core: newsclean's sketch vs datasketch's MinHash.update_batch.

    python bench/signatures.py [RAW_DIR] [--n 2000] [--json OUT]

Both start from an article's clean text (paragraphs separated by blank lines) and end with its
128-permutation MinHash signature over word 3-gram shingles:
  ours        normalise the article once, one compiled pass over its code points hashes every token,
              another builds each paragraph's shingle set, a third folds every shingle into the
              128 running minima (dedupe.corpus.Sketcher.sketch_text, dedupe/kernels.py)
  datasketch  the same tokens, shingles joined and encoded, MinHash(num_perm=128).update_batch with
              its default hash function (sha1), as a user would call it
and, on 200 articles, the two signatures are checked equal when datasketch is given our hash
function (dedupe.minhash.shingle_hash, pure Python).
Texts are the .txt files under RAW_DIR (the project's raw/ by default; ../shared/eval/textpath/raw
for real news text), cycled up to --n articles. The best of three passes is reported.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from timing import best_of, emit  # bench/timing.py (the scripts run as files)

ROOT = Path(__file__).resolve().parent.parent


def texts(raw: Path, n: int) -> list[str]:
    found = [p.read_text(encoding="utf-8", errors="replace").partition("\n")[2] for p in sorted(raw.rglob("*.txt"))]
    found = [t for t in found if t.strip()]
    if not found:
        raise SystemExit(f"no .txt articles under {raw}")
    return [found[i % len(found)] for i in range(n)]


def main() -> None:
    import datasketch

    from dedupe.corpus import CorpusParams, Sketcher
    from dedupe.minhash import shingle_hash, tokenize

    ap = argparse.ArgumentParser()
    ap.add_argument("raw", nargs="?", type=Path, default=ROOT / "raw")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--json")
    a = ap.parse_args()
    docs = [t.split("\n\n") for t in texts(a.raw, a.n)]
    params = CorpusParams()
    sketcher = Sketcher(params)
    k = params.shingle_words

    def ours() -> list[np.ndarray]:
        return [sketcher.sketch_text(paras).signature for paras in docs]

    def theirs(subset: list[list[str]] = docs, hashfunc=None) -> list[np.ndarray]:
        out = []
        for paras in subset:
            m = (datasketch.MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=hashfunc) if hashfunc
                 else datasketch.MinHash(num_perm=params.num_perm, seed=params.seed))
            shingles = set()
            for p in paras:
                toks = tokenize(p)
                if not toks:
                    continue
                span = min(k, len(toks))  # a paragraph shorter than k words is one shingle (dedupe.minhash.combine)
                shingles.update(" ".join(toks[i: i + span]).encode("utf-8") for i in range(len(toks) - span + 1))
            m.update_batch(list(shingles))
            out.append(m.hashvalues.astype(np.uint32))
        return out

    # identical values given the same hash function (ours, in pure Python: slow, so on 200 articles);
    # timed with datasketch's own default hash (sha1), the way a user would call it
    same = all((x == y).all() for x, y in zip(ours()[:200], theirs(docs[:200], shingle_hash), strict=True)
               if (y != 0xFFFFFFFF).any())
    t_ours, t_theirs = best_of(ours), best_of(theirs)
    words = sum(len(tokenize(" ".join(p))) for p in docs) / len(docs)
    res = {"articles": len(docs), "words_per_article": round(words), "identical_signatures": same,
           "ours_articles_per_s": round(len(docs) / t_ours), "datasketch_articles_per_s": round(len(docs) / t_theirs),
           "speedup": round(t_theirs / t_ours, 1)}
    emit(res, a.json)


if __name__ == "__main__":
    main()
