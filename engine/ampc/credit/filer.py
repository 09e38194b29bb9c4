"""What the filer states besides the ledger: Form 7207 Part I from a facilities file (the fields
declared in definitions/facilities.yaml), the e-file elements of the form's other lines
(definitions/form_lines.yaml), and line 8b of an estate or trust. Typed data only; worksheet.py
writes it out."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from ampc.credit.model import CreditRun, Worksheet, cents
from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.io.values import FALSE, TRUE, as_date
from ampc.records import record as R
from ampc.rules.model import RuleSet
from ampc.rules.parse import Doc
from ampc.rules.units import UnitError
from ampc.rules.validate import check_doc
from ampc.rules.yamlio import load_yaml

FACILITIES_FILE = "definitions/facilities.yaml"
FORM_LINES_FILE = "definitions/form_lines.yaml"
_TIN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$|^\d{2}-?\d{7}$")
_COORDINATE = {"latitude": (Decimal(90), 2), "longitude": (Decimal(180), 3)}  # limit, digits before the point


@dataclass(frozen=True)
class FieldDef:
    """One field of a facilities file: the Part I line it fills, in the form's words, with its element."""

    name: str
    type: str
    label: str
    description: str
    line: str = ""
    efile: str | dict = ""  # the element, or by the value of `efile_by` the element for each
    efile_by: str = ""
    values: tuple[str, ...] = ()
    required: bool = False
    feeds: str = ""  # the bool product fact its answer states for the facility's components
    role: str = ""


@dataclass(frozen=True)
class FormLine:
    """A line without columns (a) to (e): its part, number, the form's label and its e-file element."""

    part: str
    line: str
    label: str
    efile: str


@dataclass(frozen=True)
class FormLines:
    part_ii: dict[str, FormLine]  # 7, 8a, 8b, 8c
    part_iii_total: FormLine
    part_iv_total: FormLine
    part_iv: dict[str, str]  # Part IV line 1..73 -> its e-file element


@dataclass
class Facility:
    """One facility's Part I as the facilities file gives it: values as the form takes them (text,
    yes/no as bool), and the product facts its answers state (`feeds`)."""

    facility: str
    where: str
    values: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, bool] = field(default_factory=dict)  # product fact -> the facility's answer
    fed_by: dict[str, str] = field(default_factory=dict)  # product fact -> the field (for messages)


# ---------------------------------------------------------------------------------------------------
# the declarations

def _doc(root: Path, rel: str, kind: str) -> Any:
    data, problems = load_yaml(root / rel, rel)
    if data is not None and not problems:
        problems = check_doc(Doc(kind, rel, data))
    if problems:
        raise InputError(problems[0])
    return data


@cache
def _fields(root: str) -> dict[str, FieldDef]:
    data = _doc(Path(root), FACILITIES_FILE, "facilities")
    out = {}
    for name, spec in data["fields"].items():
        efile = spec.get("efile", "")
        out[str(name)] = FieldDef(
            str(name), str(spec["type"]), " ".join(str(spec["label"]).split()),
            " ".join(str(spec["description"]).split()), str(spec.get("line", "")),
            {str(k): str(v) for k, v in efile.items()} if isinstance(efile, dict) else str(efile),
            str(spec.get("efile_by", "")), tuple(str(v) for v in spec.get("values", ())),
            bool(spec.get("required", False)), str(spec.get("feeds", "")), str(spec.get("role", "")))
    return out


