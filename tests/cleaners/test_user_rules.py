"""A user's pattern file and per-site sections change the result as documented."""

from __future__ import annotations

import pytest

from cleaners import clean_article
from cleaners.patterns import CatalogueError, catalogue_with, load_catalogue
from tests.cleaners.test_rules import P1, P2, P3

USER_RULES = '''
[[rule]]
name = "promo_code"
description = "Shop promo codes"
example = "Use code SAVE10 at checkout"
patterns = ['use code [a-z0-9]+ at checkout']

[site."portside-gazette.example"]
disable = ["widget_label"]

[[site."portside-gazette.example".rule]]
name = "gazette_plug"
description = "The Gazette's own plug"
example = "Portside Gazette: your harbour, your news"
patterns = ['portside gazette: your harbour, your news']
'''


@pytest.fixture
def user_file(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text(USER_RULES, encoding="utf-8")
    return str(p)


def reasons(blocks, **kw):
    return {r.position: r.reason for r in clean_article(blocks, title="x", **kw).removed}


def test_user_rule_applies_everywhere(user_file):
    blocks = [P1, "Use code SAVE10 at checkout", P2, P3]
    assert 1 not in reasons(blocks)
    assert reasons(blocks, catalogue=catalogue_with((user_file,)))[1] == "promo_code"


def test_site_section_adds_and_disables_rules_for_that_site_only(user_file):
    cat = catalogue_with((user_file,))
    blocks = [P1, "Portside Gazette: your harbour, your news", P2, "Route 6", P3]
    here = reasons(blocks, catalogue=cat, site="news.portside-gazette.example")  # subdomain matches
    assert here.get(1) == "gazette_plug"
    assert 3 not in here  # widget_label disabled for this site: "Route 6" is a real bus route there
    elsewhere = reasons(blocks, catalogue=cat, site="other.example")
    assert 1 not in elsewhere and elsewhere[3] == "widget_label"


@pytest.mark.parametrize("content,message", [
    ("[[rule]]\nname = 'Bad Name'\npatterns = ['x']\n", "lower_snake_case"),
    ("[[rule]]\nname = 'x'\npatterns = ['(unclosed']\n", "invalid pattern"),
    ("[[rule]]\nname = 'x'\npatterns = ['(capturing)']\n", "non-capturing"),
    ("[[rule]]\nname = 'x'\n", "patterns"),
    ("[[rule]]\nname = 'x'\npatterns = ['x']\nwhere = 'middle'\n", "where must be"),
    ("not toml [", "not valid TOML"),
    ("[whatever]\n", "unknown top-level"),
])
def test_bad_rule_files_say_what_to_fix(tmp_path, content, message):
    p = tmp_path / "bad.toml"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(p)


def test_a_catastrophic_user_pattern_cannot_hang_cleaning(tmp_path):
    import time

    p = tmp_path / "evil.toml"
    p.write_text("[[rule]]\nname = 'evil'\npatterns = ['(?:\\w+\\s?)*!', '(?:x+x+)+y']\n", encoding="utf-8")
    cat = catalogue_with((str(p),))
    line = "word " * 5000 + "?"
    t0 = time.perf_counter()
    clean_article([P1, line, "x" * 5000, P2], title="x", catalogue=cat)
    assert time.perf_counter() - t0 < 5.0
