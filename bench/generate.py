"""Deterministic benchmark corpus: real article text scaled to any N, with debris and duplicates.

    python bench/generate.py N OUT_DIR [--source DIR] [--seed S] [--txt-share 0.2] [--prefix P]

Paragraphs are resampled from the .txt articles under --source (the project's raw/ by default;
../shared/eval/textpath/raw gives real news text), nothing is copied into the repository. Every
article gets ~600 words of body paragraphs with light word edits, and, at these documented rates:

    each article        a lazy-load placeholder ("Loading...")            50 %
                        a "READ MORE: <headline>" teaser                  40 %
                        a share bar and a newsletter plug                 30 %
                        an "Advertisement" label inside the body          30 %
                        a photo caption with its credit, printed twice    20 %
                        a site footer line (recurs across the site)      100 %
    near-duplicates     a brief / abridged / updated copy of an earlier   10 % of articles
                        article (one third each), under another site

Output: `N * (1 - txt_share)` records in JSONL shards of 10,000 lines (`feeds/feed-0000.jsonl`),
the rest as .txt files in folders of 1,000 (`txt/0000/000000.txt`). Same N, source and seed give
the same bytes. `--prefix` names another batch of the same stream (a later day's scrape): its file
names, ids and URLs carry the prefix, so nothing in it is an exact copy of the first batch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from pathlib import Path

SITES = [f"site{i:02d}.example" for i in range(40)]
WORD = re.compile(r"\S+")


def load_pool(source: Path) -> tuple[list[str], list[str]]:
    """Body-like paragraphs (>= 12 words, sentence-like) and titles from the source articles."""
    paras: list[str] = []
    titles: list[str] = []
    for p in sorted(source.rglob("*.txt")):
        text = p.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        if lines and lines[0].strip():
            titles.append(lines[0].strip())
        for block in re.split(r"\n\s*\n", "\n".join(lines[1:])):
            b = " ".join(block.split())
            if len(b.split()) >= 12 and b[-1:] in ".!?\"”'":
                paras.append(b)
    if not paras:
        raise SystemExit(f"no body-like paragraphs found under {source}")
    return paras, titles or ["Untitled"]


def edit(p: str, rnd: random.Random) -> str:
    """A light word edit: drop, repeat or swap one word (half of the paragraphs)."""
    if rnd.random() < 0.5:
        return p
    w = p.split()
    i = rnd.randrange(len(w))
    op = rnd.random()
    if op < 0.4 and len(w) > 3:
        del w[i]
    elif op < 0.7:
        w.insert(i, w[i])
    elif i + 1 < len(w):
        w[i], w[i + 1] = w[i + 1], w[i]
    return " ".join(w)


def article(i: int, paras: list[str], titles: list[str], seed: int, prefix: str = "") -> dict:
    rnd = random.Random(seed * 1_000_003 + i)
    site = SITES[rnd.randrange(len(SITES))]
    body: list[str] = []
    words = 0
    while words < 600:
        p = edit(paras[rnd.randrange(len(paras))], rnd)
        body.append(p)
        words += len(p.split())
    title = titles[rnd.randrange(len(titles))]
    blocks = list(body)
    if rnd.random() < 0.2:
        cap = paras[rnd.randrange(len(paras))]
        blocks.insert(1, cap + "\nReuters")
        blocks.insert(min(len(blocks), 4), cap)
    if rnd.random() < 0.5:
        blocks.insert(rnd.randrange(1, len(blocks)), "Loading...")
    if rnd.random() < 0.3:
        blocks.insert(rnd.randrange(1, len(blocks)), "Advertisement")
    if rnd.random() < 0.4:
        blocks.append("READ MORE: " + titles[rnd.randrange(len(titles))])
    if rnd.random() < 0.3:
        blocks.append("Share this article | Facebook | Twitter | Email")
        blocks.append("Sign up to our newsletter for the latest headlines delivered to your inbox.")
    blocks.append(f"© 2024 {site}. All rights reserved.")
    return {"id": f"{prefix}a{i:07d}", "url": f"https://{site}/news/{prefix}{i:07d}", "title": title,
            "text": "\n\n".join(blocks),
            "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", "source": site}


def near_copy(rec: dict, j: int, rnd: random.Random, prefix: str = "") -> dict:
    paras = [p for p in rec["text"].split("\n\n") if len(p.split()) >= 12]
    kind = rnd.choice(["brief", "abridged", "updated"])
    if kind == "brief":
        paras = paras[:3]
    elif kind == "abridged":
        paras = [p for k, p in enumerate(paras) if k % 3 != 1]
    else:
        paras = [edit(p, rnd) for p in paras] + ["Updated at noon with comments from officials."]
    site = SITES[(SITES.index(rec["source"]) + 1) % len(SITES)]
    return {**rec, "id": f"{prefix}c{j:07d}", "url": f"https://{site}/story/{prefix}{j:07d}",
            "text": "\n\n".join(paras),
            "source": site, "copy_of": rec["id"], "copy_kind": kind}


def generate(n: int, out: Path, source: Path, seed: int = 1, txt_share: float = 0.2, prefix: str = "") -> dict:
    paras, titles = load_pool(source)
    out.mkdir(parents=True, exist_ok=True)
    n_txt = int(n * txt_share)
    rnd = random.Random(seed)
    recent: list[dict] = []
    shard = None
    shard_idx = -1
    total_bytes = 0
    for i in range(n):
        if recent and rnd.random() < 0.10:
            rec = near_copy(recent[rnd.randrange(len(recent))], i, rnd, prefix)
        else:
            rec = article(i, paras, titles, seed, prefix)
            recent.append(rec)
            if len(recent) > 2000:
                recent.pop(rnd.randrange(len(recent)))
        if i < n - n_txt:
            if i // 10_000 != shard_idx:
                if shard:
                    shard.close()
                shard_idx = i // 10_000
                (out / "feeds").mkdir(exist_ok=True)
                shard = open(out / "feeds" / f"{prefix}feed-{shard_idx:04d}.jsonl", "w", encoding="utf-8")  # noqa: SIM115 (closed on rollover)
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            shard.write(line)
            total_bytes += len(line.encode())
        else:
            d = out / "txt" / f"{prefix}{i // 1000:04d}"
            d.mkdir(parents=True, exist_ok=True)
            data = rec["title"] + "\n\n" + rec["text"] + "\n"
            (d / f"{i:07d}.txt").write_text(data, encoding="utf-8")
            total_bytes += len(data.encode())
    if shard:
        shard.close()
    return {"n": n, "bytes": total_bytes, "txt": n_txt, "jsonl": n - n_txt}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent / "raw")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--txt-share", type=float, default=0.2)
    ap.add_argument("--prefix", default="", help="names another batch of the stream (file names, ids, URLs)")
    a = ap.parse_args()
    info = generate(a.n, a.out, a.source, a.seed, a.txt_share, a.prefix)
    print(json.dumps(info))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