def fields(ruleset: RuleSet) -> dict[str, FieldDef]:
    """The fields of definitions/facilities.yaml, checked against the rule set (InputError if not)."""
    out = _fields(ruleset.root)
    keys = [f.name for f in out.values() if f.role == "facility"]
    if len(keys) != 1:
        raise InputError(Problem(FACILITIES_FILE, f"{len(keys)} fields have role facility",
                                 "give exactly one field 'role: facility', the facility id"))
    for f in out.values():
        fact = ruleset.facts.get(f.feeds) if f.feeds else None
        if f.feeds and (fact is None or fact.type != "bool" or f.type != "yes_no"):
            raise InputError(Problem(FACILITIES_FILE, f"field '{f.name}' feeds '{f.feeds}', which is not a bool "
                                     f"fact{did_you_mean(f.feeds, ruleset.facts)} (or the field is not yes_no)",
                                     "name a bool fact of definitions/facts/ on a yes_no field", f.name))
        chooser = out.get(f.efile_by) if f.efile_by else None
        if f.efile_by and (chooser is None or set(chooser.values) != set(f.efile if isinstance(f.efile, dict)
                                                                         else ())):
            raise InputError(Problem(FACILITIES_FILE, f"field '{f.name}': efile_by '{f.efile_by}' is not an enum "
                                     "field whose values are the keys of its efile", "make them agree", f.name))
    return out


def key_field(ruleset: RuleSet) -> str:
    return next(f.name for f in fields(ruleset).values() if f.role == "facility")


@cache
def _form_lines(root: str) -> FormLines:
    data = _doc(Path(root), FORM_LINES_FILE, "form_lines")

    def line(part: str, number: str, spec: Any) -> FormLine:
        return FormLine(part, str(spec.get("line", number)), " ".join(str(spec["label"]).split()), str(spec["efile"]))

    return FormLines({str(k): line("II", str(k), v) for k, v in data["part_ii"].items()},
                     line("III", "", data["part_iii"]["total"]), line("IV", "74", data["part_iv"]["total"]),
                     {str(k): str(v) for k, v in data["part_iv"]["lines"].items()})


def form_lines(ruleset: RuleSet) -> FormLines:
    """The e-file elements and labels of lines 7, 8a to 8c, Part III's total and Part IV's lines."""
    return _form_lines(ruleset.root)


def efile_of(f: FieldDef, values: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The field's element, or ('', the alternatives) where the field choosing it is not given."""
    if isinstance(f.efile, str):
        return f.efile, ()
    chosen = values.get(f.efile_by)
    return (f.efile[chosen], ()) if chosen in f.efile else ("", tuple(f.efile.values()))


# ---------------------------------------------------------------------------------------------------
# a facilities file

def read_facilities(path: Path, ruleset: RuleSet) -> dict[str, Facility]:
    """Each facility's Part I by its id (InputError naming the file, row, key and fix)."""
    defs = fields(ruleset)
    key = key_field(ruleset)
    records = _records(path)
    out: dict[str, Facility] = {}
    for where, raw in records:
        for name in raw:
            if name not in defs:
                raise InputError(Problem(where, f"unknown key '{name}'{did_you_mean(str(name), defs)}",
                                         f"use the fields of {FACILITIES_FILE}: {', '.join(defs)}", str(name)))
        missing = [f for f in defs.values() if f.required and f.name not in raw]
        if missing:
            f = missing[0]
            line = f" (Form 7207 Part I, line {f.line})" if f.line else ""
            raise InputError(Problem(where, f"no '{f.name}'{line}",
                                     f"add '{f.name}' to every facility: {f.description}", f.name))
        facility = Facility("", where)
        for f in defs.values():
            value = _value(f, raw.get(f.name), where)
            if value is None and f.required:
                raise InputError(Problem(where, f"'{f.name}' is empty", _fix(f), f.name))
            if value is not None:
                facility.values[f.name] = value
                if f.feeds:
                    facility.feeds[f.feeds] = value
                    facility.fed_by[f.feeds] = f.name
        for f in defs.values():
            if f.efile_by and f.name in facility.values and f.efile_by not in facility.values:
                raise InputError(Problem(where, f"'{f.name}' is given without '{f.efile_by}'",
                                         f"give {f.efile_by} ({' or '.join(defs[f.efile_by].values)}): it decides "
                                         f"the e-file element of line {f.line}", f.efile_by))
        facility.facility = str(facility.values[key])
        if facility.facility in out:
            raise InputError(Problem(where, f"facility '{facility.facility}' appears again (first at "
                                     f"{out[facility.facility].where})", "give each facility once", key))
        out[facility.facility] = facility
    return out


def _records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, the record's keys and values) per facility, from CSV, YAML or JSON."""
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file", "check the path to the facilities file"))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_records(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(Problem(str(path), f"cannot read the JSON: {exc}", "fix the JSON syntax at that place"))
    elif suffix in (".yaml", ".yml"):
        data, problems = load_yaml(path, str(path))
        if problems:
            raise InputError(problems[0])
    else:
        raise InputError(Problem(str(path), f"unknown facilities file format '{suffix}'",
                                 "give a .csv, .yaml, .yml or .json file"))
    if isinstance(data, dict) and "facilities" in data:
        data = data["facilities"]
    if not isinstance(data, list):
        raise InputError(Problem(str(path), "expected a list of facilities (or 'facilities:' with a list)",
                                 "write one mapping per facility, each with a 'facility' key"))
    out = []
    for index, item in enumerate(data, start=1):
        line = getattr(item, "line", 0)
        where = f"{path} facility #{index}" + (f" (line {line})" if line else "")
        if not isinstance(item, dict):
            raise InputError(Problem(where, "is not a mapping", "write 'facility: ID' and its Part I fields"))
        out.append((where, {str(k): v for k, v in item.items()}))
    return out


def _csv_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            if not header:
                raise InputError(Problem(str(path), "the file is empty", "add a header row and one row per facility"))
            rows = []
            for number, cells in enumerate(reader, start=2):
                if all(not c.strip() for c in cells):
                    continue
                if len(cells) > len(header):
                    raise InputError(Problem(f"{path} row {number}", f"{len(cells)} cells but {len(header)} columns",
                                             "remove the extra cells or quote values that contain commas"))
                rows.append((f"{path} row {number}", dict(zip(header, cells))))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem(str(path), f"cannot read the CSV file: {exc}", "save it as UTF-8 CSV")) from None


