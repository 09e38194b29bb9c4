"""Words as people write them, folded so that one value or one column has one spelling.

A catalog cell may carry a zero-width space pasted from a web page, a non-breaking space from a
spreadsheet, full-width letters or a BOM: these are stripped or folded (Unicode NFKC, then every
format character removed) before anything is compared. A value is then matched without regard to
case, spacing or punctuation ("U.S.", "us" and "U S" are one word), and a column header with its
words joined by underscores ("AC Capacity" is ac_capacity)."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def clean(text: str) -> str:
    """The text without invisible characters and with its spacing collapsed."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def fold(text: object) -> str:
    """The key a value is matched by: letters and digits only, case folded."""
    return _NOT_WORD.sub("", clean(str(text)).casefold())


def header_key(text: object) -> str:
    """The key a column header is matched by: its words, case folded, joined by underscores."""
    return _NOT_WORD.sub("_", clean(str(text)).casefold()).strip("_")
