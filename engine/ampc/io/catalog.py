"""Read a catalog (CSV, XLSX, JSON, YAML) into rows, and check and normalize each (ampc.io.rowcheck)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.io.columns import Columns
from ampc.io.rowcheck import RESERVED, column_problem, normalize
from ampc.io.textrows import Trouble, csv_records, document_text, json_lines
from ampc.io.values import as_date
from ampc.rules.model import RuleSet
from ampc.rules.units import UnitError
from ampc.rules.words import clean
from ampc.rules.yamlio import load_yaml


@dataclass
class Row:
    """One catalog entry: where it came from, its raw values, and (once normalized) its facts."""

    where: str
    number: int
    product: str
    description: str = ""
    as_of: dt.date | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the values exactly as read
    units: dict[str, str] = field(default_factory=dict)  # unit given in the column header
    facts: dict[str, Any] = field(default_factory=dict)
    problem: Problem | None = None
    file: str = ""
    roles: dict[str, Any] = field(default_factory=dict)  # a ledger row's values by role (facility, units, ...)
    pending: bool = False  # its values still to be read into facts, where it is decided (iter_catalog)


def read_catalog(path: Path | str, ruleset: RuleSet) -> list[Row]:
    """Every entry of the catalog as a Row; a row that cannot be normalized carries its problem."""
    return list(iter_catalog(path, ruleset))


def iter_catalog(path: Path | str, ruleset: RuleSet, columns: Columns | None = None,
                 shown: str | None = None, normalized: bool = True) -> Iterator[Row]:
    """The catalog's rows one at a time, each checked and normalized as it is read (a file that
    cannot be used at all raises InputError when the first row is asked for). `columns` says how
    headers are read; without it an unknown column is an error for each row that fills it. `shown`:
    the name rows are located by, where it is not the path (an upload, by the name it was sent as).
    With `normalized` False, the rows' values are left for the decider to read (pipeline.decide_row
    does, where the row is decided: a worker process reads its own rows)."""
    columns = columns or Columns(ruleset.facts, strict=True)
    return prepare_iter(iter_rows(Path(path), "catalog", columns, shown), ruleset, normalized)


def prepare(rows: list[Row], ruleset: RuleSet) -> list[Row]:
    """Check each row's columns and id, and normalize its facts; a bad row carries its problem."""
    return list(prepare_iter(rows, ruleset))


def prepare_iter(rows: Iterable[Row], ruleset: RuleSet, normalized: bool = True) -> Iterator[Row]:
    seen: dict[str, int] = {}  # product id -> its first row: a repeated id is an error for its row
    for row in rows:
        if row.problem is None:
            row.problem = column_problem(row, ruleset.facts)
        if row.problem is None and row.product in seen:
            row.problem = Problem(row.where, f"product '{row.product}' appears again (first in row "
                                  f"{seen[row.product]})", "give each product a unique id", "product")
        seen.setdefault(row.product, row.number)
        if row.problem is None:
            if normalized:
                normalize(row, ruleset.facts, ruleset)
            else:
                row.pending = True
        yield row


def mapping_rows(items: list[Any], label: str) -> list[Row]:
    """Rows from mappings already read (a YAML or JSON list of products, the YAML test cases)."""
    rows = list(_mapping_rows(items))
    for row in rows:
        row.file = label
        row.where = f"{label} {row.where}"
        if row.problem is not None:
            row.problem = Problem(f"{label} {row.problem.where}", row.problem.message, row.problem.fix,
                                  row.problem.key)
    return rows


def read_rows(path: Path, what: str, columns: Columns) -> list[Row]:
    """The rows of a CSV, XLSX, JSON, JSONL or YAML file, each located by file and row."""
    return list(iter_rows(path, what, columns))


def iter_rows(path: Path, what: str, columns: Columns, shown: str | None = None) -> Iterator[Row]:
    """The rows of the file one at a time: CSV, JSON lines and XLSX (read-only) are streamed, JSON
    and YAML read whole. The file's own problems (missing, unknown format) raise here, at once."""
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file", f"check the path to the {what}"))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path, columns)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, columns)
    elif suffix == ".jsonl":
        rows = _jsonl_rows(path, columns)
    elif suffix in (".json", ".yaml", ".yml"):
        rows = _document_rows(path, suffix, columns)
    else:
        raise InputError(Problem(str(path), f"unknown {what} format '{suffix}'",
                                 "give a .csv, .xlsx, .json, .jsonl, .yaml or .yml file"))
    return _located(shown or str(path), rows)


def _located(name: str, rows: Iterator[Row]) -> Iterator[Row]:
    for row in rows:
        row.file = name
        row.where = f"{name} {row.where}"
        if row.problem is not None:
            row.problem = Problem(f"{name} {row.problem.where}", row.problem.message, row.problem.fix,
                                  row.problem.key)
        yield row