def _fix(f: FieldDef) -> str:
    return {"yes_no": "write yes or no",
            "date": "write the date as YYYY-MM-DD",
            "tin": "write the nine digits of the SSN (123-45-6789) or EIN (12-3456789)",
            "enum": f"use one of: {', '.join(f.values)}",
            "latitude": "write decimal degrees from -90 to +90 with at most six decimals, e.g. 33.448376",
            "longitude": "write decimal degrees from -180 to +180 with at most six decimals, e.g. -112.074036",
            }.get(f.type, f"give the {f.label.lower()}")


def _value(f: FieldDef, raw: Any, where: str) -> Any:
    """The value as the form takes it: text; yes/no as bool; a date, TIN or coordinate as its text."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    bad = InputError(Problem(f"{where}, {f.name}", f"{written(raw)} is not a valid {f.type.replace('_', '/')} "
                             f"for line {f.line or f.name}", _fix(f), f.name))
    text = str(raw).strip()
    if f.type == "yes_no":
        if isinstance(raw, bool):
            return raw
        if text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        raise bad
    if f.type == "date":  # a day, as every date of the catalog and ledger: no time of day, no number
        try:
            return as_date(raw).isoformat()
        except UnitError as exc:
            raise InputError(Problem(f"{where}, {f.name}", f"{f.name} {exc.message} (line {f.line or f.name})",
                                     exc.fix, f.name)) from None
    if f.type == "enum":
        for v in f.values:
            if text.lower() == v.lower():
                return v
        raise bad
    if f.type == "tin":
        if not _TIN.match(text):
            raise bad
        return text.replace("-", "")
    if f.type in _COORDINATE:
        limit, digits = _COORDINATE[f.type]
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise bad from None
        if not number.is_finite() or abs(number) > limit or -number.as_tuple().exponent > 6:
            raise bad
        return ("-" if number < 0 else "+") + format(abs(number), f"0{digits + 7}.6f")
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------------
# the facility's answers as product facts (lines 5 and 6)

def fed_facts(facilities: dict[str, Facility] | None, facility: str, product_facts: dict[str, Any],
              sale_where: str, product: str) -> dict[str, Any] | R.Problem:
    """The facts the facility's Part I states for the sale's product. Where the product states a fact
    itself, it must agree: a conflict is an error for the sale, never settled silently either way
    (a "yes" on line 6 means no credit for the facility's components, 45X(c)(1)(B); a product that
    says otherwise, or the reverse, is a contradiction the filer must resolve)."""
    part_i = (facilities or {}).get(facility)
    if part_i is None:
        return {}
    for fact, answer in part_i.feeds.items():
        own = product_facts.get(fact)
        if own is not None and own != answer:
            f = part_i.fed_by[fact]
            return R.Problem(sale_where, f"product '{product}' gives {fact} {written(own)}, but facility "
                             f"'{facility}' answers '{f}' {'yes' if answer else 'no'} ({part_i.where})",
                             f"make the catalog and the facilities file agree, or remove {fact} from the "
                             "product: the facility's answer then applies to all its components", fact)
    return {fact: answer for fact, answer in part_i.feeds.items() if product_facts.get(fact) is None}


def attach(run: CreditRun, facilities: dict[str, Facility] | None) -> None:
    """Each worksheet's Part I, and the facilities of the file that no sale names."""
    if facilities is None:
        return
    run.facilities_given = True
    for sheet in run.worksheets:
        sheet.part_i = facilities.get(sheet.facility)
    named = {s.facility for s in run.worksheets}
    run.facilities_not_in_ledger = tuple(f for f in facilities if f not in named)


