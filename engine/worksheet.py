"""Renderers for the credit: the Form 7207 worksheet (Parts II, III, IV) as text, CSV, JSON, Markdown."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from tabulate import tabulate

from .credit import PART_II_ORDER, CreditRun, Worksheet, cents, dollars
from .model import RuleSet
from .units import grouped

ROUNDING = ("Amounts are computed exactly; column (e) shows each line to the cent (half up) and in whole "
            "dollars as filed (half up). Line 8a rounds the exact total, not the sum of rounded lines.")


def _money(value: Decimal) -> str:
    return "$" + grouped(cents(value)) if "." in grouped(cents(value)) else "$" + grouped(cents(value)) + ".00"


def _rate(ruleset: RuleSet, sheet: Worksheet, line: str) -> str:
    total = sheet.lines[line]
    param = ruleset.params[total.credit.rate]
    value = param.values[-1].value if not total.amounts else total.amounts[0].rate
    unit = param.unit
    if unit == "percent":
        return f"{grouped(value)}%"
    return f"${grouped(value)} per {unit.split('/')[-1].replace('**2', '2')}"


def part_ii_rows(ruleset: RuleSet, sheet: Worksheet) -> list[dict]:
    rows = []
    for line in PART_II_ORDER:
        if line not in sheet.lines:
            continue
        total = sheet.lines[line]
        base_unit = total.amounts[0].base_unit if total.amounts else ""
        phase = ", ".join(f"{grouped(p)}%" for p in total.phase_outs)
        rows.append({
            "line": line, "component": total.credit.column_a, "unit": total.credit.column_b,
            "rate": _rate(ruleset, sheet, line),
            "aggregate": grouped(total.aggregate) if total.amounts else "",
            "aggregate_unit": base_unit, "sales": len(total.amounts),
            "credit": _money(total.total) if total.amounts else "",
            "credit_whole_dollars": grouped(dollars(total.total)) if total.amounts else "",
            "phase_out": phase, "credit_exact": str(total.total) if total.amounts else "",
        })
    return rows


def text(run: CreditRun, ruleset: RuleSet) -> str:
    out = []
    for sheet in run.worksheets:
        year = f", tax year {sheet.tax_year}" if sheet.tax_year else ""
        out.append(f"Form 7207 worksheet: facility {sheet.facility}{year}")
        out.append(f"rules: {ruleset.name} {ruleset.version} (sha256 {ruleset.sha256[:12]})\n")
        out.append("Part II. Eligible components")
        rows = [[r["line"], _short(r["component"], 45), _short(r["unit"], 30), r["rate"],
                 (r["aggregate"] + " " + r["aggregate_unit"]).strip(), r["phase_out"], r["credit"],
                 r["credit_whole_dollars"]] for r in part_ii_rows(ruleset, sheet) if r["sales"]]
        rows.append(["7", "Credit from partnerships, S corporations, estates, trusts", "", "", "", "",
                     "(not computed)", ""])
        rows.append(["8a", "Total (lines 1 through 7)", "", "", "", "", _money(sheet.total),
                     grouped(dollars(sheet.total))])
        out.append(tabulate(rows, headers=["line", "(a) component", "(b) unit", "(c) rate", "(d) aggregate",
                                           "phase-out", "(e) credit", "(e) $ as filed"],
                            tablefmt="simple", disable_numparse=True))
        if sheet.vessels:
            out.append("\nPart III. Related offshore wind vessels")
            vrows = [[i, a.row.facts.get("vessel_name", ""), a.row.facts.get("vessel_purpose", ""),
                      a.row.facts.get("vessel_number", ""), a.row.facts.get("vessel_status", ""), _money(a.base)]
                     for i, a in enumerate(sheet.vessels, start=1)]
            vrows.append(["", "Total of sales prices (to Part II, line 2a, column (d))", "", "", "",
                          _money(sum((a.base for a in sheet.vessels), Decimal(0)))])
            out.append(tabulate(vrows, headers=["line", "name", "purpose", "official number", "new/retrofitted",
                                                "sales price"], tablefmt="simple", disable_numparse=True))
        part_iv = sheet.part_iv()
        if part_iv:
            out.append("\nPart IV. Costs of producing applicable critical minerals")
            labels = {r.then.get("part_iv_line"): r.label for r in ruleset.rules if r.then.get("part_iv_line")}
            prow = [[k, _short(labels.get(k, ""), 70), _money(v)] for k, v in part_iv.items()]
            prow.append(["74", "Total costs (to Part II, line 6a, column (d))", _money(sum(part_iv.values()))])
            out.append(tabulate(prow, headers=["line", "mineral and form", "costs incurred"], tablefmt="simple",
                                disable_numparse=True))
        flagged = [a for a in sheet.amounts if a.flags or a.notes]
        if flagged:
            out.append("\nNotes and flags")
            for a in flagged:
                for note in (*a.flags, *a.notes):
                    out.append(f"  {a.row.where} ({a.row.facts['product']}): {note}")
        if sheet.rejected:
            out.append(f"\nRejected sales: {len(sheet.rejected)} (not on the form); {rejected_totals(sheet)}")
            for r in sheet.rejected:
                base = f" [{r.base}]" if r.base else ""
                out.append(f"  {r.row.where} {r.row.facts['product']}{base}: {r.outcome}: {r.reason}")
        out.append(f"\n{ROUNDING}\n")
    if run.outside_year:
        out.append(f"{len(run.outside_year)} sale(s) fall outside tax year {run.tax_year} and were not counted.")
    if run.errors:
        out.append(f"\n{len(run.errors)} sale(s) could not be computed:")
        out.extend(f"  {p}" for p in run.errors)
    return "\n".join(out) + "\n"


def rejected_totals(sheet: Worksheet) -> str:
    """How many rejected sales, and the base they held, by the line their product meets."""
    held: dict[str, list] = {}
    for r in sheet.rejected:
        line = r.decision.classified_line if r.decision and r.decision.classified_line else "no line"
        held.setdefault(line, []).append(r)
    parts = []
    for line, items in sorted(held.items()):
        bases: dict[str, Decimal] = {}
        for r in items:
            if r.base:
                number, unit = r.base.split(" ", 1)
                bases[unit] = bases.get(unit, Decimal(0)) + Decimal(number.replace(",", ""))
        base = ", ".join(f"{grouped(v)} {u}" for u, v in bases.items())
        parts.append(f"{line}: {len(items)} sale(s)" + (f" holding {base}" if base else ""))
    return "; ".join(parts)


def _short(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def to_dict(run: CreditRun, ruleset: RuleSet) -> dict:
    sheets = []
    for sheet in run.worksheets:
        sheets.append({
            "facility": sheet.facility, "tax_year": sheet.tax_year,
            "part_ii": part_ii_rows(ruleset, sheet),
            "line_8a": {"credit": _money(sheet.total), "credit_whole_dollars": grouped(dollars(sheet.total)),
                        "credit_exact": str(sheet.total)},
            "part_iii": [{"name": a.row.facts.get("vessel_name"), "purpose": a.row.facts.get("vessel_purpose"),
                          "official_number": a.row.facts.get("vessel_number"),
                          "new_or_retrofitted": a.row.facts.get("vessel_status"), "sales_price": str(a.base)}
                         for a in sheet.vessels],
            "part_iv": {k: str(v) for k, v in sheet.part_iv().items()},
            "sales": [_amount(a) for a in sheet.amounts],
            "rejected_summary": rejected_totals(sheet),
            "rejected_sales": [{"where": r.row.where, "product": r.row.facts["product"], "outcome": r.outcome,
                                "reason": r.reason, "base": r.base} for r in sheet.rejected],
            "rounding": ROUNDING,
        })
    return {"ruleset": ruleset.ident(), "tax_year": run.tax_year, "worksheets": sheets,
            "outside_tax_year": [r.where for r in run.outside_year],
            "errors": [p.to_dict() for p in run.errors]}


def _amount(a) -> dict:
    return {"where": a.row.where, "product": a.row.facts["product"], "line": a.line, "units": str(a.units),
            "base": str(a.base), "base_unit": a.base_unit, "rate": str(a.rate), "rate_unit": a.rate_unit,
            "phase_out_percent": None if a.phase_out is None else str(a.phase_out), "credit": str(a.credit),
            "arithmetic": a.arithmetic, "notes": list(a.notes), "flags": list(a.flags),
            "decision": {"outcome": a.decision.outcome, "line": a.decision.line, "reason": a.decision.reason,
                         "as_of": a.decision.as_of}}


def to_json(run: CreditRun, ruleset: RuleSet) -> str:
    return json.dumps(to_dict(run, ruleset), indent=2, ensure_ascii=False) + "\n"


def to_csv(run: CreditRun, ruleset: RuleSet) -> str:
    buffer = io.StringIO()
    fields = ["facility", "line", "component", "unit", "rate", "aggregate", "aggregate_unit", "sales",
              "phase_out", "credit", "credit_whole_dollars", "credit_exact"]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for sheet in run.worksheets:
        for row in part_ii_rows(ruleset, sheet):
            writer.writerow({"facility": sheet.facility, **{k: row[k] for k in fields if k != "facility"}})
        writer.writerow({"facility": sheet.facility, "line": "8a", "component": "Total",
                         "credit": _money(sheet.total), "credit_whole_dollars": grouped(dollars(sheet.total)),
                         "credit_exact": str(sheet.total)})
    return buffer.getvalue()


def to_markdown(run: CreditRun, ruleset: RuleSet) -> str:
    out = []
    for sheet in run.worksheets:
        out.append(f"# Form 7207 worksheet: {sheet.facility}\n")
        out.append(f"Rules {ruleset.name} {ruleset.version}, sha256 `{ruleset.sha256}`.\n")
        rows = [[r["line"], r["component"], r["unit"], r["rate"], (r["aggregate"] + " " + r["aggregate_unit"]).strip(),
                 r["phase_out"], r["credit"], r["credit_whole_dollars"]] for r in part_ii_rows(ruleset, sheet)]
        rows.append(["8a", "Total", "", "", "", "", _money(sheet.total), grouped(dollars(sheet.total))])
        out.append(tabulate(rows, headers=["Line", "(a)", "(b)", "(c)", "(d)", "Phase-out", "(e)", "(e) as filed"],
                            tablefmt="github", disable_numparse=True))
        if sheet.rejected:
            out.append(f"\n**Rejected sales ({len(sheet.rejected)})**\n")
            out.extend(f"- {r.row.where} `{r.row.facts['product']}`: {r.outcome}: {r.reason}" for r in sheet.rejected)
        out.append(f"\n{ROUNDING}\n")
    return "\n".join(out) + "\n"


def explain_line(run: CreditRun, line: str) -> str:
    out = []
    for sheet in run.worksheets:
        total = sheet.lines.get(line)
        if total is None:
            continue
        out.append(f"Facility {sheet.facility}, line {line} ({total.credit.column_a}): {len(total.amounts)} sale(s)")
        out.append(f"  how: {total.credit.column_b}; rate parameter {total.credit.rate}; {total.credit.citation()}")
        for a in total.amounts:
            out.append(f"  {a.row.where}: {a.row.facts['product']} ({a.decision.reason}; as of {a.decision.as_of})")
            out.append(f"      {a.arithmetic}")
            for note in (*a.notes, *a.flags):
                out.append(f"      note: {note}")
        out.append(f"  column (d) {grouped(total.aggregate)}; column (e) {_money(total.total)} "
                   f"(${grouped(dollars(total.total))} as filed)")
        rejected = [r for r in sheet.rejected if r.decision and r.decision.classified_line == line]
        for r in rejected:
            out.append(f"  not counted: {r.row.where} {r.row.facts['product']}: {r.outcome}: {r.reason}")
    return "\n".join(out) + "\n" if out else f"no sales fed line {line}\n"
