"""Ingest: raw files (txt, html, json, jsonl and their .gz) -> Article records or Rejects.

Every input record ends as exactly one Article or one Reject; nothing here raises on bad input.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flows.config import RunConfig
from flows.decode import DecodeError, clean_text_value, decode_bytes
from flows.records import Article, Reject

FORMATS = {".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".json": "json",
           ".jsonl": "jsonl", ".ndjson": "jsonl"}

# Field aliases for JSON records: first present, non-empty alias wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "guid", "uid"),
    "url": ("url", "link", "href", "canonical_url", "uri"),
    "title": ("title", "headline", "name"),
    "text": ("text", "body", "content", "article", "article_body", "articleBody", "maintext"),
    "html": ("html", "raw_html", "page_html"),
    "published": ("published", "date", "published_at", "publish_date", "pubdate", "datePublished", "date_publish"),
    "author": ("author", "byline", "authors", "creator"),
    "site": ("source", "site", "sitename", "site_name", "publisher", "source_domain"),
    "language": ("language", "lang"),
}
_KNOWN = {alias for names in ALIASES.values() for alias in names}


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file found under the raw folder."""

    path: str  # absolute path on disk
    source_file: str  # path relative to the raw folder, POSIX separators
    size: int
    fmt: str | None  # txt | html | json | jsonl, None when the extension is not supported
    gz: bool
    # A slice of a large plain JSONL file, so that one big feed spreads over several batches:
    # bytes [start, end) of the file, whose first line is line number first_line.
    start: int = 0
    end: int | None = None
    first_line: int = 1

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None


def split_jsonl(f: InputFile, chunk_bytes: int) -> list[InputFile]:
    """Cut a plain (not gzipped) JSONL file into slices of about chunk_bytes, at line boundaries."""
    if f.fmt != "jsonl" or f.gz or f.size <= chunk_bytes:
        return [f]
    out: list[InputFile] = []
    with open(f.path, "rb") as fh:
        start, line = 0, 1
        while start < f.size:
            fh.seek(min(start + chunk_bytes, f.size))
            fh.readline()  # move to the end of the line we landed in
            end = min(fh.tell(), f.size)
            if end >= f.size:
                end = f.size
            fh.seek(start)
            lines_in = fh.read(end - start).count(b"\n")
            out.append(InputFile(f.path, f.source_file, f.size, f.fmt, f.gz, start, None if end >= f.size else end, line))
            start, line = end, line + lines_in
    return out


def detect_format(name: str) -> tuple[str | None, bool]:
    """Return (format, is_gzipped) from a file name's extensions."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    return FORMATS.get(os.path.splitext(lower)[1]), gz


def discover(raw_dir: str | os.PathLike[str]) -> list[InputFile]:
    """Every file under raw_dir (recursively, sorted by relative path); hidden files and folders are skipped."""
    root = Path(raw_dir)
    found: list[InputFile] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            if not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            fmt, gz = detect_format(name)
            found.append(InputFile(str(full), rel, full.stat().st_size, fmt, gz))
    found.sort(key=lambda f: f.source_file)
    return found


def make_article_id(source_file: str, record_index: int) -> str:
    """A stable id: the same relative path and record position give the same id on every machine."""
    key = f"{source_file}\x00{record_index}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


def file_digest(data: bytes) -> str:
    """Content hash of an input file as stored in the ledger."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _LimitError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def read_bytes(f: InputFile, config: RunConfig, digests: dict[str, str] | None = None) -> bytes:
    """The file's bytes, gunzipped when needed, within the configured limits.

    With `digests`, the content hash of a whole file's raw bytes is recorded there (for the ledger),
    so the file is read once."""
    if f.size > config.max_file_bytes:
        raise _LimitError("limit_max_file_bytes",
                          f"file is {f.size} bytes, above max_file_bytes={config.max_file_bytes}")
    with open(f.path, "rb") as fh:
        if f.whole:
            data = fh.read()
        else:
            fh.seek(f.start)
            data = fh.read((f.end if f.end is not None else f.size) - f.start)
    if digests is not None and f.whole:
        digests[f.source_file] = file_digest(data)
    if not f.gz:
        return data
    limit = min(config.max_decompressed_bytes, int(max(len(data), 1) * config.max_gzip_ratio) + 65536)
    try:
        return _gunzip(data, limit)
    except _LimitError:
        which = "max_decompressed_bytes" if limit == config.max_decompressed_bytes else "max_gzip_ratio"
        raise _LimitError(f"limit_{which}",
                          f"gzip expands beyond {limit} bytes ({which}); a gzip bomb or an oversized file") from None
    except zlib.error as exc:
        raise _LimitError("corrupt_gzip", f"the .gz file is truncated or corrupt: {exc}") from None


