"""Read a catalog (CSV, XLSX, JSON, YAML) and normalize each product's facts against definitions/."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.io.columns import Columns
from ampc.rules.model import FactDef, RuleSet, is_number
from ampc.rules.units import UnitError, convert, parse_decimal, split_quantity
from ampc.rules.words import clean, fold
from ampc.rules.yamlio import load_yaml

RESERVED = ("product", "description", "as_of")
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


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


def iter_catalog(path: Path | str, ruleset: RuleSet, columns: Columns | None = None) -> Iterator[Row]:
    """The catalog's rows one at a time, each checked and normalized as it is read (a file that
    cannot be used at all raises InputError when the first row is asked for). `columns` says how
    headers are read; without it an unknown column is an error for each row that fills it."""
    columns = columns or Columns(ruleset.facts, strict=True)
    return prepare_iter(iter_rows(Path(path), "catalog", columns), ruleset)


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


def read_rows(path: Path, what: str, columns: Columns) -> list[Row]:
    """The rows of a CSV, XLSX, JSON, JSONL or YAML file, each located by file and row."""
    return list(iter_rows(path, what, columns))


def iter_rows(path: Path, what: str, columns: Columns) -> Iterator[Row]:
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
        if fact.computed and not fact.given_instead_of:  # one that may be given is checked by add_computed
            return Problem(row.where, f"'{key}' is computed from other facts, not read from a catalog",
                           "remove the column and give the facts it is computed from "
                           "(`ampc facts` shows them)", key)
        if fact.derived:
            return Problem(row.where, f"'{key}' is concluded by the rules, not read "
                           "from a catalog", "remove the column; the decision record shows it", key)
    return None


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


def _table_rows(path: Path, header: list[Any], lines: Iterator[tuple[int, list[Any]]],
                columns: Columns) -> Iterator[Row]:
    parsed = _header(path, header, columns)
    names = [f for f, _ in parsed]
    for number, cells in lines:
        if all(c in (None, "") for c in cells):
            continue
        values = {f: c for f, c in zip(names, cells) if f}
        where = f"row {number}"
        row = Row(where, number, str(values.pop("product", "") or "").strip())
        row.units = {f: u for f, u in parsed if f and u}
        if len(cells) > len(parsed):
            row.problem = Problem(where, f"{len(cells)} cells but {len(parsed)} columns",
                                  "remove the extra cells or quote values that contain commas")
        if columns.strict and row.problem is None:
            for (f, _), name, cell in zip(parsed, header, cells):
                if f is None and cell not in (None, "") and name not in (None, ""):
                    row.problem = columns.unknown(where, str(path), name)
                    break
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


def _csv_rows(path: Path, columns: Columns) -> Iterator[Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InputError(Problem(str(path), "the file is empty",
                                         "add a header row and one row per product"))
            yield from _table_rows(path, header, enumerate(reader, start=2), columns)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem(str(path), f"cannot read the CSV file: {exc}", "save it as UTF-8 CSV"))


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
    cells = ([_xlsx_cell(c) for c in line] for line in lines)
    yield from _table_rows(path, list(header), ((i, row) for i, row in enumerate(cells, start=2)), columns)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _jsonl_rows(path: Path, columns: Columns) -> Iterator[Row]:
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
                for row in _mapping_rows([item], columns, str(path)):
                    row.number, row.where = number, f"line {number}"
                    if row.problem is not None:
                        row.problem = Problem(row.where, row.problem.message, row.problem.fix, row.problem.key)
                    yield row
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"cannot read the JSON lines: {exc}", "save it as UTF-8"))


def _document_rows(path: Path, suffix: str, columns: Columns) -> Iterator[Row]:
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
    yield from _mapping_rows(data, columns, str(path))


def _mapping_rows(data: list[Any], columns: Columns | None = None, file: str = "") -> Iterator[Row]:
    """Rows from mappings; with `columns`, each key read as a header is (a test case's or a docs
    example's keys, read without, must be the vocabulary's names)."""
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
        units: dict[str, str] = {}
        problem = None
        if columns is not None:
            values, units, problem = _keys_read(values, columns, where, file)
        row = Row(where, index, str(values.pop("product", "") or "").strip())
        row.units, row.problem = units, problem
        _reserved(row, values)
        row.raw = {k: v for k, v in values.items() if k not in RESERVED}
        yield row


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
    """Add every computed fact whose inputs are all given (a missing input leaves it missing). One
    that definitions/ let a catalog give instead of its inputs (given_instead_of), and that is
    given, is used as given, once checked against its range and its inputs (check_given)."""
    from ampc.rules.formula import evaluate
    for name, fact in vocabulary.items():
        if fact.computed and facts.get(name) is None:
            facts[name] = evaluate(fact, facts, vocabulary)
        elif fact.computed and fact.given_instead_of:
            check_given(fact, facts, vocabulary)


def check_given(fact: FactDef, facts: dict[str, Any], vocabulary: dict[str, FactDef]) -> None:
    """A computed fact given by the catalog: within the fact's range; and where every fact it is
    computed from is given too, the same number they give to the decimal places it is written with
    in the fact's unit (62.5 % agrees with a computed 62.4999... % and with 62.45 %, not with
    62.4 %): the two are one fact written twice, and the row cannot say which is meant. With only
    some of its inputs given, the given value stands alone. Raises UnitError naming both values."""
    from decimal import ROUND_HALF_EVEN

    from ampc.io.report import unit_text, value_text
    from ampc.records.record import quantity
    from ampc.rules.formula import PLACES, evaluate, facts_used

    def shown(value: Decimal, unit: str = fact.unit) -> str:
        return value_text(quantity(value, unit))

    given = Decimal(facts[fact.name])
    exponent = max(int(given.as_tuple().exponent), int(PLACES.as_tuple().exponent))  # its last place written
    as_written = f"{given.quantize(Decimal(1).scaleb(min(exponent, 0))):,f} {unit_text(fact.unit)}".strip()
    low, high = fact.minimum, fact.maximum
    if (low is not None and given < low) or (high is not None and given > high):
        span = (f"from {shown(low)} to {shown(high)}" if low is not None and high is not None
                else f"at least {shown(low)}" if low is not None else f"at most {shown(high)}")
        raise UnitError(f"{fact.name} is given as {as_written}, outside the values it can take ({span})",
                        f"give {fact.name} {span}, or the facts it is computed from instead")
    computed = evaluate(fact, facts, vocabulary)
    if computed is None:
        return
    if abs(computed - given) <= Decimal(5).scaleb(exponent - 1):  # rounds to the given value
        return
    close = computed.quantize(Decimal(1).scaleb(min(exponent - 2, 0)), rounding=ROUND_HALF_EVEN)
    inputs = ", ".join(f"{n} {shown(facts[n], vocabulary[n].unit)}" for n in dict.fromkeys(facts_used(fact.computed)))
    raise UnitError(f"{fact.name} is given as {as_written}, but the facts it is computed from give "
                    f"{'about ' if close != computed else ''}{shown(close)} ({inputs})",
                    f"give either {fact.name} or the facts it is computed from, or correct them so that "
                    f"they agree")


def normalize_value(fact: FactDef, raw: Any, header_unit: str, ruleset: RuleSet) -> Any:
    """One raw value as the fact's type: missing stays None, never false or zero."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if fact.type == "bool":
        return _yes_no(raw)
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
    """Free text compared without regard to case or spacing: 'Acme', ' acme ' and 'ACME' are one value."""
    return clean(str(raw)).lower()


