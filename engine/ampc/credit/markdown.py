"""The worksheet as Markdown, for a person to read: per facility, Part I, Part II (lines 1a to 8c,
line 7 marked not computed), Part III's vessels, Part IV's lines with costs and line 74, the
undetermined and rejected sales, and the notes (each sale's flags and caps); then the run's notes
(facilities no sale names, sales outside the taxable year, rows not computed). Read a line at a
time, the sales read as it goes (ampc.credit.output)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from tabulate import tabulate

from ampc.credit import filer
from ampc.credit.model import USD, CreditRun, Worksheet
from ampc.credit.rows import SALE_NOTES, Entry, facility_notes, run_notes
from ampc.credit.worksheet import (
    ROUNDING,
    editions_text,
    form_lines,
    joined,
    money,
    part_i,
    part_i_efile,
    part_i_value,
    part_ii_rows,
    part_iv_labels,
    pending_lines,
    pending_total,
    product_of,
    tax_year_text,
    vessel_field,
)
from ampc.io.report import reason, value_text
from ampc.records import record as R
from ampc.rules.model import RuleSet
from ampc.rules.units import grouped


def to_markdown(run: CreditRun, ruleset: RuleSet) -> str:
    return joined(markdown_lines(run, ruleset))


def markdown_lines(run: CreditRun, ruleset: RuleSet) -> Iterator[str]:
    """The worksheet as Markdown, line by line (each without its newline), the sales read as it goes."""
    for sheet in run.worksheets:
        year = f", {tax_year_text(sheet.tax_year)}" if sheet.tax_year else ""
        yield f"# Form 7207 worksheet: {sheet.facility}{year}\n"
        yield f"Rules {run.ruleset.name}, sha256 `{run.ruleset.sha256}`{editions_text(sheet)}.\n"
        yield from _part_i(run, ruleset, sheet)
        yield from _part_ii(ruleset, sheet)
        yield from _part_iii(ruleset, sheet)
        yield from _part_iv(ruleset, sheet)
        if sheet.pending:
            yield (f"\n**Undetermined sales ({len(sheet.pending)}; up to {money(pending_total(sheet))} at "
                   "stake)**\n")
            yield from (f"- {line}" for line in pending_lines(sheet))
        if sheet.rejected:
            yield f"\n**Rejected sales ({len(sheet.rejected)})**\n"
            yield from (f"- {r.row.where} `{product_of(r.row)}`: {r.outcome}: {reason(r.record)}"
                        for r in sheet.rejected)
        head = "\n**Notes and flags**\n"
        for note in facility_notes(run, ruleset, sheet):
            if note["kind"] in SALE_NOTES:
                if head:
                    yield head
                    head = ""
                yield _bullet(note)
        yield f"\n{ROUNDING}\n"
    head = "**Notes**\n"
    for note in run_notes(run):
        if head:
            yield head
            head = ""
        yield _bullet(note)


def _part_i(run: CreditRun, ruleset: RuleSet, sheet: Worksheet) -> Iterator[str]:
    p = part_i(run, ruleset, sheet)
    if p is None:
        yield f"**Part I. Facility:** {sheet.facility} (lines 1 to 6: give --facilities FILE)\n"
        return
    yield "**Part I. Facility information**" + ("" if p.listed else " (not in the facilities file: left blank)") + "\n"
    yield (tabulate([[f.line, f.label, part_i_value(f.value), f"`{part_i_efile(f)}`"] for f in p.fields],
                    headers=["Line", "Label", "Entry", "e-file"], tablefmt="github", disable_numparse=True) + "\n")


def _part_ii(ruleset: RuleSet, sheet: Worksheet) -> Iterator[str]:
    yield "**Part II. Eligible components**\n"
    rows = [[r["line"], r["component"], r["unit"], r["rate"], (r["aggregate"] + " " + r["aggregate_unit"]).strip(),
             r["phase_out"], r["credit"], r["credit_whole_dollars"], f"`{r['efile']}`"]
            for r in part_ii_rows(ruleset, sheet)]
    for x in form_lines(ruleset, sheet):
        if x.part != "II" or (x.line in ("8b", "8c") and x.amount is None):
            continue  # 8b and 8c: estates and trusts only
        label = "Total (lines 1 through 7)" if x.line == "8a" else x.label
        credit = money(x.amount.exact) if x.amount else "(not computed)"
        rows.append([x.line, label, "", "", "", "", credit, grouped(x.amount.whole_dollars) if x.amount else "",
                     f"`{x.efile}`"])
    yield (tabulate(rows, headers=["Line", "(a)", "(b)", "(c)", "(d)", "Phase-out", "(e)", "(e) as filed",
                                   "e-file (e)"], tablefmt="github", disable_numparse=True))


def _part_iii(ruleset: RuleSet, sheet: Worksheet) -> Iterator[str]:
    if not sheet.vessels:
        return
    yield "\n**Part III. Related offshore wind vessels**\n"
    rows = [[i, *(vessel_field(a, k) for k in ("name", "purpose", "official_number", "status")),
             money(a.base.amount.value)] for i, a in enumerate(sheet.vessels, start=1)]
    t = filer.form_lines(ruleset).part_iii_total
    rows.append(["", f"{t.label} (to Part II, line 2a, column (d))", "", "", "",
                 money(sum((a.base.amount.value for a in sheet.vessels), Decimal(0)))])
    yield tabulate(rows, headers=["Line", "Name", "Purpose", "Official number", "New or retrofitted", "Sales price"],
                   tablefmt="github", disable_numparse=True)


def _part_iv(ruleset: RuleSet, sheet: Worksheet) -> Iterator[str]:
    yield "\n**Part IV. Costs of producing applicable critical minerals**\n"
    costs = sheet.part_iv()
    lines = filer.form_lines(ruleset)
    if not costs:
        yield "No costs of producing applicable critical minerals: lines 1 to 74 are blank."
        return
    labels = part_iv_labels(ruleset)
    rows = [[k, labels.get(k, ""), money(v), f"`{lines.part_iv.get(k, '')}`"] for k, v in costs.items()]
    rows.append(["74", lines.part_iv_total.label, money(sum(costs.values(), Decimal(0))),
                 f"`{lines.part_iv_total.efile}`"])
    yield tabulate(rows, headers=["Line", "Mineral and form", "Costs incurred", "e-file"], tablefmt="github",
                   disable_numparse=True)


def _bullet(note: Entry) -> str:
    """A note as a list item: where it is, the product, its words, and the count or amount it carries."""
    where = note.get("where", "")
    product = note.get("product")
    head = f"{where} (`{product}`): " if where and product else f"{where}: " if where else ""
    extra = []
    if note.get("count") is not None:
        extra.append(f"{note['count']} sale(s)")
    amount = note.get("aggregate")
    if amount is not None:
        unit = note.get("aggregate_unit", "")
        extra.append(money(amount) if unit == USD else value_text(R.quantity(amount, unit)))
    return f"- {head}{note['note']}" + (f" ({', '.join(extra)})" if extra else "")
