"""Read a catalog (CSV, XLSX, JSON, YAML) and normalize each product's facts against definitions/."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.rules.model import FactDef, RuleSet, is_number
from ampc.rules.units import UnitError, check_unit, convert, parse_decimal, split_quantity
from ampc.rules.yamlio import load_yaml

RESERVED = ("product", "description", "as_of")
_HEADER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[\[(]\s*([^\])]+?)\s*[\])])?\s*$")
TRUE = {"true", "yes", "y"}
FALSE = {"false", "no", "n"}


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


def read_catalog(path: Path | str, ruleset: RuleSet) -> list[Row]:
    """Every entry of the catalog as a Row; a row that cannot be normalized carries its problem."""
    return list(iter_catalog(path, ruleset))


def iter_catalog(path: Path | str, ruleset: RuleSet) -> Iterator[Row]:
    """The catalog's rows one at a time, each checked and normalized as it is read (a file that
    cannot be used at all raises InputError when the first row is asked for)."""
    return prepare_iter(iter_rows(Path(path), "catalog"), ruleset)


def prepare(rows: list[Row], ruleset: RuleSet) -> list[Row]:
    """Check each row's columns and id, and normalize its facts; a bad row carries its problem."""
    return list(prepare_iter(rows, ruleset))


def prepare_iter(rows: Iterable[Row], ruleset: RuleSet) -> Iterator[Row]:
    seen: dict[str, int] = {}  # product id -> its first row: a repeated id is an error for its row
    for row in rows:
        if row.problem is None:
            row.problem = column_problem(row, ruleset.facts)
        if row.problem is None and row.product in seen:
            row.problem = Problem(row.where, f"product '{row.product}' appears again (first in row "
                                  f"{seen[row.product]})", "give each product a unique id", "product")
        seen.setdefault(row.product, row.number)
        if row.problem is None:
            normalize(row, ruleset.facts, ruleset)
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


def read_rows(path: Path, what: str) -> list[Row]:
    """The rows of a CSV, XLSX, JSON, JSONL or YAML file, each located by file and row."""
    return list(iter_rows(path, what))


def iter_rows(path: Path, what: str) -> Iterator[Row]:
    """The rows of the file one at a time: CSV, JSON lines and XLSX (read-only) are streamed, JSON
    and YAML read whole. The file's own problems (missing, unknown format) raise here, at once."""
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file", f"check the path to the {what}"))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix == ".jsonl":
        rows = _jsonl_rows(path)
    elif suffix in (".json", ".yaml", ".yml"):
        rows = _document_rows(path, suffix)
    else:
        raise InputError(Problem(str(path), f"unknown {what} format '{suffix}'",
                                 "give a .csv, .xlsx, .json, .jsonl, .yaml or .yml file"))
    return _located(path, rows)


def _located(path: Path, rows: Iterator[Row]) -> Iterator[Row]:
    for row in rows:
        row.file = str(path)
        row.where = f"{path} {row.where}"
        if row.problem is not None:
            row.problem = Problem(f"{path} {row.problem.where}", row.problem.message, row.problem.fix,
                                  row.problem.key)
        yield row


def column_problem(row: Row, vocabulary: dict[str, FactDef]) -> Problem | None:
    """The first key of the row that is not a fact a catalog may give, as the row's problem."""
    known = [n for n, f in vocabulary.items() if not f.derived]
    for key in row.raw:
        fact = vocabulary.get(key)
        if fact is None:
            return Problem(row.where, f"unknown column or key '{key}'"
                           f"{did_you_mean(str(key), known + list(RESERVED))}",
                           "rename it to a fact from `ampc facts`, or remove it", str(key))
        if fact.computed:
            return Problem(row.where, f"'{key}' is computed from other facts, not read from a catalog",
                           "remove the column and give the facts it is computed from "
                           "(`ampc facts` shows them)", key)
        if fact.derived:
            return Problem(row.where, f"'{key}' is concluded by the rules, not read "
                           "from a catalog", "remove the column; the decision record shows it", key)
    return None


