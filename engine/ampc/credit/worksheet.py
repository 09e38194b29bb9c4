"""Renderers of the credit: the Form 7207 worksheet (Parts I to IV) as text and JSON, one line's
sales with their arithmetic, one unit's credit, and the helpers the other renderers share (the
form's lines without columns, Part I's entries, rates, flags and caps in words). They read the typed
credit (ampc.credit.compute) and the decision records; every number and sentence is written here or
in the renderers that import these helpers: ampc.credit.rows (the typed rows of the CSV and the
XLSX), ampc.credit.markdown. The text and one line's explanation are read a line of output at a time
(text_lines, explain_lines), so that ampc.credit.output writes a worksheet of any length in pieces.
Over 400 lines because the text worksheet and the helpers every other renderer reads live together:
splitting them would make each renderer import the text's internals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from tabulate import tabulate

from ampc.credit import filer
from ampc.credit.model import (
    PRODUCT,
    VESSEL_ROLES,
    Amount,
    CreditRun,
    LineTotal,
    Pending,
    Rate,
    Rejected,
    RejectedTotal,
    Worksheet,
    cents,
    dollars,
)
from ampc.credit.sheet import (
    ColumnsEfile,
    DecisionRef,
    FacilityWorksheet,
    FormLine,
    Money,
    PartI,
    PartIField,
    PartIILine,
    PartIVLine,
    PendingSale,
    RejectedSale,
    Sale,
    SaleAmount,
    Vessel,
    WorksheetReport,
    sale_of,
)
from ampc.credit.unit import UnitCredit
from ampc.io.report import reason, value_text
from ampc.records import record as R
from ampc.rules.model import RuleSet
from ampc.rules.units import grouped, plain

ROUNDING = ("Amounts are computed exactly; column (e) shows each line to the cent (half up) and in whole "
            "dollars as filed (half up). Line 8a rounds the exact total, not the sum of rounded lines.")
PHASE_WORD = {"sale": "sold", "production": "produced", "taxable_year": "taxable year"}


# ---------------------------------------------------------------------------------------------------
# numbers and the parts of an amount

def money(value: Decimal) -> str:
    """USD to the cent, half up: $14,000.00."""
    return "$" + format(cents(value), ",.2f")


def usd(value: Decimal) -> str:
    """USD exact: $2,000; $1.755."""
    return "$" + grouped(value)


def exact(value: Decimal) -> str:
    """An exact decimal as written in a CSV cell: no grouping, no exponent, no trailing zeros."""
    return plain(value)


def rate_text(rate: Rate | None) -> str:
    """Column (c) as the form writes it: $0.04 per W, $12 per m2, 10%."""
    if rate is None:
        return ""
    q = rate.value
    if q.unit == "percent":
        return f"{grouped(q.value)}%"
    return f"${grouped(q.value)} per {q.unit.split('/')[-1].replace('**2', '2')}"


def arithmetic(a: Amount) -> str:
    """One sale's arithmetic: 500 units x 100 W = 50,000 W; x 0.04 USD/W = $2,000."""
    b = a.base
    if b.units is None or b.per_unit is None:
        head = f"{b.source} {grouped(b.amount.value)}"
    else:
        head = f"{grouped(b.units)} units x {value_text(b.per_unit)}"
    text = f"{head} = {value_text(b.amount)}; x {value_text(a.rate.value)} = {usd(a.before_phase_out)}"
    p = a.phase_out
    if p is not None and p.percent != 100:
        text += f"; x {grouped(p.percent)} % phase-out ({PHASE_WORD[p.keyed_on]} {p.date.year}) = {usd(a.credit)}"
    return text


def cap_notes(a: Amount, credit_notes: str = "") -> list[str]:
    """Where a cap binds: the value counted, how, and the rated value it replaces (with the YAML's notes)."""
    cap = a.base.cap
    if cap is None:
        return []
    cite = f" ({cap.cite} cap)" if cap.cite else " (cap)"
    how = (f"{value_text(cap.rated)} x {value_text(cap.ratio)} / {value_text(cap.other)}" if cap.from_ratio
           else f"{value_text(cap.ratio)} x {value_text(cap.other)}")
    text = f"capacity counted {value_text(cap.counted)} = {how}{cite}, not the rated {value_text(cap.rated)}"
    return [text + (f": {credit_notes}" if credit_notes else "")]


