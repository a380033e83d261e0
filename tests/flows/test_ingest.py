"""Ingest: every format and encoding, field aliases, and every kind of bad input."""

from __future__ import annotations

import codecs
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.config import RunConfig
from flows.ingest import discover, make_article_id, parse_date, read_file
from flows.records import Article, Reject

CFG = RunConfig()
BODY = ("Bus drivers in the city will strike on Friday after talks over pay broke down, the union said.\n\n"
        "The operator said it would run a reduced timetable on the main routes.")
TITLE = "Bus drivers to strike on Friday"


def ingest(root: Path) -> list[Article | Reject]:
    out: list[Article | Reject] = []
    for f in discover(root):
        out.extend(read_file(f, CFG))
    return out


def one(root: Path) -> Article:
    items = ingest(root)
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def write(root: Path, name: str, data: bytes) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


TXT = f"{TITLE}\n\n{BODY}\n"


@pytest.mark.parametrize("encoding,prefix", [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
])
def test_txt_unicode_encodings(tmp_path, encoding, prefix):
    write(tmp_path, "a.txt", prefix + TXT.encode(encoding))
    a = one(tmp_path)
    assert a.title == TITLE
    assert a.blocks == tuple(BODY.split("\n\n"))
    assert a.fmt == "txt" and a.source_file == "a.txt" and a.source_line is None


@pytest.mark.parametrize("encoding", ["cp1252", "iso-8859-1", "cp1251"])
def test_txt_legacy_single_byte_encodings_are_detected(tmp_path, encoding):
    if encoding == "cp1251":
        title = "Москва: водители автобусов объявили забастовку"
        body = ("Водители автобусов в Москве объявят забастовку в пятницу после того, как переговоры о зарплате "
                "зашли в тупик, сообщил профсоюз. Оператор заявил, что будет работать по сокращённому расписанию.")
    else:
        title = "Café owners welcome the pedestrian zone"
        body = ("Owners of cafés on Harbour Row welcomed the trial, said José Ortega, whose café façade faces "
                "the quay. The council will review the naïve plan after the summer; résumés are not required.")
    write(tmp_path, "legacy.txt", f"{title}\n\n{body}\n".encode(encoding))
    a = one(tmp_path)
    assert a.title == title
    assert a.blocks == (body,)


def test_txt_lines_inside_a_block_stay_separate(tmp_path):
    write(tmp_path, "c.txt", b"Title\n\nA caption of the photo.\nReuters\n\nBody paragraph.\n")
    a = one(tmp_path)
    assert a.blocks == ("A caption of the photo.\nReuters", "Body paragraph.")


