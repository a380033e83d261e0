"""The seed article end to end against its golden file (tests/data/uighur-sanctions.golden.json).

The golden file was written from a run and then read line by line against the seed: it is what
the project promises for the page it started from. Regenerate it only for a change you mean.
"""

from __future__ import annotations

import json
import shutil

from flows.pipeline import run_pipeline
from tests.conftest import DATA, SEED
from tests.helpers import rows

GOLDEN = json.loads((DATA / "uighur-sanctions.golden.json").read_text(encoding="utf-8"))


def run_seed(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED, raw)
    run_pipeline(raw, tmp_path / "out")
    (art,) = rows(tmp_path / "out", "articles")
    removals = [r for r in rows(tmp_path / "out", "removals") if r["article_id"] == art["article_id"]]
    return art, sorted(removals, key=lambda r: (r["position"], r["line"] if r["line"] is not None else -1))


def test_seed_matches_golden(tmp_path):
    art, removals = run_seed(tmp_path)
    assert art["title"] == GOLDEN["title"]
    assert art["text"].split("\n\n") == GOLDEN["paragraphs"]
    assert art["captions"] == GOLDEN["captions"]
    got = [{"position": r["position"], "line": r["line"], "reason": r["reason"],
            "duplicate_of_position": r["duplicate_of_position"], "text": r["text"]} for r in removals]
    assert got == GOLDEN["removals"]


def test_seed_promises(tmp_path):
    """The seed's problems, each stated on its own (what the golden file encodes)."""
    art, removals = run_seed(tmp_path)
    text = art["text"]
    paras = text.split("\n\n")
    assert "Loading..." not in text and "READ MORE" not in text and "Route 6" not in text
    assert "Reuters" not in paras
    assert "Who is sanctioned?" in paras and "Repression of minorities" in paras
    atheist = [p for p in paras if "officially atheist Communist government" in p]
    assert len(atheist) == 1 and "Muslim radicalism" in atheist[0]
    caption = [c for c in art["captions"] if "officially atheist" in c]
    assert len(caption) == 1 and "Reuters" in art["captions"]
    reasons = {r["reason"] for r in removals}
    assert {"lazy_load", "read_more", "widget_label", "caption", "photo_credit", "duplicate_paragraph"} <= reasons
    # the second READ MORE line has a non-breaking space and still went
    assert sum(1 for r in removals if r["reason"] == "read_more") == 2
