"""Bytes to text: byte-order marks, strict UTF-8, then charset-normalizer for legacy encodings."""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can detect (binary junk, or undecodable)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # must be tested before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Share of control characters (other than tab, newline, carriage return, form feed) above which a
# decoded "text" is treated as binary: real text has none; a few stray NULs in a scrape do happen.
MAX_CONTROL_SHARE = 0.01


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# Every byte except those control characters: deleting them from UTF-8 bytes leaves exactly the
# control characters (in UTF-8 those bytes never occur inside a multi-byte sequence).
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not _CONTROL.match(chr(b)))


def _control_count(text: str) -> int:
    return len(_CONTROL.findall(text))


def _control_count_utf8(data: bytes) -> int:
    """_control_count of `data.decode('utf-8')`, counted on the bytes (a C loop, not a regex scan)."""
    return len(data.translate(None, _NOT_CONTROL_BYTES))


def _detect(data: bytes) -> charset_normalizer.CharsetMatch | None:
    """charset-normalizer's verdict, with one documented tie-break.

    Short Western texts often decode equally cleanly (same chaos) in cp1252, cp1250, cp1257 and
    cp775, and the library then ranks by a language-coherence score that sometimes prefers a Baltic
    code page ('Cafķ'). Among the matches with the lowest chaos we take windows-1252 when the
    library lists it, because the WHATWG Encoding Standard makes it the default for unlabelled
    legacy web text; otherwise the library's own best match.
    """
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for m in matches:
        if m.chaos <= best.chaos and "cp1252" in m.could_be_from_charset:
            return m
    return best


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) for raw input bytes; raise DecodeError for binary or undecodable input.

    A byte-order mark decides first; then strict UTF-8; then charset-normalizer's best guess.
    Stray control characters (NUL and friends) are removed from the returned text.
    """
    if not data:
        raise DecodeError("empty_input", "the input is empty (0 bytes)")
    text: str | None = None
    encoding = ""
    controls = -1  # not counted yet
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise DecodeError("undecodable", f"starts with a {enc} byte-order mark but is not valid {enc}: {exc}") from None
            break
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
            controls = _control_count_utf8(data)
        except UnicodeDecodeError:
            best = _detect(data)
            if best is None:
                raise DecodeError(
                    "binary_or_undecodable",
                    "the bytes are not text in any encoding charset-normalizer recognises (binary file?)",
                ) from None
            text, encoding = str(best), best.encoding
    if text.startswith("\ufeff"):
        text = text[1:]
    if controls < 0:
        controls = _control_count(text)
    if controls:
        if controls > MAX_CONTROL_SHARE * len(text):
            raise DecodeError(
                "binary_content",
                f"{controls} control characters in {len(text)} characters: this looks like a binary file, not text",
            )
        text = _CONTROL.sub("", text)
    return text, encoding


def clean_text_value(value: str) -> str:
    """NFC-normalise a decoded string, drop control characters and lone surrogates (invalid in Parquet).

    Both are looked for in the string's UTF-8 bytes: encoding fails on a lone surrogate, and control
    characters are counted on the bytes (`_control_count_utf8`). On 3,800-character articles that is
    four times faster than a regex search for each (85 -> 20 us with the NFC step), and every text
    field of every article goes through here."""
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: replaced by '?'
        value = value.encode("utf-8", "replace").decode("utf-8")
        data = value.encode("utf-8")
    if _control_count_utf8(data):
        value = _CONTROL.sub("", value)
    return value if value.isascii() else unicodedata.normalize("NFC", value)
