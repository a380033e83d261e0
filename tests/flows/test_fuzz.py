"""Fuzz: random, truncated and mutated inputs in every format never crash a run, and every input
record lands in exactly one of articles, duplicates, rejects.

Bounded for CI (FUZZ_EXAMPLES, default 200 runs of the whole pipeline); `python bench/fuzz.py`
runs the same property for longer.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.pipeline import run_pipeline
from tests.conftest import RAW
from tests.helpers import rows

SAMPLES = {p.name: p.read_bytes() for p in sorted(RAW.rglob("*")) if p.is_file()}
EXTS = ["txt", "html", "json", "jsonl", "ndjson", "txt.gz", "jsonl.gz", "html.gz"]


@st.composite
def mutated(draw) -> bytes:
    base = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[base])
    if base.endswith(".gz") and draw(st.booleans()):
        data = bytearray(gzip.decompress(bytes(data)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "nul", "insert", "dup"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "truncate":
            del data[i:]
        elif op == "flip":
            data[i] ^= draw(st.integers(1, 255))
        elif op == "nul":
            data[i:i] = b"\x00" * draw(st.integers(1, 50))
        elif op == "insert":
            data[i:i] = draw(st.binary(max_size=64))
        else:
            data[i:i] = bytes(data[i: i + 200])
    return bytes(data)


special = st.sampled_from([
    b"<div>" * 20000 + b"deep" + b"</div>" * 20000,  # deeply nested HTML
    b"x" * 3_000_000,  # one huge line
    json.dumps({"title": "t", "text": "lone \ud800 surrogate and text that is long enough to keep"}).encode(),
    b'{"title": "t", "text": "escaped \\ud800 surrogate in JSON that is long enough to keep here"}',
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 windows-1252 text long enough to be an article body.".encode("cp1252"),
    "mixed \u00e9 utf8 ".encode() + "and latin-1 \u00e9 in one file".encode("latin-1"),
    b"\xff\xfe" + "UTF-16 text with BOM, long enough to be an article body here.".encode("utf-16-le"),
    b"", b"\n\n\n", b"[]", b"{}", b"null", b"[1, 2, 3]", b'{"text": {"nested": true}}',
])
content = st.one_of(st.binary(max_size=3000), mutated(), special)
files = st.lists(st.tuples(st.sampled_from(EXTS), content), min_size=1, max_size=3)


def _write(raw: Path, i: int, ext: str, data: bytes) -> None:
    if ext.endswith(".gz") and not data.startswith(b"\x1f\x8b"):
        data = gzip.compress(data) if i % 2 == 0 else data  # sometimes a valid .gz, sometimes not
    (raw / f"f{i}.{ext}").write_bytes(data)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files)
def test_any_input_is_accounted_for_and_never_crashes(spec):
    with tempfile.TemporaryDirectory() as d:
        raw, out = Path(d) / "raw", Path(d) / "out"
        raw.mkdir()
        for i, (ext, data) in enumerate(spec):
            _write(raw, i, ext, data)
        m = run_pipeline(raw, out)
        arts, dups, rejs = rows(out, "articles"), rows(out, "duplicates"), rows(out, "rejects")
        assert m["counts"]["input_records"] == len(arts) + len(dups) + len(rejs)
        landed = {r["source_file"] for r in arts + dups + rejs}
        assert landed == {p.name for p in raw.iterdir()}  # no file vanished without a row
        keys = [(r["source_file"], r["source_line"], r.get("article_id")) for r in arts + dups]
        assert len(keys) == len(set(keys))