def _header(path: Path, names: list[Any], columns: Columns) -> list[tuple[str | None, str]]:
    """Each column's name in the vocabulary and the unit its header gives; None for a column that
    names nothing known (reported once, or refused cell by cell in strict mode)."""
    parsed: list[tuple[str | None, str]] = []
    for index, name in enumerate(names, start=1):
        where = f"{path} header, column {index}"
        if name is None or not str(name).strip():
            parsed.append((None, ""))
            continue
        try:
            fact, unit = columns.resolve(name)
        except UnitError as exc:
            raise InputError(Problem(f"{where} ({clean(str(name))})", exc.message, exc.fix))
        if fact is None:
            columns.unknown(where, str(path), name)
        parsed.append((fact, unit))
    facts = [f for f, _ in parsed if f]
    if "product" not in facts:
        unread = [clean(str(n)) for n, (f, _) in zip(names, parsed) if f is None and n not in (None, "")]
        raise InputError(Problem(f"{path} header", "no 'product' column" + did_you_mean("product", unread),
                                 "add a 'product' column (or 'Product ID') with a unique id for each product"))
    for fact in facts:
        if facts.count(fact) > 1:
            shown = " and ".join(f"'{clean(str(n))}'" for n, (f, _) in zip(names, parsed) if f == fact)
            raise InputError(Problem(f"{path} header", f"columns {shown} both give {fact}", "keep one of them"))
    return parsed


def _table_rows(path: Path, header: list[Any], lines: Iterator[tuple[int, list[Any], Trouble | None]],
                columns: Columns) -> Iterator[Row]:
    """Rows from cells under a header; `lines` gives each row's number, cells and the trouble its
    reader found (ampc.io.textrows). A row of empty cells is a blank line, skipped."""
    parsed = _header(path, header, columns)
    names = [f for f, _ in parsed]
    units = {f: u for f, u in parsed if f and u}
    headless = [i for i, name in enumerate(header) if name is None or not str(name).strip()]
    named = all(names)  # every column names a fact or a reserved key: a row's values are its cells
    for number, cells, trouble in lines:
        if trouble is None and all(c in (None, "") for c in cells):
            continue
        values = dict(zip(names, cells)) if named else {f: c for f, c in zip(names, cells) if f}
        where = f"row {number}"
        row = Row(where, number, "")
        row.units = dict(units)
        if trouble is not None:
            row.problem = Problem(where, trouble.message, trouble.fix, trouble.key)
        elif len(cells) > len(parsed):
            row.problem = Problem(where, f"has {len(cells)} cells but the header has {len(parsed)} columns",
                                  "remove the extra cells, or quote values that contain commas")
        if row.problem is None and headless:
            row.problem = _headless(where, cells, headless)
        if columns.strict and row.problem is None:
            for (f, _), name, cell in zip(parsed, header, cells):
                if f is None and cell not in (None, "") and name not in (None, ""):
                    row.problem = columns.unknown(where, str(path), name)
                    break
        _reserved(row, values, f"(row {number})")
        for key in RESERVED:
            values.pop(key, None)
        row.raw = values
        yield row


def _headless(where: str, cells: list[Any], headless: list[int]) -> Problem | None:
    """A value under a column with no header (`headless`: their positions; a workbook's cell past the
    header's last column, a CSV cell under an empty header cell) belongs to no fact: an error for its
    row, never dropped unsaid."""
    for index in headless:
        cell = cells[index] if index < len(cells) else None
        if cell is not None and str(cell).strip():
            return Problem(where, f"has a value in column {index + 1} ({_clipped(cell)}), which has no header",
                           "give the column a header, or clear the cell")
    return None


def _reserved(row: Row, values: dict, placeholder: str) -> None:
    """The row's product id (or `placeholder` when it has none), description and as_of date."""
    product, description = values.pop("product", None), values.get("description")
    for key, value in (("product", product), ("description", description)):
        if isinstance(value, (bool, dict, list)) and row.problem is None:  # a JSON or YAML value
            label = "product id" if key == "product" else key
            row.problem = Problem(row.where, f"the {label} is {_clipped(value)}, not text",
                                  f"write the {label} as text", key)
    row.product = "" if product is None or isinstance(product, (bool, dict, list)) else str(product).strip()
    if not row.product:
        if row.problem is None:
            row.problem = Problem(row.where, "the product id is empty", "give every row a product id", "product")
        row.product = placeholder
    row.description = "" if isinstance(description, (bool, dict, list)) else str(description or "").strip()
    as_of = values.get("as_of")
    if as_of not in (None, ""):
        try:
            row.as_of = as_date(as_of)
        except UnitError as exc:
            row.problem = row.problem or Problem(f"{row.where}, as_of", f"as_of {exc.message}", exc.fix, "as_of")