def flags(a: Amount) -> list[str]:
    return [text for _, text in flag_notes(a)]


def flag_notes(a: Amount) -> list[tuple[str, str]]:
    """The sale's flags, each with its kind: booked to another line than the one met; an open reading."""
    c = a.claimed
    out = [("booked_to_other_line", f"booked to line {c.claimed}, but the product meets line {c.met}: "
            f"entered on {c.met}")] if c else []
    if a.review:
        out.append(("review", f"flagged for review: the amount applies the open reading {a.review} "
                    "(docs: reference/interpretations.md)"))
    return out


def problem_text(p: R.Problem) -> str:
    return f"{p.where}: {p.message}" + (f"\n    fix: {p.fix}" if p.fix else "")


def line_rate(ruleset: RuleSet, total: LineTotal) -> Rate | None:
    """Column (c): the rate applied to the line's first sale, else the parameter's latest value."""
    if total.first is not None:
        return total.first.rate
    param = ruleset.params[total.credit.rate]
    last = param.values[-1] if param.values else None
    if last is None or last.value is None:
        return None
    return Rate(param.id, R.quantity(last.value, param.unit), last.start)


def part_ii_rows(ruleset: RuleSet, sheet: Worksheet) -> list[dict]:
    """Part II as display cells, one dict per line (the text, CSV and Markdown share them)."""
    rows = []
    for line in ruleset.line_order():
        if line not in sheet.lines:
            continue
        total = sheet.lines[line]
        some = bool(total.amounts)
        rows.append({
            "line": line, "component": total.credit.column_a, "unit": total.credit.column_b,
            "rate": rate_text(line_rate(ruleset, total)),
            "aggregate": grouped(total.aggregate) if some else "",
            "aggregate_unit": total.unit, "sales": len(total.amounts),
            "credit": money(total.total) if some else "",
            "credit_whole_dollars": grouped(dollars(total.total)) if some else "",
            "phase_out": ", ".join(f"{grouped(p)}%" for p in total.phase_outs),
            "credit_exact": exact(total.total) if some else "",
            "efile_d": total.credit.efile.get("d", ""), "efile": total.credit.efile.get("e", ""),
        })
    return rows


# ---------------------------------------------------------------------------------------------------
# Part I, and the lines without columns (7, 8a to 8c, Part III's total, Part IV line 74)

