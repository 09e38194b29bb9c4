"""Spreadsheet renderers of the typed record: the XLSX workbook (a Decisions sheet, one row per
product, and a Clauses sheet, one row per clause of each rule considered) and the CSV of its
Decisions sheet; and the choice of `ampc classify`'s output format from the output file's name.

Both write each record as it arrives, so a catalog of any size is written in bounded memory: the
workbook in openpyxl's write-only mode (each row streamed to the sheet's part of the file, nothing
kept), the CSV row by row. Both read records, expanded with the rules' words from the rule set that
decided them (ampc.records.detail.expand); the sentences are those of the table (ampc.io.report).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NamedTuple

from ampc.errors import InputError, Problem
from ampc.io import formats, report
from ampc.io.formats import FormatError  # noqa: F401  (the CLI catches it from here)
from ampc.records import record as R
from ampc.records.detail import expand
from ampc.rules.model import RuleSet

SHEET_FORMATS = ("xlsx", "csv")
FORMATS = ("table", "json", "jsonl", "xlsx", "csv")  # of `ampc classify`

MAX_ROWS = 1_048_576  # the rows of an Excel worksheet, its header included; more go on "<sheet> 2", ...
EXACT_DIGITS = 15  # the significant digits a spreadsheet number (an IEEE double) holds exactly
DATE_FORMAT = "yyyy-mm-dd"
FLAG_SEPARATOR = " | "  # between review flags in one cell (a flag's own words may hold ';')


def choose_format(fmt: str | None, output: Path | None) -> str:
    """`ampc classify`'s output format (ampc.io.formats)."""
    return formats.choose_format(fmt, output, FORMATS)


# ---------------------------------------------------------------------------------------------------
# the rows, as values: text, Decimal, int, bool, date or None (an empty cell)

class Column(NamedTuple):
    header: str
    width: float  # characters, as a spreadsheet measures a column


DECISION_COLUMNS = (
    Column("product", 20), Column("description", 40), Column("outcome", 13), Column("line", 6),
    Column("possible lines", 10), Column("decided by", 30), Column("reason", 80), Column("missing facts", 30),
    Column("review flags", 60), Column("sale date", 12), Column("production date", 12),
    Column("taxable year begins", 12), Column("edition", 10), Column("rule set", 14),
    Column("rule-set sha256", 20), Column("error at", 36), Column("fix", 40), Column("file", 24),
    Column("row", 7),
)
CLAUSE_COLUMNS = (
    Column("product", 20), Column("rule", 30), Column("line", 6), Column("stage", 10), Column("rule result", 12),
    Column("relevant", 9), Column("fact", 26), Column("operator", 11), Column("actual", 14),
    Column("actual unit", 8), Column("threshold", 14), Column("threshold unit", 9), Column("verdict", 8),
    Column("parameter", 34), Column("value in force from", 12), Column("decisive", 9), Column("clause", 60),
    Column("citation", 50),
)
# a rule that lists no clause: the words of the explanation for why there are none
NO_CLAUSES = {"holds": "(every clause holds: a compact record lists only the clauses that did not)",
              "not_reached": "(not reached: an earlier stage settled the outcome)"}


def decision_row(d: R.Record, param_labels: dict[str, str]) -> list[Any]:
    """One product's row of the Decisions sheet (and of the CSV), in DECISION_COLUMNS order. An
    error record is a row too, with the outcome "error", its message as the reason, where and the fix."""
    rs = d.ruleset
    row: dict[str, Any] = {"product": d.product, "description": d.description, "outcome": d.outcome,
                           "reason": report.reason(d), "edition": rs.edition, "rule set": rs.name,
                           "rule-set sha256": rs.sha256, "file": d.source.file, "row": d.source.row}
    if isinstance(d, R.ErrorRecord):
        row.update({"error at": d.error.where, "fix": d.error.fix})
    else:
        flags = (f"{f.kind}: {report.flag_text(f, d, param_labels)}" for f in d.flags)
        row.update({"line": d.line, "possible lines": ", ".join(d.possible_lines),
                    "decided by": ", ".join(d.decided_by), "missing facts": ", ".join(d.missing),
                    "review flags": FLAG_SEPARATOR.join(flags), "sale date": d.dates.sale,
                    "production date": d.dates.production, "taxable year begins": d.dates.taxable_year_begins})
    return [row.get(c.header) for c in DECISION_COLUMNS]


def clause_rows(d: R.Decision) -> Iterator[list[Any]]:
    """The Clauses sheet's rows of one decision, in CLAUSE_COLUMNS order: a row per clause of each
    rule considered, and one row for a rule that lists none. As in the explanation, where there are
    more candidates than report.FULL_LIST_UP_TO, those that fail on the kind they name (a tin form,
    for an aluminum product) are left out of a compact record's rows; a full record's rows hold
    every one (a mineral has some seventy candidates)."""
    classes = sum(1 for c in d.considered if c.stage == "classify")
    every = d.detail == "full" or classes <= report.FULL_LIST_UP_TO
    for c in d.considered:
        if not every and not c.relevant and c.result == "fails":
            continue
        rule = {"product": d.product, "rule": c.rule, "line": c.line, "stage": c.stage,
                "rule result": report.RESULT[c.result], "relevant": c.relevant,
                "citation": report.citation(c.cite) if c.cite else None}
        if not c.clauses:
            yield [{**rule, "clause": NO_CLAUSES.get(c.result)}.get(col.header) for col in CLAUSE_COLUMNS]
        for x in c.clauses:
            actual, actual_unit = _value(x.actual)
            threshold, threshold_unit = _value(x.threshold)
            row = {**rule, "fact": x.fact, "operator": x.op, "actual": actual, "actual unit": actual_unit,
                   "threshold": threshold, "threshold unit": threshold_unit, "verdict": x.verdict,
                   "parameter": x.param, "value in force from": x.param_from, "decisive": x.decisive,
                   "clause": x.clause}
            yield [row.get(col.header) for col in CLAUSE_COLUMNS]


