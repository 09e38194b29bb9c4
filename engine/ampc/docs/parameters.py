"""Parameters by edition: each number the law states with the dates its values are in force and
the editions that hold it; a rule's thresholds; the credit rate of a line, its phase-out and what
column (d) adds up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ampc.docs.context import Ctx
from ampc.docs.examples import thresholds as threshold_cmps
from ampc.docs.text import cell, code, md, value
from ampc.io import report
from ampc.records import record as R
from ampc.rules.model import Param, PhaseOut, Rule


def editions_text(ctx: Ctx, enacted: dt.date | None) -> str:
    names = ctx.in_editions(enacted)
    if len(names) == len(ctx.editions):
        return "all" if len(names) != 1 else names[0]
    return ", ".join(names) + (f" (enacted {enacted.isoformat()})" if enacted else "")


def param_rows(ctx: Ctx, param: Param) -> list[dict]:
    rows = []
    for i, entry in enumerate(param.values):
        end = param.values[i + 1].start - dt.timedelta(days=1) if i + 1 < len(param.values) else None
        rows.append({"value": cell(value(entry.value, "")), "from": entry.start.isoformat(),
                     "to": end.isoformat() if end else "",
                     "now": entry.start <= ctx.as_of and (end is None or ctx.as_of <= end)})
    return rows


def param_view(ctx: Ctx, param: Param) -> dict:
    refs = []
    for ref in param.references:
        title = cell(ref.get("title", ""))
        refs.append(f"[{title}]({ref['href']})" if ref.get("href") else title)
    return {"id": code(param.id), "anchor": param.id, "label": cell(param.label),
            "description": cell(param.description), "unit": cell(report.unit_text(param.unit) or param.unit),
            "values": param_rows(ctx, param), "references": "; ".join(refs), "where": param.where,
            "keyed": report.KEYED.get(param.keyed_on, param.keyed_on), "editions": editions_text(ctx, param.enacted)}


def threshold_views(ctx: Ctx, rule: Rule) -> list[dict]:
    """The parameters a rule's conditions read (and the numbers written in the rule itself)."""
    out, seen = [], set()
    for cmp in threshold_cmps(rule, ctx.rs):
        if cmp.param and cmp.param not in seen:
            seen.add(cmp.param)
            out.append(param_view(ctx, ctx.rs.params[cmp.param]))
        elif not cmp.param:
            fact = ctx.rs.facts[cmp.fact]
            out.append({"id": "(in the rule)", "anchor": "", "label": cell(cmp.clause or fact.label),
                        "description": cell(cmp.clause or fact.label), "unit": cell(fact.unit),
                        "values": [{"value": cell(value(cmp.literal)), "from": rule.in_force_from.isoformat(),
                                    "to": rule.in_force_to.isoformat() if rule.in_force_to else "", "now": True}],
                        "references": cell(rule.citation()), "where": rule.where, "keyed": "",
                        "editions": editions_text(ctx, rule.enacted)})
    return out


def rate_value(ctx: Ctx, param_id: str) -> str:
    param = ctx.rs.params[param_id]
    val = param.at(ctx.as_of)
    return value(val if val is not None else R.NotStatedByLaw(param_id, ctx.as_of), param.unit)


def phase_out(schedule: PhaseOut) -> str:
    """A credit line's phase-out schedule in words: its parameter and the period it applies in."""
    if schedule.start:
        period = report.period(R.InForce(schedule.keyed_on, schedule.start, schedule.end))
    elif schedule.end:
        period = f"{report.KEYED[schedule.keyed_on]} until {schedule.end.isoformat()}"
    else:
        return f"parameter {code(schedule.param)}"
    return f"parameter {code(schedule.param)}, for components {period}"


def base_words(base: dict) -> str:
    """What column (d) adds up, in words: {units_times_fact: dc_capacity} -> units sold × `dc_capacity`."""
    if "column" in base:
        return f"the ledger's {code(base['column'])}"
    if "units_times_column" in base:
        return f"units sold × the ledger's {code(base['units_times_column'])}"
    fact = base.get("units_times_fact", "")
    text = f"units sold × {code(fact)}"
    capped = base.get("capped_by")
    if capped:
        ratio = capped.get("ratio")
        ratio_text = code(ratio["param"]) if isinstance(ratio, dict) and "param" in ratio else value(ratio)
        text += f", each unit's {code(fact)} capped at {code(capped.get('fact', ''))} × {ratio_text}"
        if capped.get("ratio_fact"):
            text += (f" (where {code(capped['ratio_fact'])} is given instead of {code(capped.get('fact', ''))}: "
                     f"{code(fact)} × {ratio_text} / {code(capped['ratio_fact'])}, where that ratio is above "
                     f"{ratio_text})")
    return text


def rate(ctx: Ctx, rule: Rule) -> str:
    """The credit rate of the line a class rule concludes, as in force on the pages' date."""
    if ctx.rs.stage_kind(rule.stage) != "choose":
        return "— (the rate belongs to the line this rule's product is classified on)"
    credit = ctx.rs.credits.get(rule.line)
    param_id = credit.rate if credit else ""
    if not param_id:
        param_id = next((p for p in (f"{rule.id}.rate", f"{rule.family}.rate", f"credit.rate.{rule.line}")
                         if p in ctx.rs.params), "")
    if not param_id or param_id not in ctx.rs.params:
        return "not encoded yet"
    text = f"{rate_value(ctx, param_id)} (parameter {code(param_id)}, in force on {ctx.as_of})"
    if credit and credit.phase_out:
        text += "; phase-out: " + "; ".join(phase_out(p) for p in credit.phase_out)
    return text


def credit_view(ctx: Ctx, credit: Any) -> dict:
    rate_text = rate_value(ctx, credit.rate) if credit.rate in ctx.rs.params else "?"
    return {"line": credit.line, "column_a": cell(credit.column_a), "column_b": cell(credit.column_b),
            "rate": cell(rate_text), "rate_param": code(credit.rate), "base": base_words(credit.base or {}),
            "phase_out": "; ".join(phase_out(p) for p in credit.phase_out) or "none",
            "keyed_on": credit.keyed_on, "citation": cell(credit.citation()), "notes": md(credit.notes)}