def part_i(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> PartI | None:
    """The worksheet's Part I as entered, field by field (None: no facilities file was given)."""
    if not run.facilities_given:
        return None
    given = sheet.part_i
    values = given.values if given is not None else {}
    out = []
    for f in filer.fields(ruleset).values():
        if not f.line:
            continue  # the key, not a line of the form
        efile, alternatives = filer.efile_of(f, values)
        out.append(PartIField(f.line, f.label, f.name, efile, values.get(f.name), alternatives))
    return PartI(sheet.facility, given is not None, given.where if given is not None else "", tuple(out))


def form_lines(ruleset: RuleSet, sheet: Worksheet) -> list[FormLine]:
    """Lines 7 (not computed), 8a, 8b and 8c (blank but for an estate or trust), and the totals of
    Parts III and IV where the worksheet has them."""
    lines = filer.form_lines(ruleset)
    c = line_8c_of(sheet)
    amounts = {"7": None, "8a": _money(sheet.total),
               "8b": _money(sheet.allocated_to_beneficiaries) if sheet.allocated_to_beneficiaries is not None
               else None, "8c": _money(c) if c is not None else None}
    out = [FormLine(x.part, x.line, x.label, x.efile, amounts.get(k)) for k, x in lines.part_ii.items()]
    if sheet.vessels:
        t = lines.part_iii_total
        out.append(FormLine(t.part, t.line, t.label, t.efile,
                            _money(sum((a.base.amount.value for a in sheet.vessels), Decimal(0)))))
    part_iv = sheet.part_iv()
    if part_iv:
        t = lines.part_iv_total
        out.append(FormLine(t.part, t.line, t.label, t.efile, _money(sum(part_iv.values(), Decimal(0)))))
    return out


def line_8c_of(sheet: Worksheet) -> Decimal | None:
    return filer.line_8c(sheet)


def part_i_value(value) -> str:
    """A Part I entry as written on the form: yes / no for lines 5 and 6."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def part_i_efile(f: PartIField) -> str:
    return f.efile or " or ".join(f.efile_alternatives)


def part_i_text(run: CreditRun, ruleset: RuleSet, sheet: Worksheet, width: int = 60) -> list[str]:
    """Part I as lines of text: a table of the entries, or the facility id and why the rest is blank."""
    p = part_i(run, ruleset, sheet)
    if p is None:
        return [f"Part I. Facility: {sheet.facility} (lines 1 to 6: give --facilities FILE)"]
    head = [f"Part I. Facility information: {sheet.facility}"]
    if not p.listed:
        head.append(f"  note: facility {sheet.facility} is not in the facilities file: Part I is left blank")
    rows = [[f.line, _short(f.label, width), part_i_value(f.value), part_i_efile(f)] for f in p.fields]
    return head + [tabulate(rows, headers=["line", "label", "entry", "e-file"], tablefmt="simple",
                            disable_numparse=True)]


def unlisted_note(run: CreditRun) -> str:
    names = ", ".join(run.facilities_not_in_ledger)
    return f"Facilities in the facilities file that no sale names (ignored): {names}." if names else ""


def rejected_totals(sheet: Worksheet) -> str:
    """How many rejected sales, and the base they held, by the line their product meets."""
    return "; ".join(_rejected_total(t) for t in sheet.rejected_totals())


def _rejected_total(t: RejectedTotal) -> str:
    held = ", ".join(value_text(q) for q in t.bases)
    return f"{t.line or 'no line'}: {t.sales} sale(s)" + (f" holding {held}" if held else "")


def part_iv_labels(ruleset: RuleSet) -> dict[str, str]:
    fact = ruleset.role("part_iv_line")
    return {str(r.then[fact]): r.label for r in ruleset.rules if r.then.get(fact)}


def vessel_field(a: Amount, key: str) -> str:
    return a.row.roles.get(VESSEL_ROLES[key]) or ""


def product_of(row) -> str:
    return row.roles[PRODUCT]


# ---------------------------------------------------------------------------------------------------
# text, one line explained

def editions_text(sheet: Worksheet) -> str:
    """The editions of the law that decided the worksheet's sales, as their records name them."""
    names = sorted(sheet.editions)
    return f"; decided under the edition {', '.join(names)}" if names else ""


def joined(lines: Iterable[str]) -> str:
    return "".join(line + "\n" for line in lines)


def text(run: CreditRun, ruleset: RuleSet) -> str:
    return joined(text_lines(run, ruleset))


def text_lines(run: CreditRun, ruleset: RuleSet) -> Iterator[str]:
    """The worksheet as text, line by line (each without its newline), the sales read as it goes."""
    for sheet in run.worksheets:
        year = f", {tax_year_text(sheet.tax_year)}" if sheet.tax_year else ""
        yield f"Form 7207 worksheet: facility {sheet.facility}{year}"
        yield f"rules: {run.ruleset.name} (sha256 {run.ruleset.sha256[:12]}){editions_text(sheet)}\n"
        yield from part_i_text(run, ruleset, sheet)
        yield "\nPart II. Eligible components"
        rows = [[r["line"], _short(r["component"], 45), _short(r["unit"], 30), r["rate"],
                 (r["aggregate"] + " " + r["aggregate_unit"]).strip(), r["phase_out"], r["credit"],
                 r["credit_whole_dollars"], r["efile"]] for r in part_ii_rows(ruleset, sheet) if r["sales"]]
        short = {"7": "Credit from partnerships, S corporations, estates, trusts", "8a": "Total (lines 1 through 7)",
                 "8b": "Allocated to beneficiaries of the estate or trust", "8c": "Estate or trust: line 8a less 8b"}
        for x in form_lines(ruleset, sheet):
            if x.part != "II" or (x.line in ("8b", "8c") and x.amount is None):
                continue  # 8b and 8c: estates and trusts only
            credit = money(x.amount.exact) if x.amount else "(not computed)"
            rows.append([x.line, short.get(x.line, _short(x.label, 45)), "", "", "", "", credit,
                         grouped(x.amount.whole_dollars) if x.amount else "", x.efile])
        yield (tabulate(rows, headers=["line", "(a) component", "(b) unit", "(c) rate", "(d) aggregate",
                                       "phase-out", "(e) credit", "(e) $ as filed", "e-file (e)"],
                        tablefmt="simple", disable_numparse=True))
        if sheet.vessels:
            yield "\nPart III. Related offshore wind vessels"
            vrows = [[i, *(vessel_field(a, k) for k in ("name", "purpose", "official_number", "status")),
                      money(a.base.amount.value)] for i, a in enumerate(sheet.vessels, start=1)]
            vrows.append(["", "Total of sales prices (to Part II, line 2a, column (d))", "", "", "",
                          money(sum((a.base.amount.value for a in sheet.vessels), Decimal(0)))])
            yield (tabulate(vrows, headers=["line", "name", "purpose", "official number", "new/retrofitted",
                                            "sales price"], tablefmt="simple", disable_numparse=True))
        part_iv = sheet.part_iv()
        if part_iv:
            yield "\nPart IV. Costs of producing applicable critical minerals"
            labels = part_iv_labels(ruleset)
            lines = filer.form_lines(ruleset)
            prow = [[k, _short(labels.get(k, ""), 70), money(v), lines.part_iv.get(k, "")] for k, v in part_iv.items()]
            prow.append(["74", "Total costs (to Part II, line 6a, column (d))", money(sum(part_iv.values())),
                         lines.part_iv_total.efile])
            yield (tabulate(prow, headers=["line", "mineral and form", "costs incurred", "e-file"],
                            tablefmt="simple", disable_numparse=True))
        head = "\nNotes and flags"
        for a in sheet.amounts:
            notes = [*flags(a), *cap_notes(a, sheet.lines[a.line].credit.notes)]
            if notes and head:
                yield head
                head = ""
            yield from (f"  {a.row.where} ({product_of(a.row)}): {note}" for note in notes)
        if sheet.pending:
            yield (f"\nUndetermined sales: {len(sheet.pending)} (not on the form until settled; up to "
                   f"{money(pending_total(sheet))} at stake)")
            yield from (f"  {line}" for line in pending_lines(sheet))
        if sheet.rejected:
            yield f"\nRejected sales: {len(sheet.rejected)} (not on the form); {rejected_totals(sheet)}"
            for r in sheet.rejected:
                base = f" [{value_text(r.base)}]" if r.base else ""
                yield f"  {r.row.where} {product_of(r.row)}{base}: {r.outcome}: {reason(r.record)}"
        yield f"\n{ROUNDING}\n"
    if run.facilities_not_in_ledger:
        yield unlisted_note(run)
    if run.outside_year:
        yield f"{len(run.outside_year)} sale(s) fall outside {tax_year_text(run.tax_year)} and were not counted."
    if run.errors:
        yield f"\n{len(run.errors)} sale(s) could not be computed:"
        yield from (f"  {problem_text(p)}" for p in run.errors)


def tax_year_text(year) -> str:
    """'tax year 2025', or 'tax year beginning 2025-07-01, ending 2026-06-30' for a fiscal year."""
    if year is None:
        return "no tax year"
    if year.calendar:
        return f"tax year {year.start.year}"
    return f"tax year beginning {year.start.isoformat()}, ending {year.end.isoformat()}"


def stake_text(stakes) -> str:
    """What an undetermined sale would carry: '5b: 6,000 kWh, $180,000.00 at stake'."""
    parts = []
    for s in stakes:
        held = value_text(s.base) if s.base else "base not figured"
        parts.append(f"{s.line}: {held}" + (f", {money(s.credit)} at stake" if s.credit is not None else ""))
    return "; ".join(parts) or "no line it may meet"


def pending_lines(sheet: Worksheet) -> Iterator[str]:
    """The undetermined sales, one line each: where, the product, what would settle it, what it holds."""
    for p in sheet.pending:
        settle = ", ".join(p.record.missing) or "a threshold the law does not state for its date"
        yield (f"{p.row.where} {product_of(p.row)}: {reason(p.record)}; would be settled by: {settle}; "
               f"{stake_text(p.at_stake)}")


def pending_total(sheet: Worksheet) -> Decimal:
    """The most the undetermined sales would add: each sale on the line it may meet that earns most."""
    return sheet.at_stake


def _short(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def explain_line(run: CreditRun, line: str) -> str:
    return joined(explain_lines(run, line))


def explain_lines(run: CreditRun, line: str) -> Iterator[str]:
    """Every sale that fed the line, with its arithmetic, line by line, the sales read as it goes."""
    fed = False
    for sheet in run.worksheets:
        total = sheet.lines.get(line)
        if total is None:
            continue
        fed = True
        yield f"Facility {sheet.facility}, line {line} ({total.credit.column_a}): {len(total.amounts)} sale(s)"
        yield f"  how: {total.credit.column_b}; rate parameter {total.credit.rate}; {total.credit.citation()}"
        for a in total.amounts:
            yield (f"  {a.row.where}: {product_of(a.row)} ({reason(a.record)}; "
                   f"as of {a.record.dates.sale.isoformat()})")
            yield f"      {arithmetic(a)}"
            yield from (f"      note: {note}" for note in (*cap_notes(a, total.credit.notes), *flags(a)))
        yield (f"  column (d) {grouped(total.aggregate)}; column (e) {money(total.total)} "
               f"(${grouped(dollars(total.total))} as filed)")
        for r in sheet.rejected:
            if r.record.classified_line == line:
                yield f"  not counted: {r.row.where} {product_of(r.row)}: {r.outcome}: {reason(r.record)}"
    if not fed:
        yield f"no sales fed line {line}"


# ---------------------------------------------------------------------------------------------------
# JSON: the WorksheetReport of ampc.credit.sheet

def _money(value: Decimal) -> Money:
    return Money(R.plain_decimal(value), cents(value), dollars(value))


def _decision(d: R.Decision) -> DecisionRef:
    return DecisionRef(d.outcome, d.reason, d.dates, d.line, d.classified_line, d.decided_by, d.missing, reason(d))


def sale_amount(a: Amount) -> SaleAmount:
    return SaleAmount(sale_of(a.row), a.line, a.base, a.rate, R.plain_decimal(a.before_phase_out), a.phase_out,
                      R.plain_decimal(a.credit), _decision(a.record), a.claimed, a.review)


def rejected_sale(r: Rejected) -> RejectedSale:
    return RejectedSale(sale_of(r.row), _decision(r.record), r.base)


def pending_sale(p: Pending) -> PendingSale:
    return PendingSale(sale_of(p.row), _decision(p.record), p.at_stake)


def _part_ii(ruleset: RuleSet, sheet: Worksheet) -> tuple[PartIILine, ...]:
    out = []
    for line in ruleset.line_order():
        total = sheet.lines.get(line)
        if total is None:
            continue
        some = bool(total.amounts)
        out.append(PartIILine(line, total.credit.column_a, total.credit.column_b, line_rate(ruleset, total),
                              len(total.amounts), R.quantity(total.aggregate, total.unit) if some else None,
                              tuple(R.plain_decimal(p) for p in total.phase_outs),
                              _money(total.total) if some else None,
                              ColumnsEfile(total.credit.efile.get("d", ""), total.credit.efile.get("e", ""))))
    return tuple(out)


def facility_sheet(run: CreditRun, ruleset: RuleSet, sheet: Worksheet, detail: bool = True) -> FacilityWorksheet:
    """The worksheet's JSON form; without `detail`, its lists of sales left empty (ampc.credit.output
    writes them in, sale by sale)."""
    vessels = tuple(Vessel(i, sale_of(a.row), R.plain_decimal(a.base.amount.value),
                           *(a.row.roles.get(VESSEL_ROLES[k]) for k in ("name", "purpose", "official_number",
                                                                          "status")))
                    for i, a in enumerate(sheet.vessels, start=1))
    labels = part_iv_labels(ruleset)
    part_iv = sheet.part_iv()
    return FacilityWorksheet(
        facility=sheet.facility, tax_year=sheet.tax_year, part_ii=_part_ii(ruleset, sheet),
        line_8a=_money(sheet.total), part_iii=vessels,
        part_iii_total=R.plain_decimal(sum((v.sales_price for v in vessels), Decimal(0))) if vessels else None,
        part_iv=tuple(PartIVLine(k, labels.get(k, ""), R.plain_decimal(v), filer.form_lines(ruleset).part_iv.get(k, ""))
                      for k, v in part_iv.items()),
        line_74=R.plain_decimal(sum(part_iv.values(), Decimal(0))) if part_iv else None,
        sales=tuple(sale_amount(a) for a in sheet.amounts) if detail else (),
        rejected=tuple(rejected_sale(r) for r in sheet.rejected) if detail else (),
        undetermined=tuple(pending_sale(p) for p in sheet.pending) if detail else (),
        rejected_by_line=tuple(sheet.rejected_totals()), part_i=part_i(run, ruleset, sheet),
        line_8b=_money(sheet.allocated_to_beneficiaries) if sheet.allocated_to_beneficiaries is not None else None,
        line_8c=_money(c) if (c := line_8c_of(sheet)) is not None else None,
        form_lines=tuple(form_lines(ruleset, sheet)))


def report(run: CreditRun, ruleset: RuleSet, detail: bool = True) -> WorksheetReport:
    """The worksheet as the typed JSON form, held whole; the reasons of the decisions are added in
    words. Without `detail`, the worksheets and the lists of sales and errors are left empty
    (ampc.credit.output writes them in, sale by sale, for a ledger of any length)."""
    outside: tuple[Sale, ...] = tuple(sale_of(r) for r in run.outside_year) if detail else ()
    return WorksheetReport(run.ruleset, R.software(), run.tax_year,
                           tuple(facility_sheet(run, ruleset, s) for s in run.worksheets) if detail else (),
                           run.as_of, outside, tuple(run.errors) if detail else (),
                           facilities_not_in_ledger=run.facilities_not_in_ledger)


def to_json(run: CreditRun, ruleset: RuleSet) -> str:
    return R.encode(report(run, ruleset)).decode() + "\n"


# ---------------------------------------------------------------------------------------------------
# one unit's credit (`ampc rules diff`)

def unit_credit_text(outcome: str, credit: UnitCredit | None, ruleset: RuleSet) -> str:
    """What one unit earns, in words: $28 per unit (400 W x 0.07 USD/W); 10 % of costs incurred."""
    if outcome == R.UNDETERMINED:
        return "undetermined"
    if credit is None:
        return "no credit"
    if not credit.encoded:
        return f"no credit amount encoded for line {credit.line}"
    if credit.not_stated is not None or credit.rate is None:
        day = f" on {credit.not_stated.date.isoformat()}" if credit.not_stated else ""
        return f"no rate for line {credit.line}{day}"
    p = credit.phase_out
    phase = "" if p is None or p.percent == 100 else f" x {grouped(p.percent)} % phase-out"
    rate = credit.rate.value
    if credit.credit is not None and credit.base is not None and credit.base.per_unit is not None:
        return (f"${grouped(cents(credit.credit.value))} per unit ({value_text(credit.base.per_unit)} x "
                f"{value_text(rate)}{phase})")
    if rate.unit == "percent":
        column = credit.base_column or ""
        what = ruleset.ledger[column].label.lower() if column in ruleset.ledger else "base"
        return f"{grouped(rate.value)} % of {what}{phase}"
    return f"{value_text(rate)}{phase}"
