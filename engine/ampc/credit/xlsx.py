"""The worksheet as an XLSX workbook (`ampc credit -o worksheet.xlsx`), from the typed rows the CSV
has too (ampc.credit.rows). Five sheets:

  Form 7207     each facility's worksheet laid out as the form: Part I (with a facilities file),
                Part II lines 1a to 8c with columns (a) to (e), Part III, Part IV lines 1 to 74
  Sales         every sale counted, with its arithmetic
  Rejected      the sales not on the form, with their reasons
  Undetermined  the sales not on the form until the facts that settle them are given
  Notes         the rules and editions, each sale's flags and caps, totals held off the form, rounding,
                and the run's notes (facilities no sale names, sales outside the year, rows not computed)

Amounts are numeric cells in a currency format (the exact amount, shown to the cent; the whole
dollars as filed), quantities and rates numbers with their unit beside them, percentages
percentages, dates dates. The workbook is written in openpyxl's write-only mode, a row at a time
as the sales are read, so that a ledger of any length is written in bounded memory; a list longer
than a worksheet's rows goes on in "Sales 2", "Sales 3", ..."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ampc.credit import rows
from ampc.credit.model import USD, CreditRun, Worksheet
from ampc.credit.rows import Entry
from ampc.credit.worksheet import editions_text, tax_year_text
from ampc.io.report import unit_text
from ampc.rules.model import RuleSet

MAX_ROWS = 1_048_576  # the rows of an Excel worksheet, its header row included
DATE = "yyyy-mm-dd"
CENTS = '"$"#,##0.00'  # the exact amount, shown to the cent (half up, as the form's column (e) is rounded)
WHOLE_DOLLARS = '"$"#,##0'
BOLD = Font(bold=True)


class Column(NamedTuple):
    """A column of a list sheet: the row's field, its header, its width in characters, and how its
    value is shown: text, int, date, usd (an amount, to the cent), dollars (whole dollars), number,
    quantity / rate (a number whose unit is the field `unit`), percent (a number of percent)."""

    key: str
    header: str
    width: float
    kind: str = "text"
    unit: str = ""


SALES = (
    Column("facility", "facility", 14), Column("line", "line", 6), Column("file", "file", 24),
    Column("row", "row", 8, "int"), Column("product", "product", 18), Column("sale_date", "sale date", 12, "date"),
    Column("production_date", "production date", 12, "date"), Column("units", "units", 10, "number"),
    Column("per_unit", "per unit", 12, "quantity", "per_unit_unit"),
    Column("per_unit_unit", "per unit: unit", 8, "unit"),
    Column("rated_per_unit", "rated per unit (capped)", 12, "quantity", "per_unit_unit"),
    Column("base_source", "(d) from", 18), Column("aggregate", "(d) base", 16, "quantity", "aggregate_unit"),
    Column("aggregate_unit", "(d) unit", 8, "unit"), Column("rate", "(c) rate", 11, "rate", "rate_unit"),
    Column("rate_unit", "(c) unit", 8, "unit"), Column("rate_param", "rate parameter", 28),
    Column("rate_since", "rate in force from", 12, "date"),
    Column("before_phase_out", "before phase-out", 16, "usd"),
    Column("phase_out_percent", "phase-out", 10, "percent"),
    Column("phase_out_keyed_on", "phase-out read at", 12), Column("phase_out_date", "phase-out date", 12, "date"),
    Column("credit_exact", "(e) credit", 16, "usd"), Column("claimed_line", "booked to line", 8),
    Column("review", "open reading", 20), Column("outcome", "outcome", 11), Column("decided_by", "decided by", 30),
    Column("reason", "reason", 80),
)
REJECTED = (
    Column("facility", "facility", 14), Column("file", "file", 24), Column("row", "row", 8, "int"),
    Column("product", "product", 18), Column("sale_date", "sale date", 12, "date"),
    Column("outcome", "outcome", 11), Column("line", "line its product meets", 10),
    Column("aggregate", "base it would have carried", 16, "quantity", "aggregate_unit"),
    Column("aggregate_unit", "unit", 8, "unit"), Column("decided_by", "decided by", 30),
    Column("reason", "reason", 100),
)
UNDETERMINED = (
    Column("facility", "facility", 14), Column("file", "file", 24), Column("row", "row", 8, "int"),
    Column("product", "product", 18), Column("sale_date", "sale date", 12, "date"),
    Column("line", "line it may meet", 10),
    Column("aggregate", "base it would carry", 16, "quantity", "aggregate_unit"),
    Column("aggregate_unit", "unit", 8, "unit"), Column("credit_exact", "credit at stake", 16, "usd"),
    Column("settled_by", "would be settled by", 30), Column("decided_by", "decided by", 30),
    Column("reason", "reason", 100),
)
NOTES = (
    Column("facility", "facility", 14), Column("kind", "kind", 20), Column("line", "line", 6),
    Column("where", "where", 36), Column("product", "product", 18), Column("count", "sales", 8, "int"),
    Column("aggregate", "amount", 16, "quantity", "aggregate_unit"), Column("aggregate_unit", "unit", 8, "unit"),
    Column("note", "note", 120),
)

# The Form 7207 sheet: Part II's columns, which Parts I, III and IV share where the form's columns
# agree (Part III's total and Part IV's costs under column (d), which they feed; the e-file elements
# in L).
FORM_WIDTHS = (8, 62, 34, 14, 10, 18, 8, 8, 14, 18, 16, 44, 36)
PART_II_HEAD = ("line", "(a) eligible component", "(b) unit", "(c) rate", "(c) unit", "(d) amount", "(d) unit",
                "sales", "phase-outs applied", "(e) credit", "(e) as filed", "e-file (d)", "e-file (e)")
EFILE = 11  # column L


def write(run: CreditRun, ruleset: RuleSet, path: Path) -> None:
    """Write the workbook to `path`, a sheet at a time, the sales read as they are written."""
    book = Workbook(write_only=True)
    _form(book, run, ruleset)
    _listing(book, "Sales", SALES, (e for s in run.worksheets for e in rows.sale_rows(s)))
    _listing(book, "Rejected", REJECTED, (e for s in run.worksheets for e in rows.rejected_rows(s)))
    _listing(book, "Undetermined", UNDETERMINED, (e for s in run.worksheets for e in rows.undetermined_rows(s)))
    _listing(book, "Notes", NOTES, rows.note_rows(run, ruleset))
    book.save(path)


# ---------------------------------------------------------------------------------------------------
# the form

def _form(book: Workbook, run: CreditRun, ruleset: RuleSet) -> None:
    ws = book.create_sheet("Form 7207")
    for number, width in enumerate(FORM_WIDTHS, start=1):  # before the rows, in write-only mode
        ws.column_dimensions[get_column_letter(number)].width = width
    ws.freeze_panes = "C2"  # the title row, and each line's number and words
    ws.append([_bold(ws, "Form 7207, Advanced Manufacturing Production Credit: worksheet")])
    for sheet in run.worksheets:
        for values in _facility(run, ruleset, sheet):
            ws.append([_cell(ws, v) for v in values])


def _facility(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[list[Any]]:
    """One facility's block of the Form 7207 sheet, a list of values (or cells) per row."""
    year = f", {tax_year_text(sheet.tax_year)}" if sheet.tax_year else ""
    yield []
    yield [_Bold(f"Form 7207 worksheet: facility {sheet.facility}{year}")]
    yield ["", f"rules {run.ruleset.name} (sha256 {run.ruleset.sha256}){editions_text(sheet)}"]
    part_i = list(rows.part_i_rows(run, ruleset, sheet))
    yield []
    if not part_i:
        yield [_Bold("Part I. Facility information"), f"facility {sheet.facility} (lines 1 to 6: give --facilities "
                                                      "FILE)"]
    else:
        listed = part_i[0]["status"] == "part_i"
        yield [_Bold("Part I. Facility information"),
               "" if listed else "not in the facilities file: left blank"]
        yield _head(("line", "label", "entry"), {EFILE: "e-file"})
        for e in part_i:
            yield _placed({0: e["line"], 1: e["component"], 2: e["value"], EFILE: e["efile"]})
    yield []
    yield [_Bold("Part II. Eligible components")]
    yield _head(PART_II_HEAD)
    for e in rows.part_ii_rows(ruleset, sheet):
        if e["status"] == "line":
            yield [e["line"], e["component"], e["unit"], _Rate(e["rate"], e["rate_unit"]), unit_text(e["rate_unit"]),
                   _Quantity(e["aggregate"], e["aggregate_unit"]), unit_text(e["aggregate_unit"]), e["sales"],
                   ", ".join(f"{p.normalize():f}%" for p in e["phase_out_percent"]),
                   _Usd(e["credit_exact"]), _Usd(e["credit_whole_dollars"], WHOLE_DOLLARS), e["efile_d"], e["efile"]]
        else:
            say = {"not_computed": "not computed", "blank": "estates and trusts only"}.get(e["status"], "")
            yield _placed({0: e["line"], 1: e["component"], 2: say, 9: _Usd(e["credit_exact"]),
                           10: _Usd(e["credit_whole_dollars"], WHOLE_DOLLARS), 12: e["efile"]})
    yield []
    yield [_Bold("Part III. Related offshore wind vessels")]
    yield _head(("line", "name of vessel", "purpose of vessel", "official number", "new or retrofitted",
                 "sales price"), {EFILE: "e-file"})
    for e in rows.part_iii_rows(ruleset, sheet):
        yield _placed({0: e["line"], 1: e["component"], 2: e.get("purpose"), 3: e.get("official_number"),
                       4: e.get("new_or_retrofitted"), 5: _Usd(e["aggregate"]), EFILE: e.get("efile")})
    yield []
    yield [_Bold("Part IV. Costs of producing applicable critical minerals")]
    yield _head(("line", "mineral and form"), {5: "costs incurred", EFILE: "e-file"})
    for e in rows.part_iv_rows(ruleset, sheet):
        yield _placed({0: e["line"], 1: e["component"], 5: _Usd(e["aggregate"]), EFILE: e["efile"]})