def test_gz_of_every_format(tmp_path):
    write(tmp_path, "a.txt.gz", gzip.compress(TXT.encode()))
    write(tmp_path, "b.json.gz", gzip.compress(json.dumps({"title": TITLE, "text": BODY}).encode()))
    write(tmp_path, "c.jsonl.gz", gzip.compress((json.dumps({"title": TITLE, "text": BODY}) + "\n").encode()))
    html = f"<html><head><title>{TITLE}</title></head><body><article><h1>{TITLE}</h1>" + "".join(
        f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</article></body></html>"
    write(tmp_path, "d.html.gz", gzip.compress(html.encode()))
    items = ingest(tmp_path)
    assert [type(i).__name__ for i in items] == ["Article"] * 4
    assert [i.fmt for i in items] == ["txt", "json", "jsonl", "html"]
    for a in items:
        assert a.title == TITLE
        assert "Bus drivers in the city will strike on Friday" in a.text


def test_html_metadata_via_trafilatura(raw_copy):
    items = [i for f in discover(raw_copy) if f.fmt == "html" for i in read_file(f, CFG)]
    (a,) = items
    assert a.title == "Ferry fares to rise 8% from March, council confirms"
    assert a.site == "Portside Gazette"
    assert a.author == "Hannah Okafor"
    assert a.url == "https://www.portside-gazette.example/news/2024/02/14/ferry-fares-rise"
    assert a.published_at == datetime(2024, 2, 14, tzinfo=UTC)
    assert a.language == "en-gb"
    assert any("Single ferry tickets across the harbour" in b for b in a.blocks)


def test_json_object_list_aliases_and_unknown_fields(tmp_path):
    recs = [
        {"id": "x1", "link": "https://ex.example/a", "headline": "H1", "body": BODY, "date": "2024-02-12T10:00:00+01:00",
         "byline": "Ann Lee", "site": "Ex", "lang": "en", "section": "Politics", "tags": ["a", "b"]},
        {"url": "https://ex.example/b", "title": "H2", "content": ["Para one.", "Para two."], "published": 1707732000,
         "authors": [{"name": "Bo"}, {"name": "Cy"}], "source": "Ex"},
    ]
    write(tmp_path, "list.json", json.dumps(recs).encode())
    write(tmp_path, "obj.json", json.dumps({"title": "H3", "text": BODY, "weird": {"k": 1}}).encode())
    a, b, c = ingest(tmp_path)
    assert (a.source_id, a.url, a.title, a.author, a.site, a.language) == ("x1", "https://ex.example/a", "H1", "Ann Lee", "Ex", "en")
    assert a.published_at == datetime(2024, 2, 12, 9, 0, tzinfo=UTC)
    assert a.metadata == {"section": "Politics", "tags": ["a", "b"]}
    assert b.blocks == ("Para one.", "Para two.") and b.author == "Bo, Cy"
    assert b.published_at == datetime.fromtimestamp(1707732000, tz=UTC)
    assert a.record_index == 0 and b.record_index == 1 and a.source_line is None
    assert c.metadata == {"weird": {"k": 1}}


def test_jsonl_lines_html_field_and_bad_lines_do_not_lose_good_ones(tmp_path):
    good = json.dumps({"title": TITLE, "text": BODY})
    html = json.dumps({"title": "From HTML", "html": "<html><body><article><p>" + "A long enough paragraph of news text. " * 8
                       + "</p></article></body></html>"})
    lines = [good, "{broken json", "", html, json.dumps({"title": "no text"}), json.dumps([1, 2]),
             b"\xff\xfe\x00garbage".decode("latin-1"), good]
    write(tmp_path, "feed.ndjson", "\n".join(lines).encode("utf-8"))
    items = ingest(tmp_path)
    kinds = [(type(i).__name__, i.source_line) for i in items]
    assert kinds == [("Article", 1), ("Reject", 2), ("Article", 4), ("Reject", 5), ("Reject", 6), ("Reject", 7), ("Article", 8)]
    reasons = [i.reason for i in items if isinstance(i, Reject)]
    assert reasons == ["invalid_json", "no_text", "not_an_object", "binary_content"]
    assert items[2].title == "From HTML" and items[2].fmt == "html"
    assert items[0].article_id != items[-1].article_id  # same content, different line


def test_single_newline_feed_text_is_one_paragraph_per_line(tmp_path):
    write(tmp_path, "f.jsonl", json.dumps({"title": "T", "text": "Line one.\nLine two.\nLine three."}).encode())
    assert one(tmp_path).blocks == ("Line one.", "Line two.", "Line three.")


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty_input"),
    ("blank.txt", b"  \n\n \n", "empty_input"),
    ("junk.html", bytes(range(256)) * 40, "binary_or_undecodable"),
    ("elf.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(2000), "binary_content"),
    ("trunc.txt.gz", gzip.compress(TXT.encode() * 50)[:60], "corrupt_gzip"),
    ("notgz.json.gz", b"this is not gzip at all", "corrupt_gzip"),
    ("bad.json", b'{"title": "x", "text": ', "invalid_json"),
    ("notext.json", b'{"title": "Only a title"}', "no_text"),
    ("nothing.html", b"<html><head><title>x</title></head><body><script>var a=1;</script></body></html>", "html_no_content"),
    ("titleonly.txt", b"Just a title line\n", "no_text"),
    ("notes.docx", b"PK\x03\x04 zip", "unsupported_format"),
])
def test_bad_input_becomes_a_reject_with_reason(tmp_path, name, data, reason):
    write(tmp_path, name, data)
    (r,) = ingest(tmp_path)
    assert isinstance(r, Reject), r
    assert r.reason == reason
    assert r.detail and r.source_file == name
    assert len(r.raw_text) <= CFG.max_reject_raw_chars + 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4), st.integers(0, 3))
