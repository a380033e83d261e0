"""The two references a benchmark run measures beside newsclean, on the same files.

* `straightforward`: what a user would write with the same libraries: read and parse each file,
  clean with a Python loop over a list of regexes, datasketch `MinHash.update_batch` per article,
  datasketch `MinHashLSH` insert and query, one pyarrow write at the end.
* `floor`: read the same bytes and tokenise them, nothing else.
* `trafilatura`: for HTML pages, trafilatura's own extraction with newsclean's options, one process.

Run as `python bench/reference.py {straightforward|floor|trafilatura} RAW_DIR OUT_DIR`; prints JSON.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

DEBRIS = [re.compile(p, re.I) for p in (
    r"^loading\.*$", r"^read more\b.*", r"^advertisement$", r"^share this\b.*", r"^sign up\b.*newsletter.*",
    r"^©.*", r".*all rights reserved.*", r"^route \d+$", r"^related\b.*", r"^click here\b.*", r"^follow us\b.*",
    r"^comments?$", r"^leave a reply$", r"^\(reporting by .*\)$", r"^watch:.*", r"^photo:.*", r"^reuters$",
    r"^subscribe\b.*", r"^cookie.*", r"^\d+ comments?$",
)]
WORD = re.compile(r"\w+")


def records(raw: Path):
    for p in sorted(raw.rglob("*")):
        if p.suffix == ".jsonl":
            with open(p, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        r = json.loads(line)
                        yield r.get("title", ""), r.get("text", "")
        elif p.suffix == ".txt":
            t = p.read_text(encoding="utf-8")
            title, _, body = t.partition("\n")
            yield title, body


def straightforward(raw: Path, out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    rows = {"title": [], "text": [], "duplicate_of": []}
    n = 0
    for title, body in records(raw):
        paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        kept = []
        for p in paras:
            if any(rx.match(p) for rx in DEBRIS):
                continue
            if p not in kept:
                kept.append(p)
        text = "\n\n".join(kept)
        toks = WORD.findall(text.lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(toks[i:i + 3]).encode() for i in range(max(1, len(toks) - 2))])
        hits = lsh.query(m)
        key = f"a{n}"
        lsh.insert(key, m)
        rows["title"].append(title)
        rows["text"].append(text)
        rows["duplicate_of"].append(min(hits) if hits else None)
        n += 1
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows), out / "straightforward.parquet")
    return {"articles": n}


def floor(raw: Path, out: Path) -> dict:
    n_tok = 0
    for p in sorted(raw.rglob("*")):
        if p.is_file():
            n_tok += len(WORD.findall(p.read_bytes().decode("utf-8", "replace")))
    return {"tokens": n_tok}


def trafilatura_alone(raw: Path, out: Path) -> dict:
    """trafilatura's own extraction of every page (.html / .html.gz), with the options newsclean uses,
    one process: the baseline of newsclean's HTML overhead."""
    import gzip

    import trafilatura

    n = chars = 0
    extract = 0.0  # seconds inside trafilatura's extraction, as newsclean's manifest `html_extract`
    for p in sorted(raw.rglob("*")):
        if not p.is_file() or not p.name.endswith((".html", ".htm", ".html.gz", ".htm.gz")):
            continue
        data = p.read_bytes()
        html = (gzip.decompress(data) if p.suffix == ".gz" else data).decode("utf-8", "replace")
        t0 = time.perf_counter()
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=True,
                                          favor_precision=True, deduplicate=False)
        extract += time.perf_counter() - t0
        n += 1
        chars += len(getattr(doc, "text", None) or "")
    return {"pages": n, "chars": chars, "extract_seconds": extract}


def main() -> None:
    kind, raw, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    t0 = time.perf_counter()
    info = {"straightforward": straightforward, "floor": floor, "trafilatura": trafilatura_alone}[kind](raw, out)
    info["seconds"] = time.perf_counter() - t0
    print(json.dumps(info))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