def _header(path: Path, names: list[str]) -> list[tuple[str, str]]:
    parsed = []
    for index, name in enumerate(names, start=1):
        match = _HEADER.match(str(name or ""))
        if not match:
            raise InputError(Problem(f"{path} header, column {index}", f"cannot read the column name {written(name)}",
                                     "write a fact name, optionally with its unit: ac_capacity [kW]"))
        fact, unit = match.group(1), match.group(2) or ""
        if unit:
            try:
                check_unit(unit)
            except UnitError as exc:
                raise InputError(Problem(f"{path} header, column {index} ({name})", exc.message, exc.fix))
        parsed.append((fact, unit))
    facts = [f for f, _ in parsed]
    if "product" not in facts:
        raise InputError(Problem(f"{path} header", "no 'product' column" + did_you_mean("product", facts),
                                 "add a 'product' column with a unique id for each product"))
    for fact in facts:
        if facts.count(fact) > 1:
            raise InputError(Problem(f"{path} header", f"column '{fact}' appears twice", "keep one of them"))
    return parsed


def _table_rows(path: Path, header: list[str], lines: Iterator[tuple[int, list[Any]]]) -> Iterator[Row]:
    columns = _header(path, header)
    for number, cells in lines:
        if all(c in (None, "") for c in cells):
            continue
        values = dict(zip([c for c, _ in columns], cells))
        where = f"row {number}"
        row = Row(where, number, str(values.pop("product", "") or "").strip())
        row.units = {c: u for c, u in columns if u}
        if len(cells) > len(columns):
            row.problem = Problem(where, f"{len(cells)} cells but {len(columns)} columns",
                                  "remove the extra cells or quote values that contain commas")
        _reserved(row, values)
        row.raw = {k: v for k, v in values.items() if k not in RESERVED}
        yield row


def _reserved(row: Row, values: dict) -> None:
    if not row.product and row.problem is None:
        row.problem = Problem(row.where, "the product id is empty", "give every row a product id", "product")
        row.product = f"(row {row.number})"
    row.description = str(values.get("description") or "").strip()
    as_of = values.get("as_of")
    if as_of not in (None, ""):
        try:
            row.as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of).strip())
        except ValueError:
            row.problem = row.problem or Problem(row.where, f"as_of {written(as_of)} is not a date",
                                                 "write it as YYYY-MM-DD", "as_of")


def _csv_rows(path: Path) -> Iterator[Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InputError(Problem(str(path), "the file is empty",
                                         "add a header row and one row per product"))
            yield from _table_rows(path, header, enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem(str(path), f"cannot read the CSV file: {exc}", "save it as UTF-8 CSV"))


def _xlsx_rows(path: Path) -> Iterator[Row]:
    import openpyxl

    try:
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(Problem(str(path), f"cannot read the workbook: {exc}", "save it as .xlsx"))
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None)
    if header is None:
        raise InputError(Problem(str(path), "the first sheet is empty", "put the catalog on the first sheet"))
    cells = ([_xlsx_cell(c) for c in line] for line in lines)
    yield from _table_rows(path, list(header), ((i, row) for i, row in enumerate(cells, start=2)))


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _jsonl_rows(path: Path) -> Iterator[Row]:
    """One product per line; a line that is not a JSON object is an error for that line alone."""
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    row = Row(f"line {number}", number, f"(line {number})")
                    row.problem = Problem(row.where, f"not JSON: {exc.msg} at column {exc.colno}",
                                          "write one JSON object per line, e.g. {\"product\": \"A\", ...}")
                    yield row
                    continue
                for row in _mapping_rows([item]):
                    row.number, row.where = number, f"line {number}"
                    if row.problem is not None:
                        row.problem = Problem(row.where, row.problem.message, row.problem.fix, row.problem.key)
                    yield row
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"cannot read the JSON lines: {exc}", "save it as UTF-8"))


def _document_rows(path: Path, suffix: str) -> Iterator[Row]:
    if suffix == ".json":
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text, parse_float=Decimal)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(Problem(str(path), f"cannot read the JSON: {exc}", "fix the JSON syntax at that place"))
    else:
        data, problems = load_yaml(path, str(path))
        if problems:
            raise InputError(problems[0])
    if isinstance(data, dict) and "products" in data:
        data = data["products"]
    if not isinstance(data, list):
        raise InputError(Problem(str(path), "expected a list of products (or 'products:' with a list)",
                                 "write one mapping per product, each with a 'product' key"))
    yield from _mapping_rows(data)