# ---------------------------------------------------------------------------------------------------
# line 8b: the amount of an estate's or trust's credit allocated to its beneficiaries

def parse_allocation(text: str) -> tuple[str | None, Decimal]:
    """'12345.67' or 'FACILITY=12345.67' (ValueError with the fix otherwise): USD, to the cent, not negative."""
    facility, sep, amount = text.rpartition("=")
    amount = amount.strip().replace(",", "").removeprefix("$")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValueError(f"'{text}' is not an amount in dollars (fix: write e.g. 12500.00, or PLANT-A=12500.00)")
    if value < 0:
        raise ValueError(f"'{text}' is negative (fix: line 8b is the beneficiaries' share of line 8a, 0 or more)")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"'{text}' has more than two decimals (fix: give the amount to the cent)")
    return (facility.strip() or None) if sep else None, value


def allocate(run: CreditRun, allocations: list[tuple[str | None, Decimal]]) -> None:
    """Line 8b of each worksheet the allocations name (InputError if one cannot be placed or exceeds 8a)."""
    if not allocations:
        return
    where = "--estate-or-trust-allocated"
    for facility, amount in allocations:
        if facility is None:
            if len(run.worksheets) != 1:
                names = ", ".join(sorted({s.facility for s in run.worksheets})) or "none"
                raise InputError(Problem(where, f"{len(run.worksheets)} worksheets ({names}), so the amount "
                                         "needs its facility", "write FACILITY=AMOUNT, once per facility"))
            sheets = run.worksheets
        else:
            sheets = [s for s in run.worksheets if s.facility == facility]
            if not sheets:
                raise InputError(Problem(where, f"no worksheet for facility '{facility}'"
                                         f"{did_you_mean(facility, [s.facility for s in run.worksheets])}",
                                         "name a facility of the ledger"))
            if len(sheets) > 1:
                raise InputError(Problem(where, f"facility '{facility}' has {len(sheets)} taxable years",
                                         "give --tax-year so that each facility has one worksheet"))
        sheet: Worksheet = sheets[0]
        line_8a = cents(sheet.total)
        if amount > line_8a:
            raise InputError(Problem(where, f"line 8b ${amount:,.2f} is more than line 8a ${line_8a:,.2f} "
                                     f"of facility {sheet.facility}", "line 8b is the beneficiaries' share of "
                                     f"line 8a: give at most {line_8a:.2f}"))
        sheet.allocated_to_beneficiaries = amount


def line_8c(sheet: Worksheet) -> Decimal | None:
    """Line 8a (to the cent) less line 8b, for an estate or trust; None for any other filer."""
    if sheet.allocated_to_beneficiaries is None:
        return None
    return cents(sheet.total) - sheet.allocated_to_beneficiaries
