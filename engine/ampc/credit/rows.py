"""The worksheet as typed rows: the content the CSV and the XLSX share. One dict per entry of the
form (Part I; Part II lines 1a to 8c; Part III; Part IV lines 1 to 74), per sale counted with the
parts of its arithmetic, per sale rejected or undetermined, and per note, keyed by the CSV's field
names. Values stay typed (Decimal, date, int, str, a tuple of Decimals, None for a blank):
ampc.credit.csvfile writes them as plain text, ampc.credit.xlsx as numeric and date cells. Rows are
made as the sales are read, so a ledger of any length passes through in bounded memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ampc.credit import filer
from ampc.credit.model import SALE_DATE, USD, CreditRun, Worksheet, cents, dollars
from ampc.credit.worksheet import (
    ROUNDING,
    cap_notes,
    editions_text,
    flag_notes,
    form_lines,
    line_rate,
    part_i,
    part_i_efile,
    part_i_value,
    part_iv_labels,
    product_of,
    tax_year_text,
    vessel_field,
)
from ampc.io.catalog import Row
from ampc.io.report import reason
from ampc.records import record as R
from ampc.rules.model import RuleSet

Entry = dict[str, Any]

# The CSV's columns: the form's (as the CSV has always had them), then the sales' arithmetic, Part
# III's vessel columns and the notes'. Every row fills the fields of its `status`.
FIELDS = ("facility", "line", "component", "unit", "rate", "aggregate", "aggregate_unit", "sales",
          "phase_out_percent", "credit", "credit_whole_dollars", "credit_exact", "status", "product", "settled_by",
          "part", "value", "efile_d", "efile",
          "rate_unit", "rate_param", "rate_since", "file", "row", "sale_date", "production_date", "units",
          "per_unit", "per_unit_unit", "rated_per_unit", "base_source", "before_phase_out", "phase_out_keyed_on",
          "phase_out_date", "claimed_line", "review", "outcome", "decided_by", "reason",
          "purpose", "official_number", "new_or_retrofitted", "kind", "where", "count", "note")

# The kinds of note, per facility and for the run; SALE_NOTES are the ones the text prints under
# "Notes and flags", sale by sale.
SALE_NOTES = ("booked_to_other_line", "review", "cap")
ESTATES_AND_TRUSTS = ("8b", "8c")  # blank unless an allocation to beneficiaries is given


# ---------------------------------------------------------------------------------------------------
# the form

def form_rows(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    """The facility's form, line by line: Part I (with a facilities file), Part II lines 1a to 6b with
    columns (a) to (e), lines 7 and 8a to 8c, Part III's vessels and total, Part IV lines 1 to 74."""
    yield from part_i_rows(run, ruleset, sheet)
    yield from part_ii_rows(ruleset, sheet)
    yield from part_iii_rows(ruleset, sheet)
    yield from part_iv_rows(ruleset, sheet)