def _gunzip(data: bytes, limit: int) -> bytes:
    """The gzip data's members decompressed and joined (as gzip.decompress), never more than `limit`
    bytes of them: _LimitError beyond (a gzip bomb stops there), zlib.error when the data is not
    gzip or ends inside a member. One zlib call per member: 0.3 ms a 35-KB page less than reading
    a GzipFile in chunks."""
    out = bytearray()
    rest = data
    while rest:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer, CRC checked
        out += member.decompress(rest, limit + 1 - len(out))
        if len(out) > limit:
            raise _LimitError("limit", f"more than {limit} bytes")
        if not member.eof:
            raise zlib.error("the data ends inside a gzip member (truncated)")
        rest = member.unused_data.lstrip(b"\0")  # the next member, after any zero padding
    return bytes(out)


def _bounded(text: str, config: RunConfig) -> str:
    n = config.max_reject_raw_chars
    return text if len(text) <= n else text[:n] + f"\n[... {len(text) - n} more characters not kept]"


def _bounded_bytes(data: bytes, config: RunConfig) -> str:
    return _bounded(data[: config.max_reject_raw_chars * 4].decode("utf-8", "replace"), config)


def read_file(f: InputFile, config: RunConfig, digests: dict[str, str] | None = None) -> Iterator[Article | Reject]:
    """Articles and Rejects for one input file, in file order. Never raises on bad input.
    `digests` collects the file's content hash (see read_bytes)."""
    if f.fmt is None:
        yield Reject(f.source_file, None, "unsupported_format",
                     f"'{f.source_file}' has an extension newsclean does not read "
                     "(expected .txt, .html, .htm, .json, .jsonl, .ndjson, optionally .gz)")
        return
    try:
        data = read_bytes(f, config, digests)
    except _LimitError as exc:
        yield Reject(f.source_file, None, exc.reason, exc.detail)
        return
    except OSError as exc:
        yield Reject(f.source_file, None, "unreadable_file", f"could not read the file: {exc}")
        return
    if f.fmt == "jsonl":
        yield from _read_jsonl(f, data, config)
        return
    try:
        text, _encoding = decode_bytes(data)
    except DecodeError as exc:
        yield Reject(f.source_file, None, exc.reason, exc.detail, _bounded_bytes(data, config))
        return
    if not text.strip():
        yield Reject(f.source_file, None, "empty_input", "the file holds only whitespace", _bounded(text, config))
        return
    if f.fmt == "txt":
        yield _finish(_txt_article(f.source_file, text), text, config)
    elif f.fmt == "html":
        yield _finish(_html_article(f.source_file, None, 0, text, config, {}), text, config)
    else:
        yield from _read_json(f, text, config)


def _finish(item: Article | Reject, raw: str, config: RunConfig) -> Article | Reject:
    """Apply the per-article limits and the 'no text' check shared by every format."""
    if isinstance(item, Reject):
        return item
    if not any(b.strip() for b in item.blocks):
        return Reject(item.source_file, item.source_line, "no_text",
                      "the record has no article text (empty body)", _bounded(raw, config), item.record_index)
    chars = sum(len(b) for b in item.blocks)
    if chars > config.max_article_chars:
        return Reject(item.source_file, item.source_line, "limit_max_article_chars",
                      f"article body has {chars} characters, above max_article_chars={config.max_article_chars}",
                      _bounded(raw, config), item.record_index)
    if len(item.blocks) > config.max_article_blocks:
        return Reject(item.source_file, item.source_line, "limit_max_article_blocks",
                      f"article has {len(item.blocks)} paragraphs, above max_article_blocks={config.max_article_blocks}",
                      _bounded(raw, config), item.record_index)
    return item


# ----------------------------------------------------------------------------------------- txt

_BLANK_SPLIT = re.compile(r"\n[^\S\n]*\n\s*")


def split_blocks(body: str) -> tuple[str, ...]:
    """Paragraph blocks separated by blank lines; lines inside a block stay separate lines (stripped)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    for raw in _BLANK_SPLIT.split(body):
        lines = [ln for ln in raw.split("\n") if ln.strip()]
        if lines:
            blocks.append("\n".join(ln.strip() for ln in lines))
    return tuple(blocks)


def _txt_article(source_file: str, text: str) -> Article:
    text = clean_text_value(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    title = lines[i].strip() if i < len(lines) else ""
    blocks = split_blocks("\n".join(lines[i + 1:]))
    return Article(article_id=make_article_id(source_file, 0), source_file=source_file, source_line=None,
                   record_index=0, fmt="txt", title=title, blocks=blocks)


# ---------------------------------------------------------------------------------------- html

_extraction = threading.local()  # seconds this thread spent inside trafilatura's extraction


def extraction_seconds() -> float:
    """Seconds this thread has spent inside trafilatura's extraction of HTML pages since it started:
    a batch reports the difference (its `html_extract` stage seconds, part of `ingest`), so that
    our own cost on HTML input is measured against trafilatura's in the same run."""
    return getattr(_extraction, "seconds", 0.0)