def _yes_no(raw: Any) -> bool:
    """yes/no, true/false, y/n or 1/0, in any case; anything else is an error, never false."""
    if isinstance(raw, bool):
        return raw
    if is_number(raw) and raw in (0, 1):
        return raw == 1
    word = clean(str(raw)).casefold()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise UnitError(f"{written(clean(str(raw)))} is not yes or no",
                    "write yes or no (or true / false, y / n, 1 / 0)")


def _member(fact: FactDef, raw: Any) -> str:
    """The value a cell names: the value itself or one of its aliases, without regard to case,
    spacing, punctuation or invisible characters. A cell that names no value is an error listing the
    closest values, never a value that fails a rule."""
    value = fact.words.get(fold(raw))
    if value is not None:
        return value
    text = clean(str(raw))
    spelled = {w: v for v in fact.values for w in (v, *fact.value_aliases.get(v, ()))}
    close = difflib.get_close_matches(text.casefold(), [w.casefold() for w in spelled], n=6, cutoff=0.6)
    by_fold = {w.casefold(): w for w in spelled}
    nearest: dict[str, str] = {}  # value -> the closest word for it
    for w in close:
        nearest.setdefault(spelled[by_fold[w]], by_fold[w])
    hint = ""
    if nearest:
        hint = " (did you mean " + " or ".join(
            f"'{w}'" + (f" ({v})" if w != v else "") for v, w in list(nearest.items())[:3]) + "?)"
    listed = ", ".join(fact.values) if len(fact.values) <= 12 else ", ".join(fact.values[:12]) + ", ..."
    fix = f"write one of the values of {fact.name}: {listed}"
    if any(fact.value_aliases.values()):
        fix += " (or a word for one of them: `ampc facts` lists them)"
    raise UnitError(f"{written(text)} is not a value of {fact.name}{hint}", fix)



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