def test_gunzip_joins_members_as_gzip_does_and_stops_at_the_limit(members, padding):
    from flows.ingest import _gunzip, _LimitError

    data = (b"\0" * padding).join(gzip.compress(m, compresslevel=1) for m in members)
    whole = b"".join(members)
    assert _gunzip(data, len(whole)) == whole == gzip.decompress(data)
    if whole:
        with pytest.raises(_LimitError):
            _gunzip(data, len(whole) - 1)


def test_gzip_member_followed_by_garbage_is_corrupt(tmp_path):
    write(tmp_path, "tail.txt.gz", gzip.compress(TXT.encode()) + b"not a second member")
    (r,) = ingest(tmp_path)
    assert isinstance(r, Reject) and r.reason == "corrupt_gzip", r


def test_reject_keeps_bounded_raw_text(tmp_path):
    write(tmp_path, "bad.json", b"{" + b"x" * 100_000)
    (r,) = ingest(tmp_path)
    assert r.raw_text.startswith("{xxx") and len(r.raw_text) < CFG.max_reject_raw_chars + 100


def test_article_id_is_deterministic_and_positional():
    assert make_article_id("feeds/a.jsonl", 3) == make_article_id("feeds/a.jsonl", 3)
    assert len({make_article_id("a.jsonl", 1), make_article_id("a.jsonl", 2), make_article_id("b.jsonl", 1)}) == 3
    # a fixed value: the id must not depend on the machine, the process or the Python hash seed
    assert make_article_id("uighur-sanctions.txt", 0) == "ab8fc984b2d12f3e"


def test_discover_is_recursive_sorted_and_skips_hidden(tmp_path):
    write(tmp_path, "b/2.txt", TXT.encode())
    write(tmp_path, "a.txt", TXT.encode())
    write(tmp_path, ".hidden/x.txt", TXT.encode())
    write(tmp_path, ".DS_Store", b"junk")
    assert [f.source_file for f in discover(tmp_path)] == ["a.txt", "b/2.txt"]


@pytest.mark.parametrize("value,expected", [
    ("2024-05-01T14:02:00Z", datetime(2024, 5, 1, 14, 2, tzinfo=UTC)),
    ("Mon, 12 Feb 2024 22:15:00 GMT", datetime(2024, 2, 12, 22, 15, tzinfo=UTC)),
    ("2024-04-29T11:00:00+01:00", datetime(2024, 4, 29, 10, 0, tzinfo=UTC)),
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    (1707732000, datetime.fromtimestamp(1707732000, tz=UTC)),
    ("not a date", None), ("", None), (None, None), (True, None), ("9999999-01-01", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_control_characters_counted_on_utf8_bytes_as_on_the_text(text):
    """decode_bytes counts stray control characters on the UTF-8 bytes: the same count as on the text."""
    from flows.decode import _control_count, _control_count_utf8

    assert _control_count_utf8(text.encode("utf-8")) == _control_count(text)


@pytest.mark.parametrize("size,limit,rejected", [(10, 40, False), (39, 40, False), (40, 40, False), (41, 40, True), (30, 100, False)])
def test_html_size_limit_counts_utf8_bytes(size, limit, rejected):
    """max_html_bytes is in UTF-8 bytes however the length is found (here 4-byte characters)."""
    from flows.ingest import _html_article

    html = "<html><body><p>" + "\U0001F600" * size + "</p></body></html>"
    nbytes = len(html.encode("utf-8"))
    item = _html_article("x.html", None, 0, html, RunConfig(max_html_bytes=nbytes - 4 * size + 4 * limit), {})
    assert (isinstance(item, Reject) and item.reason == "limit_max_html_bytes") == rejected


def _clean_text_value_by_regex(value: str) -> str:
    """clean_text_value as first written: a regex search for lone surrogates and one for control characters."""
    import re
    import unicodedata

    if re.search(r"[\ud800-\udfff]", value):
        value = value.encode("utf-8", "replace").decode("utf-8")
    value = re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", value)
    return value if value.isascii() else unicodedata.normalize("NFC", value)


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\x0c\x00\x08\x0b\x1f\x7f\x80é\u0301\ud800\udfff中") | st.characters(),
               max_size=60))
@settings(max_examples=300, deadline=None)
def test_text_values_lose_control_characters_and_lone_surrogates_as_the_regex_definition_says(value):
    from flows.decode import clean_text_value

    assert clean_text_value(value) == _clean_text_value_by_regex(value)