_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)", re.I)


def _html_article(source_file: str, source_line: int | None, record_index: int, html: str,
                  config: RunConfig, fields: dict[str, Any]) -> Article | Reject:
    """Extract an article from HTML with trafilatura (text plus metadata)."""
    import trafilatura  # heavy import: only paid by runs that see HTML
    from trafilatura.settings import Document

    # A character is 1 to 4 UTF-8 bytes: encode only when the length alone does not decide.
    raw_size = len(html) if 4 * len(html) <= config.max_html_bytes else len(html.encode("utf-8", "replace"))
    if raw_size > config.max_html_bytes:
        return Reject(source_file, source_line, "limit_max_html_bytes",
                      f"HTML is {raw_size} bytes, above max_html_bytes={config.max_html_bytes}",
                      _bounded(html, config), record_index)
    t0 = time.perf_counter()
    try:
        doc = trafilatura.bare_extraction(html, url=fields.get("url"), with_metadata=True,
                                          include_comments=False, include_tables=True, favor_precision=True,
                                          deduplicate=False)
    except Exception as exc:  # trafilatura/lxml raise many types on hostile markup
        return Reject(source_file, source_line, "html_parse_error",
                      f"trafilatura could not parse the HTML: {type(exc).__name__}: {exc}",
                      _bounded(html, config), record_index)
    finally:
        _extraction.seconds = extraction_seconds() + time.perf_counter() - t0
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        return Reject(source_file, source_line, "html_no_content",
                      "trafilatura found no article text in the HTML (empty page, or only navigation)",
                      _bounded(html, config), record_index)
    text = clean_text_value(doc.text or "")
    blocks = tuple(ln.strip() for ln in text.split("\n") if ln.strip())
    lang = doc.language
    if not lang:
        m = _HTML_LANG.search(html[:20000].encode("utf-8", "replace"))
        lang = m.group(1).decode().lower().replace("_", "-") if m else None
    meta = {k: v for k, v in (("description", doc.description), ("categories", doc.categories),
                                 ("tags", doc.tags), ("image", doc.image), ("hostname", doc.hostname))
            if v}
    return Article(
        article_id=make_article_id(source_file, record_index), source_file=source_file,
        source_line=source_line, record_index=record_index, fmt="html",
        title=clean_text_value(fields.get("title") or doc.title or "").strip(), blocks=blocks,
        url=fields.get("url") or doc.url, site=fields.get("site") or doc.sitename,
        author=fields.get("author") or doc.author,
        published_at=fields.get("published_at") or parse_date(doc.date),
        language=fields.get("language") or lang, metadata={"html": meta} if meta else {},
    )


# ---------------------------------------------------------------------------------------- json

def _read_json(f: InputFile, text: str, config: RunConfig) -> Iterator[Article | Reject]:
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        yield Reject(f.source_file, None, "invalid_json", f"the file is not valid JSON: {exc}", _bounded(text, config))
        return
    records = obj if isinstance(obj, list) else [obj]
    if not records:
        yield Reject(f.source_file, None, "empty_input", "the JSON file holds an empty list", _bounded(text, config))
        return
    for i, rec in enumerate(records):
        yield record_to_article(rec, f.source_file, None, i, "json", config)


def _read_jsonl(f: InputFile, data: bytes, config: RunConfig) -> Iterator[Article | Reject]:
    # Decode line by line so that one line in a broken encoding does not lose the others.
    if f.start == 0 and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif f.start == 0 and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            yield Reject(f.source_file, None, "undecodable", f"UTF-16 byte-order mark but invalid UTF-16: {exc}",
                         _bounded_bytes(data, config))
            return
    seen = False
    for lineno, raw in enumerate(data.split(b"\n"), start=f.first_line):
        if not raw.strip():
            continue
        seen = True
        if len(raw) > config.max_line_bytes:
            yield Reject(f.source_file, lineno, "limit_max_line_bytes",
                         f"line is {len(raw)} bytes, above max_line_bytes={config.max_line_bytes}",
                         _bounded_bytes(raw, config), lineno)
            continue
        try:
            line, _enc = decode_bytes(raw)
        except DecodeError as exc:
            yield Reject(f.source_file, lineno, exc.reason, exc.detail, _bounded_bytes(raw, config), lineno)
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield Reject(f.source_file, lineno, "invalid_json", f"line {lineno} is not valid JSON: {exc}",
                         _bounded(line, config), lineno)
            continue
        yield record_to_article(rec, f.source_file, lineno, lineno, "jsonl", config)
    if not seen and f.whole:
        yield Reject(f.source_file, None, "empty_input", "the file holds no JSON lines", "")


