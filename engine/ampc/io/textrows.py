"""The rows of a text file (a CSV, a JSON lines file) as written, each with its own problem, and the
text of a JSON or YAML document, so that one bad row never stops the others.

Catalogs are saved by hand and by Excel: a byte that is not UTF-8 (a Windows-1252 'é'), a row with
fewer cells than the header, a quote that is never closed at the end of a cut-off file. Each is a
problem of the row that holds it: the row becomes an error record naming it and the fix, and every
other row is decided (DESIGN invariant 9). Only what leaves nothing to read row by row (a header or
a whole JSON or YAML document that cannot be decoded) is refused for the file, naming its line.

A CSV is decoded with 'surrogateescape', so a byte that is not UTF-8 survives as a lone surrogate
(U+DC80 to U+DCFF), which no UTF-8 text can hold: a row holding one is an error, and its cells keep
U+FFFD in its place, so that the record can be written. Rows are split as the tolerant csv reader
splits them (as Excel does); a row whose text holds a quote is read again strictly, which catches a
quote still open at the end of the file and text after a closing quote. A JSON lines file is read as
bytes and each line decoded by itself.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from ampc.errors import InputError, Problem

UTF8_FIX = "save the file as UTF-8 (in Excel: Save As, CSV UTF-8)"
JSON_UTF8_FIX = "save the file as UTF-8"
BOM = b"\xef\xbb\xbf"
_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte 'surrogateescape' could not decode


class Trouble(NamedTuple):
    """What is wrong with one row: the words of its Problem, without where (the caller knows)."""

    message: str
    fix: str
    key: str = ""


class Record(NamedTuple):
    number: int  # the row number a spreadsheet shows: the header is row 1
    line: int  # the physical line the row starts on (a quoted cell may span lines)
    cells: list[str]
    trouble: Trouble | None


def csv_records(path: str, handle: Iterable[str]) -> Iterator[Record]:
    """The records of a CSV file opened with newline='' and errors='surrogateescape', the header
    first. A header that cannot be read raises InputError: no row can be read without it."""
    lines = _Taken(handle)
    reader = csv.reader(lines)
    header: list[str] | None = None
    named = 0  # the columns up to the header's last name: blank columns at its end name nothing
    number, line = 0, 1
    while True:
        lines.taken.clear()
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:  # a cell longer than the field limit: a quote that runs on
            cells, trouble = _tolerant(lines.taken), Trouble(
                f"a cell of the row (from line {line}) is longer than {csv.field_size_limit():,} characters: "
                "a quote opened in it is probably never closed",
                "close the quote, or double each quote inside a value (\"\")")
        else:
            trouble = _trouble(lines.taken, cells, header or [], named, line)
        if header is None:
            if trouble is not None:
                raise InputError(Problem(f"{path} header", *_header_trouble(cells, trouble)[:2]))
            header = cells
            named = max((i + 1 for i, name in enumerate(header) if name.strip()), default=0)
            yield Record(number, line, cells, None)
        else:
            yield Record(number, line, _shown(cells) if trouble else cells, trouble)
        line = reader.line_num + 1


def _header_trouble(cells: list[str], trouble: Trouble) -> Trouble:
    if cells and cells[0][:2] in ("\udcff\udcfe", "\udcfe\udcff"):  # a UTF-16 byte order mark
        return Trouble("the file is UTF-16 (Excel's Unicode Text), not UTF-8", UTF8_FIX)
    return trouble


def _trouble(taken: list[str], cells: list[str], header: list[str], named: int, line: int) -> Trouble | None:
    text = "".join(taken)
    if _ESCAPED.search(text):
        return _undecoded(cells, header)
    if '"' in text:
        try:
            list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as exc:
            if "end of data" in str(exc):
                return Trouble(f"the file ends inside a quoted cell: a quote opened in this row (from line "
                               f"{line}) is never closed", "close the quote, or double each quote inside a "
                               "value (\"\"); if the file was cut off, save it again whole")
            return Trouble(f"a quoted cell has text after its closing quote (line {line})",
                           "quote the whole value and double each quote inside it, e.g. \"12 \"\"x\"\" 7\"")
    # a cell left out would shift the ones after it under the wrong headers: never read as empty
    if len(cells) < named and any(c.strip() for c in cells):
        return Trouble(f"has {len(cells)} cells but the header has {len(header)} columns",
                       "fill the row's cells (an empty cell still needs its comma), or quote values that "
                       "contain commas or line breaks")
    return None


def _undecoded(cells: list[str], header: list[str]) -> Trouble:
    for index, cell in enumerate(cells):
        found = _ESCAPED.search(cell)
        if found:
            name = header[index].strip() if index < len(header) else ""
            column = f"column {index + 1}" + (f" ({_shown([name])[0]})" if name else "")
            return Trouble(_byte(found.group(), f"{column}, character {found.start() + 1} of the cell,"), UTF8_FIX,
                           _shown([name])[0])
    return Trouble("holds a byte that is not UTF-8", UTF8_FIX)  # every byte but , " and line ends is in a cell


def _byte(escaped: str, where: str) -> str:
    """'the byte 0xE9 (é in Windows-1252) in column 2, character 4 of the cell, is not UTF-8'."""
    value = ord(escaped) - 0xDC00
    try:
        guess = f" ({bytes([value]).decode('cp1252')} in Windows-1252)"
    except UnicodeDecodeError:
        guess = ""
    return f"the byte 0x{value:02X}{guess} in {where} is not UTF-8"


def _shown(cells: list[str]) -> list[str]:
    """The cells with U+FFFD for each byte that was not UTF-8: text that can be written anywhere."""
    return [_ESCAPED.sub("\ufffd", c) for c in cells]


def _tolerant(taken: list[str]) -> list[str]:
    """The cells of a refused record, as far as they can be read (for its product id)."""
    try:
        return next(csv.reader(io.StringIO("".join(taken), newline="")), [])
    except csv.Error:
        return []


class _Taken:
    """The file's lines, keeping those the csv reader takes for the record it is reading: it takes
    them one at a time and never reads past the end of a record."""

    def __init__(self, lines: Iterable[str]):
        self.lines, self.taken = iter(lines), []

    def __iter__(self) -> _Taken:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line


def json_lines(handle: Iterable[bytes]) -> Iterator[tuple[int, str | None, Trouble | None]]:
    """Each line of a JSON lines file opened as bytes: (number, its text, None), or (number, None,
    the trouble) for a line that is not UTF-8. A UTF-8 byte order mark at the start is dropped."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[:exc.start].decode("utf-8", "replace")) + 1
            yield number, None, Trouble(f"the byte 0x{raw[exc.start]:02X} at column {column} is not UTF-8",
                                        JSON_UTF8_FIX)
        else:
            yield number, text, None


def document_text(path: Path) -> str:
    """The text of a whole JSON or YAML document. A byte that is not UTF-8 raises InputError naming
    its line and column: a document is parsed whole, so nothing of it can be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be read: {exc.strerror or exc}",
                                 "check the path and that the file can be read"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[start:exc.start].decode("utf-8", "replace").lstrip("\ufeff")) + 1
        raise InputError(Problem(f"{path} line {line}, column {column}",
                                 f"the byte 0x{data[exc.start]:02X} is not UTF-8", JSON_UTF8_FIX))