def _csv_rows(path: Path, columns: Columns) -> Iterator[Row]:
    """A byte that is not UTF-8, a short row, a quote left open: each an error for its row alone."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            records = csv_records(str(path), handle)
            header = next(records, None)
            if header is None:
                raise InputError(Problem(str(path), "the file is empty",
                                         "add a header row and one row per product"))
            yield from _table_rows(path, header.cells, ((r.number, r.cells, r.trouble) for r in records), columns)
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot read the CSV file: {exc.strerror or exc}",
                                 "check the path and that the file can be read"))


def _xlsx_rows(path: Path, columns: Columns) -> Iterator[Row]:
    import openpyxl

    try:
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(Problem(str(path), f"cannot read the workbook: {exc}", "save it as .xlsx"))
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None)
    if header is None:
        raise InputError(Problem(str(path), "the first sheet is empty", "put the catalog on the first sheet"))
    # openpyxl pads each row with None to the sheet's width, and a workbook stores no empty cell: a
    # short row cannot be told from one whose last cells are empty, which is what it reads as
    cells = ([_xlsx_cell(c) for c in line] for line in lines)
    yield from _table_rows(path, list(header), ((i, row, None) for i, row in enumerate(cells, start=2)), columns)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():  # a date cell; a time of day is refused
        return value.date()
    return value


def _jsonl_rows(path: Path, columns: Columns) -> Iterator[Row]:
    """One product per line; a line that is not UTF-8 or not a JSON object is an error for that line
    alone (each line is decoded by itself)."""
    try:
        with path.open("rb") as handle:
            for number, line, trouble in json_lines(handle):
                if trouble is not None:
                    row = Row(f"line {number}", number, f"(line {number})")
                    row.problem = Problem(row.where, trouble.message, trouble.fix)
                    yield row
                    continue
                if not line.strip():
                    continue
                try:
                    item = json.loads(line, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
                except json.JSONDecodeError as exc:
                    row = Row(f"line {number}", number, f"(line {number})")
                    row.problem = Problem(row.where, f"not JSON: {exc.msg} at column {exc.colno}",
                                          "write one JSON object per line, e.g. {\"product\": \"A\", ...}")
                    yield row
                    continue
                for row in _mapping_rows([item], columns, str(path)):
                    row.number, row.where = number, f"line {number}"
                    if row.problem is not None and row.product == "(#1)":  # it has no id
                        row.product = f"(line {number})"
                    if row.problem is not None:
                        row.problem = Problem(row.where, row.problem.message, row.problem.fix, row.problem.key)
                    yield row
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot read the JSON lines: {exc.strerror or exc}",
                                 "check the path and that the file can be read"))


def _document_rows(path: Path, suffix: str, columns: Columns) -> Iterator[Row]:
    if suffix == ".json":
        text = document_text(path)
        try:
            data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
        except json.JSONDecodeError as exc:
            raise InputError(Problem(f"{path} line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}",
                                     "fix the JSON syntax at that place"))
    else:
        data, problems = load_yaml(path, str(path), text=document_text(path))
        if problems:
            raise InputError(problems[0])
    if isinstance(data, dict) and "products" in data:
        data = data["products"]
    if not isinstance(data, list):
        raise InputError(Problem(str(path), "expected a list of products (or 'products:' with a list)",
                                 "write one mapping per product, each with a 'product' key"))
    yield from _mapping_rows(data, columns, str(path))


def _mapping_rows(data: list[Any], columns: Columns | None = None, file: str = "") -> Iterator[Row]:
    """Rows from mappings; with `columns`, each key read as a header is (a test case's or a docs
    example's keys, read without, must be the vocabulary's names)."""
    for index, item in enumerate(data, start=1):
        line = getattr(item, "line", 0)
        where = f"product #{index}" + (f" (line {line})" if line else "")
        if not isinstance(item, dict):
            row = Row(where, index, f"(#{index})")
            row.problem = Problem(where, f"is {_clipped(item)}, not a mapping of facts",
                                  "write 'product: ID' and its facts")
            yield row
            continue
        values = dict(item)
        if isinstance(values.get("facts"), dict):
            values.update(values.pop("facts"))
        units: dict[str, str] = {}
        problem = None
        if columns is not None:
            values, units, problem = _keys_read(values, columns, where, file)
        row = Row(where, index, "")
        row.units, row.problem = units, problem
        _reserved(row, values, f"(#{index})")
        row.raw = {k: v for k, v in values.items() if k not in RESERVED}
        yield row


def _clipped(value: Any) -> str:
    shown = written(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _keys_read(values: dict, columns: Columns, where: str, file: str) -> tuple[dict, dict, Problem | None]:
    """A mapping's keys read as headers: the values by name, the units keys give, and the row's
    problem (a key whose unit is not a unit; in strict mode an unknown key with a value)."""
    out: dict[str, Any] = {}
    units: dict[str, str] = {}
    problem = None
    for key, value in values.items():
        try:
            name, unit = columns.resolve(key)
        except UnitError as exc:
            problem = problem or Problem(f"{where}, {clean(str(key))}", exc.message, exc.fix, str(key))
            continue
        if name is None:
            unknown = columns.unknown(where, file, key)
            if columns.strict and value not in (None, ""):
                problem = problem or unknown
            continue
        if name in out:
            problem = problem or Problem(where, f"two keys give {name}", "keep one of them", name)
        out[name] = value
        if unit:
            units[name] = unit
    return out, units, problem
