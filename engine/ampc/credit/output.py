"""The worksheet written out: the format chosen (from --format, else from the output file's
extension), and the text formats in pieces, as they are rendered, so that a ledger of any length is
written in bounded memory: `ampc credit` writes these pieces to its file or to stdout. The text and
one line's explanation are the renderers of ampc.credit.worksheet, the CSV of ampc.credit.csvfile,
the Markdown of ampc.credit.markdown, read a line at a time; the JSON is the WorksheetReport of
ampc.credit.sheet, written with each list of sales (and of rows outside the year or not computed)
encoded sale by sale. The pieces joined are the same bytes as worksheet.to_json, csvfile.to_csv,
worksheet.text, markdown.to_markdown and worksheet.explain_line return whole. The XLSX workbook is
binary and written to its file by ampc.credit.xlsx."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ampc.credit import csvfile, markdown, worksheet
from ampc.credit.model import CreditRun, Worksheet
from ampc.credit.sheet import sale_of
from ampc.io import formats
from ampc.io.formats import FormatError
from ampc.records import record as R
from ampc.rules.model import RuleSet

PIECE = 1 << 16  # characters handed to the writer at a time
FORMATS = ("table", "csv", "json", "markdown", "xlsx")  # of `ampc credit`


def choose_format(fmt: str | None, output: Path | None, explain: str | None = None) -> str:
    """`ampc credit`'s output format (ampc.io.formats); one line's explanation is text only."""
    chosen = formats.choose_format(fmt, output, FORMATS, example="worksheet")
    if chosen == "xlsx" and explain:
        raise FormatError(f"--explain {explain} lists the line's sales as text, not as a workbook (fix: drop "
                          "--explain, whose sales are in the workbook's Sales sheet, or write to a .txt file)")
    return chosen


def pieces(run: CreditRun, ruleset: RuleSet, fmt: str, explain: str | None = None) -> Iterator[str]:
    """The worksheet in `fmt` (table, csv, json, markdown), or with `explain` the sales of that line."""
    if explain:
        parts: Iterable[str] = (line + "\n" for line in worksheet.explain_lines(run, explain))
    elif fmt == "json":
        parts = json_pieces(run, ruleset)
    elif fmt == "csv":
        parts = csvfile.csv_chunks(run, ruleset)
    else:
        render = {"table": worksheet.text_lines, "markdown": markdown.markdown_lines}[fmt]
        parts = (line + "\n" for line in render(run, ruleset))
    return _grouped(parts)


def _grouped(parts: Iterable[str]) -> Iterator[str]:
    held: list[str] = []
    size = 0
    for part in parts:
        held.append(part)
        size += len(part)
        if size >= PIECE:
            yield "".join(held)
            held, size = [], 0
    if held:
        yield "".join(held)


def json_pieces(run: CreditRun, ruleset: RuleSet) -> Iterator[str]:
    """worksheet.to_json in pieces: each worksheet, sale and error encoded on its own."""
    head = R.encode(worksheet.report(run, ruleset, detail=False))
    lists = {"worksheets": (_sheet(run, ruleset, s) for s in run.worksheets),
             "outside_tax_year": ((_encoded(sale_of(r)),) for r in run.outside_year),
             "errors": ((_encoded(p),) for p in run.errors)}
    yield from _spliced(head, lists, lambda: R.encode(worksheet.report(run, ruleset)))
    yield "\n"


def _sheet(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[str]:
    head = R.encode(worksheet.facility_sheet(run, ruleset, sheet, detail=False))
    lists = {"sales": ((_encoded(worksheet.sale_amount(a)),) for a in sheet.amounts),
             "rejected": ((_encoded(worksheet.rejected_sale(r)),) for r in sheet.rejected),
             "undetermined": ((_encoded(worksheet.pending_sale(p)),) for p in sheet.pending)}
    return _spliced(head, lists, lambda: R.encode(worksheet.facility_sheet(run, ruleset, sheet)))


def _encoded(value: Any) -> str:
    return R.encode(value).decode()


def _spliced(head: bytes, lists: dict[str, Iterable[Iterable[str]]], whole) -> Iterator[str]:
    """The JSON object `head` (encoded with the `lists` fields empty, in field order) with each of
    those fields' items written in, each item given in pieces. Where a field's empty list cannot be
    told apart in `head` (its key written more than once), the object is encoded whole instead."""
    marks = [b'"' + name.encode() + b'":[]' for name in lists]
    if any(head.count(mark) != 1 for mark in marks):
        yield whole().decode()
        return
    rest = head
    for mark, items in zip(marks, lists.values()):
        at = rest.index(mark) + len(mark) - 1  # just before the list's closing bracket
        yield rest[:at].decode()
        for n, item in enumerate(items):
            if n:
                yield ","
            yield from item
        rest = rest[at:]
    yield rest.decode()