def _head(titles: Iterable[str], placed: dict[int, str] | None = None) -> list[Any]:
    out: list[Any] = [_Bold(t) for t in titles]
    for at, title in (placed or {}).items():
        out.extend([None] * (at + 1 - len(out)))
        out[at] = _Bold(title)
    return out


def _placed(values: dict[int, Any]) -> list[Any]:
    out: list[Any] = [None] * (max(values) + 1)
    for at, value in values.items():
        out[at] = value
    return out


class _Bold(NamedTuple):
    text: str


class _Usd(NamedTuple):
    value: Decimal | None  # None: a blank
    format: str = CENTS


class _Quantity(NamedTuple):
    value: Decimal | None
    unit: str


class _Rate(NamedTuple):
    value: Decimal | None
    unit: str


# ---------------------------------------------------------------------------------------------------
# the lists

def _listing(book: Workbook, title: str, columns: tuple[Column, ...], entries: Iterable[Entry]) -> None:
    """A list sheet: its header bold and frozen, its columns sized, an autofilter over its rows; past
    a worksheet's rows, the list goes on in "<title> 2", ..."""
    part, ws, count = 0, None, 0
    for entry in entries:
        if ws is None or count == MAX_ROWS - 1:
            if ws is not None:
                _filter(ws, columns, count)
            part += 1
            ws, count = _list_sheet(book, title if part == 1 else f"{title} {part}", columns), 0
        ws.append([_cell(ws, _value(c, entry)) for c in columns])
        count += 1
    if ws is None:
        ws = _list_sheet(book, title, columns)
    _filter(ws, columns, count)