def _pick(rec: dict[str, Any], field: str) -> Any:
    for alias in ALIASES[field]:
        v = rec.get(alias)
        if v not in (None, "", [], {}):
            return v
    return None


def _as_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        s = clean_text_value(v).strip()
        return s or None
    if isinstance(v, list):
        parts = [p for p in (_as_str(x) for x in v) if p]
        return ", ".join(parts) or None
    if isinstance(v, dict):
        return _as_str(v.get("name") or v.get("title") or v.get("url"))
    if isinstance(v, (int, float, bool)):
        return str(v)
    return None


def parse_date(value: Any) -> datetime | None:
    """A UTC datetime from an ISO string, an RFC 2822 string, a free-form date or a Unix timestamp; else None."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            ts = float(value) / (1000.0 if value > 1e11 else 1.0)
            return datetime.fromtimestamp(ts, tz=UTC)
        if not isinstance(value, str):
            return None
        s = value.strip()
        if not s or len(s) > 100:
            return None
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            from dateutil import parser as dateparser

            dt = dateparser.parse(s)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        dt = dt.astimezone(UTC)
        if not (1900 <= dt.year <= 2200):
            return None
        return dt
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def _jsonable(v: Any) -> Any:
    """Metadata values as JSON-safe data (lone surrogates replaced, so Parquet and JSON accept them)."""
    if isinstance(v, str):
        return clean_text_value(v)
    if isinstance(v, dict):
        return {clean_text_value(str(k)): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def record_to_article(rec: Any, source_file: str, source_line: int | None, record_index: int, fmt: str,
                      config: RunConfig) -> Article | Reject:
    """Map one JSON object (with its field aliases) to an Article, or a Reject explaining why not."""
    raw = json.dumps(rec, ensure_ascii=False, default=str) if not isinstance(rec, str) else rec
    raw = clean_text_value(raw)
    where = f"line {source_line}" if source_line else f"record {record_index}"
    if not isinstance(rec, dict):
        return Reject(source_file, source_line, "not_an_object",
                      f"{where} is a JSON {type(rec).__name__}, not an object with article fields",
                      _bounded(raw, config), record_index)
    published_raw = _pick(rec, "published")
    fields: dict[str, Any] = {
        "url": _as_str(_pick(rec, "url")),
        "title": _as_str(_pick(rec, "title")),
        "author": _as_str(_pick(rec, "author")),
        "site": _as_str(_pick(rec, "site")),
        "language": _as_str(_pick(rec, "language")),
        "published_at": parse_date(published_raw),
    }
    metadata = {clean_text_value(str(k)): _jsonable(v) for k, v in rec.items() if k not in _KNOWN}
    if published_raw is not None and fields["published_at"] is None:
        metadata["published_unparsed"] = _jsonable(published_raw)
    body = _pick(rec, "text")
    html = _pick(rec, "html")
    article: Article | Reject
    if body is None and isinstance(html, str):
        article = _html_article(source_file, source_line, record_index, html, config, fields)
        if isinstance(article, Article) and metadata:
            article = article.replace(metadata={**article.metadata, **metadata})
    else:
        if isinstance(body, list):
            body = "\n\n".join(s for s in (_as_str(x) for x in body) if s)
        if body is not None and not isinstance(body, str):
            return Reject(source_file, source_line, "bad_text_field",
                          f"{where}: the text field is a JSON {type(body).__name__}, expected a string",
                          _bounded(raw, config), record_index)
        body = clean_text_value(body or "")
        # Paragraphs are separated by blank lines; a feed that uses single newlines gets one per line.
        blocks = split_blocks(body) if "\n\n" in body.replace("\r\n", "\n") else tuple(
            ln.strip() for ln in body.splitlines() if ln.strip())
        article = Article(article_id=make_article_id(source_file, record_index), source_file=source_file,
                          source_line=source_line, record_index=record_index, fmt=fmt,
                          title=fields["title"] or "", blocks=blocks, url=fields["url"], site=fields["site"],
                          author=fields["author"], published_at=fields["published_at"],
                          language=fields["language"], metadata=metadata)
    if isinstance(article, Article):
        article = article.replace(source_id=_as_str(_pick(rec, "id")))
    return _finish(article, raw, config)


def domain_of(url: str | None) -> str | None:
    """The host of a URL without 'www.', lowercased; None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host