def part_i_rows(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    p = part_i(run, ruleset, sheet)
    if p is None:
        return
    types = {f.name: f.type for f in filer.fields(ruleset).values()}
    for f in p.fields:
        value: Any = part_i_value(f.value)
        if types.get(f.field) == "date" and isinstance(f.value, str):
            value = dt.date.fromisoformat(f.value)  # the facilities file's date, held as the form's YYYY-MM-DD
        yield {"facility": sheet.facility, "part": "I", "line": f.line, "component": f.label,
               "status": "part_i" if p.listed else "part_i_not_in_file", "value": value, "efile": part_i_efile(f)}


def part_ii_rows(ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    """Lines 1a to 6b (each with its rate, even without sales), then 7, 8a, 8b and 8c."""
    for line in ruleset.line_order():
        total = sheet.lines.get(line)
        if total is None:
            continue
        some = bool(total.amounts)
        rate = line_rate(ruleset, total)
        yield {"facility": sheet.facility, "status": "line", "part": "II", "line": line,
               "component": total.credit.column_a, "unit": total.credit.column_b,
               "rate": rate.value.value if rate else None, "rate_unit": rate.value.unit if rate else "",
               "rate_param": rate.param if rate else total.credit.rate, "rate_since": rate.since if rate else None,
               "aggregate": total.aggregate if some else None, "aggregate_unit": total.unit,
               "sales": len(total.amounts), "phase_out_percent": tuple(total.phase_outs),
               "credit": cents(total.total) if some else None,
               "credit_whole_dollars": dollars(total.total) if some else None,
               "credit_exact": total.total if some else None,
               "efile_d": total.credit.efile.get("d", ""), "efile": total.credit.efile.get("e", "")}
    for x in form_lines(ruleset, sheet):
        if x.part != "II":
            continue
        a = x.amount
        status = "not_computed" if x.line == "7" else "total" if a is not None else "blank"
        yield {"facility": sheet.facility, "status": status, "part": "II", "line": x.line, "component": x.label,
               "credit": a.cents if a else None, "credit_whole_dollars": a.whole_dollars if a else None,
               "credit_exact": a.exact if a else None, "efile": x.efile}


def part_iii_rows(ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    """The related offshore wind vessels, one line each, and the total of their sales prices (to
    Part II, line 2a, column (d)); the total blank where none was sold."""
    total = Decimal(0)
    for number, a in enumerate(sheet.vessels, start=1):
        total += a.base.amount.value
        yield {"facility": sheet.facility, "status": "vessel", "part": "III", "line": str(number),
               "component": vessel_field(a, "name"), "purpose": vessel_field(a, "purpose"),
               "official_number": vessel_field(a, "official_number"),
               "new_or_retrofitted": vessel_field(a, "status"),
               "aggregate": a.base.amount.value, "aggregate_unit": USD, **_sale(a.row)}
    t = filer.form_lines(ruleset).part_iii_total
    some = bool(sheet.vessels)
    yield {"facility": sheet.facility, "status": "part_iii_total", "part": "III", "line": t.line, "component": t.label,
           "aggregate": total if some else None, "aggregate_unit": USD if some else "", "efile": t.efile}


def part_iv_rows(ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    """Lines 1 to 73, each mineral and form with the costs incurred (blank where none), and line 74,
    their total (to Part II, line 6a, column (d))."""
    lines = filer.form_lines(ruleset)
    labels = part_iv_labels(ruleset)
    costs = sheet.part_iv()
    numbers = [*lines.part_iv, *(k for k in costs if k not in lines.part_iv)]
    for k in numbers:
        v = costs.get(k)
        yield {"facility": sheet.facility, "status": "part_iv", "part": "IV", "line": k, "component": labels.get(k, ""),
               "aggregate": v, "aggregate_unit": USD if v is not None else "", "efile": lines.part_iv.get(k, "")}
    t = lines.part_iv_total
    yield {"facility": sheet.facility, "status": "part_iv_total", "part": "IV", "line": t.line, "component": t.label,
           "aggregate": sum(costs.values(), Decimal(0)) if costs else None, "aggregate_unit": USD if costs else "",
           "efile": t.efile}


# ---------------------------------------------------------------------------------------------------
# the sales

def sale_rows(sheet: Worksheet) -> Iterator[Entry]:
    """Every sale counted, line after line, with its arithmetic: units x value per unit = column (d);
    x rate = before the phase-out; x the phase-out percentage = its credit."""
    for a in sheet.amounts:
        b, p, cap = a.base, a.phase_out, a.base.cap
        yield {"facility": sheet.facility, "status": "sale", "part": "II", "line": a.line, **_sale(a.row),
               "production_date": a.record.dates.production, "units": b.units,
               "per_unit": b.per_unit.value if b.per_unit else None,
               "per_unit_unit": b.per_unit.unit if b.per_unit else "",
               "rated_per_unit": cap.rated.value if cap else None, "base_source": b.source,
               "aggregate": b.amount.value, "aggregate_unit": b.amount.unit,
               "rate": a.rate.value.value, "rate_unit": a.rate.value.unit, "rate_param": a.rate.param,
               "rate_since": a.rate.since, "before_phase_out": a.before_phase_out,
               "phase_out_percent": p.percent if p else None, "phase_out_keyed_on": p.keyed_on if p else "",
               "phase_out_date": p.date if p else None, "credit": cents(a.credit), "credit_exact": a.credit,
               "claimed_line": a.claimed.claimed if a.claimed else "", "review": a.review,
               **_decision(a.record)}


def rejected_rows(sheet: Worksheet) -> Iterator[Entry]:
    """The sales not on the form, with the line their product meets (if any) and the base it would
    have carried there."""
    for r in sheet.rejected:
        yield {"facility": sheet.facility, "status": "rejected", "line": r.record.classified_line or "",
               **_sale(r.row), "aggregate": r.base.value if r.base else None,
               "aggregate_unit": r.base.unit if r.base else "", **_decision(r.record)}


def undetermined_rows(sheet: Worksheet) -> Iterator[Entry]:
    """The undetermined sales, one row for each line a sale may meet, with what it would carry there."""
    for p in sheet.pending:
        for s in p.at_stake or (None,):
            yield {"facility": sheet.facility, "status": "undetermined", "line": s.line if s else "", **_sale(p.row),
                   "aggregate": s.base.value if s and s.base else None,
                   "aggregate_unit": s.base.unit if s and s.base else "",
                   "credit": cents(s.credit) if s and s.credit is not None else None,
                   "credit_exact": s.credit if s and s.credit is not None else None,
                   "settled_by": " ".join(p.record.missing), **_decision(p.record)}


def _sale(row: Row) -> Entry:
    return {"product": product_of(row), "file": row.file, "row": row.number,
            "sale_date": row.roles.get(SALE_DATE)}


def _decision(d: R.Decision) -> Entry:
    return {"outcome": d.outcome, "decided_by": " ".join(d.decided_by), "reason": reason(d)}


# ---------------------------------------------------------------------------------------------------
# the notes

def facility_notes(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[Entry]:
    """What the text prints besides the form: the rules and editions, Part I left blank, each sale's
    flags (booked to another line, an open reading) and caps, the undetermined and rejected sales'
    totals, and how the amounts are rounded."""
    def note(kind: str, text: str, **fields: Any) -> Entry:
        return {"facility": sheet.facility, "status": "note", "kind": kind, "note": text, **fields}

    yield note("rules", f"rules {run.ruleset.name} (sha256 {run.ruleset.sha256}){editions_text(sheet)}")
    p = part_i(run, ruleset, sheet)
    if p is None:
        yield note("part_i", "Part I, lines 1 to 6: not given (give --facilities FILE)", part="I")
    elif not p.listed:
        yield note("part_i", f"facility {sheet.facility} is not in the facilities file: Part I is left blank",
                   part="I")
    for a in sheet.amounts:
        where = {"line": a.line, "where": a.row.where, "product": product_of(a.row)}
        for kind, text in flag_notes(a):
            yield note(kind, text, **where)
        for text in cap_notes(a, sheet.lines[a.line].credit.notes):
            yield note("cap", text, **where)
    if sheet.pending:
        yield note("undetermined", "undetermined sales: not on the form until the facts that settle them are "
                   "given; the amount is the most they would add", count=len(sheet.pending),
                   aggregate=sheet.at_stake, aggregate_unit=USD)
    for t in sheet.rejected_totals():
        meets = f"whose products meet line {t.line}" if t.line else "whose products meet no line"
        text = f"rejected sales {meets}: not on the form"
        for base in t.bases or (None,):
            yield note("rejected", text + ("; the amount is the base they held" if base else ""), line=t.line or "",
                       count=t.sales, aggregate=base.value if base else None,
                       aggregate_unit=base.unit if base else "")
    yield note("rounding", ROUNDING)


def run_notes(run: CreditRun) -> Iterator[Entry]:
    """The run's own notes: facilities no sale names, sales outside the taxable year, rows that could
    not be computed (each with where it is and the fix)."""
    def note(kind: str, text: str, **fields: Any) -> Entry:
        return {"facility": "", "status": "note", "kind": kind, "note": text, **fields}

    if run.facilities_not_in_ledger:
        yield note("unlisted_facilities", "facilities in the facilities file that no sale names (ignored): "
                   + ", ".join(run.facilities_not_in_ledger))
    if run.outside_year:
        yield note("outside_tax_year", f"sales outside {tax_year_text(run.tax_year)}: not counted",
                   count=len(run.outside_year))
    for problem in run.errors:
        yield note("error", problem.message + (f"; fix: {problem.fix}" if problem.fix else ""), where=problem.where)


def note_rows(run: CreditRun, ruleset: RuleSet) -> Iterator[Entry]:
    for sheet in run.worksheets:
        yield from facility_notes(run, ruleset, sheet)
    yield from run_notes(run)


def all_rows(run: CreditRun, ruleset: RuleSet) -> Iterator[Entry]:
    """Everything, as the CSV lists it: each facility's form, sales, rejected and undetermined sales
    and notes, then the run's notes."""
    for sheet in run.worksheets:
        yield from form_rows(run, ruleset, sheet)
        yield from sale_rows(sheet)
        yield from rejected_rows(sheet)
        yield from undetermined_rows(sheet)
        yield from facility_notes(run, ruleset, sheet)
    yield from run_notes(run)