def _list_sheet(book: Workbook, title: str, columns: tuple[Column, ...]) -> Any:
    ws = book.create_sheet(title)
    for number, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(number)].width = c.width
    ws.freeze_panes = "A2"
    ws.append([_bold(ws, c.header) for c in columns])
    return ws


def _filter(ws: Any, columns: tuple[Column, ...], count: int) -> None:
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"


def _value(c: Column, entry: Entry) -> Any:
    value = entry.get(c.key)
    if c.kind == "usd":
        return _Usd(value)
    if c.kind in ("quantity", "rate"):
        unit = entry.get(c.unit) or ""
        return _Rate(value, unit) if c.kind == "rate" else _Quantity(value, unit)
    if c.kind == "percent":
        return _Rate(value, "percent")
    if c.kind == "unit":
        return unit_text(value) if value else value
    return value


# ---------------------------------------------------------------------------------------------------
# cells

def _bold(ws: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = BOLD
    return cell


def _cell(ws: Any, value: Any) -> Any:
    """A value as a cell: an amount in a currency format, a quantity and a rate with as many decimals
    as they have, a percentage as a percentage, a date as a date, words as words (never a formula)."""
    if isinstance(value, _Bold):
        return _bold(ws, value.text)
    if isinstance(value, (_Usd, _Quantity, _Rate)) and value.value is None:
        return None
    if isinstance(value, _Usd):
        return _number(ws, value.value, value.format)
    if isinstance(value, _Quantity):
        return _number(ws, value.value, CENTS if value.unit == USD else _digits("#,##0", value.value))
    if isinstance(value, _Rate):
        if value.unit == "percent":
            return _number(ws, value.value / 100, _digits("0", value.value) + "%")
        if value.unit.startswith(USD + "/"):
            return _number(ws, value.value, _digits('"$"#,##0', value.value, at_least=2))
        return _number(ws, value.value, _digits("#,##0", value.value))
    if isinstance(value, Decimal):
        return _number(ws, value, _digits("#,##0", value))
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE
        return cell
    if isinstance(value, str):
        if value == "":
            return None
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # control characters a worksheet cannot hold
        if value.startswith("=") or value in ERROR_CODES:  # words from a file, never a formula or an error
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell
    return value


def _number(ws: Any, value: Decimal, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def _digits(whole: str, value: Decimal, at_least: int = 0) -> str:
    """A number format showing every decimal the value has (at least `at_least`)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(at_least, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return whole + ("." + "0" * places if places else "")