def _value(value: R.Value) -> tuple[Any, str]:
    """A clause's value and its unit: a quantity as its number and unit, a date as a date, the
    rest in the words the explanation uses."""
    if isinstance(value, R.Quantity):
        return value.value, report.unit_text(value.unit)
    if isinstance(value, R.Day):
        return value.value, ""
    return report.value_text(value), ""


def _param_labels(ruleset: RuleSet) -> dict[str, str]:
    return {p.id: p.label for p in ruleset.params.values()}


# ---------------------------------------------------------------------------------------------------
# the workbook

class Workbook:
    """The XLSX workbook, written as the records arrive; `close` finishes the file."""

    def __init__(self, path: Path, ruleset: RuleSet):
        from openpyxl import Workbook as Book

        self.path, self.ruleset, self.labels = path, ruleset, _param_labels(ruleset)
        self.handle = _open(path, "wb")  # now, not after the whole catalog is decided
        self.book = Book(write_only=True)
        self.decisions = _Sheet(self.book, "Decisions", DECISION_COLUMNS)
        self.clauses = _Sheet(self.book, "Clauses", CLAUSE_COLUMNS)

    def add(self, record: R.Record) -> None:
        d = expand(record, self.ruleset)
        self.decisions.append(decision_row(d, self.labels))
        if isinstance(d, R.Decision):
            for row in clause_rows(d):
                self.clauses.append(row)

    def close(self) -> None:
        self.decisions.finish()
        self.clauses.finish()
        with self.handle:
            self.book.save(self.handle)


class _Sheet:
    """A listing over write-only worksheets: header in bold and frozen, column widths, an
    autofilter over the data; past a worksheet's rows, the listing goes on in "<title> 2", ..."""

    def __init__(self, book: Any, title: str, columns: tuple[Column, ...]):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

        self.book, self.title, self.columns = book, title, columns
        self.new_cell, self.error_codes, self.illegal = WriteOnlyCell, ERROR_CODES, ILLEGAL_CHARACTERS_RE
        self.part, self.ws, self.rows = 0, None, 0
        self._start(len(book.worksheets))

    def _start(self, index: int) -> None:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.part += 1
        ws = self.book.create_sheet(self.title if self.part == 1 else f"{self.title} {self.part}", index)
        for number, column in enumerate(self.columns, 1):  # the layout goes before the rows in write-only mode
            ws.column_dimensions[get_column_letter(number)].width = column.width
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in self.columns:
            cell = self.new_cell(ws, value=column.header)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        self.ws, self.rows = ws, 0

    def append(self, values: list[Any]) -> None:
        if self.rows == MAX_ROWS - 1:
            self.finish()
            self._start(self.book.index(self.ws) + 1)
        self.ws.append([self._cell(v) for v in values])
        self.rows += 1

    def finish(self) -> None:
        from openpyxl.utils import get_column_letter

        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{self.rows + 1}"

    def _cell(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = self.illegal.sub("\ufffd", value)  # control characters a worksheet cannot hold
            if value.startswith("=") or value in self.error_codes:  # a product's words, never a formula
                cell = self.new_cell(self.ws, value=value)
                cell.data_type = "s"
                return cell
            return value
        if isinstance(value, Decimal):  # exact in the record; as a number where a double holds it exactly
            return value if len(value.normalize().as_tuple().digits) <= EXACT_DIGITS else format(value, "f")
        if isinstance(value, dt.date):
            cell = self.new_cell(self.ws, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        return value  # int, bool


# ---------------------------------------------------------------------------------------------------
# the CSV

class CsvFile:
    """The Decisions sheet as CSV, a row written as each record arrives: plain numbers (no grouping,
    no currency), ISO dates."""

    def __init__(self, path: Path | None, ruleset: RuleSet):
        self.path, self.ruleset, self.labels = path, ruleset, _param_labels(ruleset)
        self.handle = _open(path, "w") if path is not None else sys.stdout
        self.writer = csv.writer(self.handle)
        self.writer.writerow([c.header for c in DECISION_COLUMNS])

    def add(self, record: R.Record) -> None:
        self.writer.writerow([_text(v) for v in decision_row(expand(record, self.ruleset), self.labels)])

    def close(self) -> None:
        if self.path is not None:
            self.handle.close()
        else:
            self.handle.flush()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _open(path: Path, mode: str) -> IO[Any]:
    try:
        return path.open(mode) if "b" in mode else path.open(mode, encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be written: {exc.strerror or exc}",
                                 "give -o a file in a directory that exists and can be written")) from None


def open_sheet(fmt: str, output: Path | None, ruleset: RuleSet) -> Workbook | CsvFile:
    """The writer of a spreadsheet format (one of SHEET_FORMATS): `add` each record, then `close`."""
    if fmt == "csv":
        return CsvFile(output, ruleset)
    if output is None:
        choose_format("xlsx", None)  # raises: a workbook cannot go to the terminal
    return Workbook(output, ruleset)
