"""`newsclean report` and `newsclean explain` on a real run's output."""

from __future__ import annotations

import re

from flows.pipeline import run_pipeline
from tests.flows.test_cli import cli
from tests.helpers import rows


def test_report_explain_and_html(tmp_path, raw_copy):
    out = tmp_path / "out"
    m = run_pipeline(raw_copy, out)
    rep = cli("report", str(out))
    assert rep.returncode == 0, rep.stderr
    assert m["run_id"] in rep.stdout
    assert "removals by rule" in rep.stdout and "lazy_load" in rep.stdout
    assert "rejects by reason" in rep.stdout and "invalid_json" in rep.stdout
    assert "largest duplicate clusters" in rep.stdout

    page = tmp_path / "report.html"
    assert cli("report", str(out), "--html", str(page)).returncode == 0
    content = page.read_text()
    assert content.count("<svg") == 3 and "lazy_load" in content
    assert not re.search(r"<(script|link|img)\b", content)  # self-contained: nothing to fetch

    seed = next(r for r in rows(out, "articles") if r["title"].startswith("US sanctions"))
    ex = cli("explain", str(out), seed["article_id"])
    assert ex.returncode == 0
    assert "uighur-sanctions.txt" in ex.stdout and "widget_label" in ex.stdout and "'Route 6'" in ex.stdout
    dup = rows(out, "duplicates")[0]
    ex = cli("explain", str(out), dup["article_id"])
    assert f"DUPLICATE of {dup['duplicate_of']}" in ex.stdout
    ex = cli("explain", str(out), dup["duplicate_of"])
    assert dup["article_id"] in ex.stdout and "absorbed 1 duplicate" in ex.stdout


def test_report_errors_are_clear(tmp_path):
    r = cli("report", str(tmp_path))
    assert r.returncode == 2 and "no finished run" in r.stderr and "Traceback" not in r.stderr
    r = cli("explain", str(tmp_path), "nope")
    assert r.returncode == 2 and "not in" in r.stderr