def _mapping_rows(data: list[Any]) -> Iterator[Row]:
    for index, item in enumerate(data, start=1):
        line = getattr(item, "line", 0)
        where = f"product #{index}" + (f" (line {line})" if line else "")
        if not isinstance(item, dict):
            row = Row(where, index, f"(#{index})")
            row.problem = Problem(where, "is not a mapping of facts", "write 'product: ID' and its facts")
            yield row
            continue
        values = dict(item)
        if isinstance(values.get("facts"), dict):
            values.update(values.pop("facts"))
        row = Row(where, index, str(values.pop("product", "") or "").strip())
        _reserved(row, values)
        row.raw = {k: v for k, v in values.items() if k not in RESERVED}
        yield row


def normalize(row: Row, vocabulary: dict[str, FactDef], ruleset: RuleSet) -> None:
    """Turn raw values into typed facts in canonical units; the first bad value becomes the row's problem."""
    for key, raw in row.raw.items():
        fact = vocabulary[key]
        try:
            row.facts[key] = normalize_value(fact, raw, row.units.get(key, ""), ruleset)
        except UnitError as exc:
            row.problem = Problem(f"{row.where}, {key}", exc.message, exc.fix, key)
            row.facts = {}
            return
    try:
        add_computed(row.facts, vocabulary)
    except UnitError as exc:
        row.problem = Problem(row.where, exc.message, exc.fix)
        row.facts = {}


def add_computed(facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> None:
    """Add every computed fact whose inputs are all given (a missing input leaves it missing)."""
    from ampc.rules.formula import evaluate
    for name, fact in vocabulary.items():
        if fact.computed and facts.get(name) is None:
            facts[name] = evaluate(fact, facts, vocabulary)


def normalize_value(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Any:
    """One raw value as the fact's type: missing stays None, never false or zero."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if fact.type == "bool":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        raise UnitError(f"{written(raw)} is not true or false", "write true or false (or yes / no)")
    if fact.type == "enum":
        return _member(fact, raw)
    if fact.type == "set":
        items = raw if isinstance(raw, list) else re.split(r"[;|]", str(raw))
        return frozenset(_member(fact, item) for item in items if str(item).strip())
    if fact.type == "quantity":
        return _quantity(fact, raw, header_unit, ruleset)
    if fact.type == "date":
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise UnitError(f"{written(raw)} is not a date", "write it as YYYY-MM-DD")
    return fold_text(raw)


def fold_text(raw: Any) -> str:
    """Free text compared without regard to case or spacing: 'Guam', ' guam ' and 'GUAM' are one value."""
    return " ".join(str(raw).split()).lower()


def _member(fact: FactDef, raw: Any) -> str:
    text = str(raw).strip()
    for value in fact.values:
        if text.lower() == value.lower():
            return value
    raise UnitError(f"{written(text)} is not an allowed value{did_you_mean(text, fact.values)}",
                    f"use one of: {', '.join(fact.values)}")


def _quantity(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Decimal:
    if isinstance(raw, bool):
        raise UnitError(f"{written(raw)} is not a quantity", f"write a number with its unit, e.g. '125 {fact.unit}'")
    if isinstance(raw, dict):
        if set(raw) - {"value", "unit"} or "value" not in raw:
            raise UnitError(f"{written(raw)} is not {{value, unit}}", "write {value: 125, unit: kW}")
        value = raw["value"] if is_number(raw["value"]) else parse_decimal(str(raw["value"]))
        unit = str(raw.get("unit") or "")
    elif is_number(raw):
        value, unit = Decimal(raw), ""
    elif isinstance(raw, float):
        value, unit = Decimal(repr(raw)), ""
    else:
        value, unit = split_quantity(str(raw))
    if unit and header_unit:
        raise UnitError(f"'{raw}' carries a unit and so does its column header ({header_unit})",
                        "give the unit in one place: either the header or the value")
    unit = unit or header_unit
    if not unit:
        if not fact.bare_number:
            raise UnitError(f"{written(raw)} has no unit, and {fact.name} does not take a bare number",
                            f"write its unit, e.g. '{raw} {fact.unit}' (a fraction such as 0.999 is '99.9 %')")
        return Decimal(value)  # a bare number is read in the canonical unit
    return convert(Decimal(value), unit, fact.unit, ruleset.refusals)
