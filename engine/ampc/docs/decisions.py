"""A decision record as a page shows it: the outcome and its reason, then every rule considered as
rows of a table (clause, actual value, threshold, verdict, citation), read from the typed record
and worded by ampc.io.report; the explanation `ampc explain` prints is kept folded beneath."""

from __future__ import annotations

from ampc.docs.context import Ctx
from ampc.docs.examples import Example
from ampc.docs.text import breakable, cell, code, md
from ampc.io import report
from ampc.records import record as R

VERDICT = {"true": "met", "false": "**not met**", "unknown": "not given"}


def _threshold(c: R.Clause) -> str:
    text = breakable(report.value_text(c.threshold))
    if c.param:
        since = f", from {c.param_from.isoformat()}" if c.param_from else ""
        text += f" ({code(c.param)}{since})"
    return text


def _verdict(c: R.Clause) -> str:
    if isinstance(c.threshold, R.NotStatedByLaw):
        return "not stated by law"
    return VERDICT[c.verdict]


def clause_rows(ctx: Ctx, c: R.Considered, page: str) -> list[dict]:
    """One rule as considered: a row per clause, the rule and its citation on the first."""
    head = f"{ctx.rule_link(c.rule, page)} {md(c.line)} {md(c.label)}: **{report.RESULT[c.result]}**"
    cite = cell(report.citation(c.cite))
    rows = []
    for i, clause in enumerate(c.clauses):
        op = report.op_words(clause.op, True, isinstance(clause.actual, R.Members))
        words = f'"{cell(clause.clause)}": ' if clause.clause else ""
        rows.append({"rule": head if i == 0 else "", "citation": cite if i == 0 else "",
                     "clause": f"{words}{code(clause.fact)} {op}",
                     "actual": breakable(report.value_text(clause.actual)), "threshold": _threshold(clause),
                     "verdict": _verdict(clause)})
    if not rows:
        rows.append({"rule": head, "citation": cite, "clause": "(no condition)", "actual": "", "threshold": "",
                     "verdict": ""})
    if c.missing:
        rows.append({"rule": "", "citation": "", "clause": "would be settled by: "
                     + ", ".join(code(m) for m in c.missing), "actual": "", "threshold": "", "verdict": ""})
    return rows


def record_view(ctx: Ctx, ex: Example, page: str, keep: list[str] | None = None, explain: bool = True) -> dict:
    """The record of one example, for a page: outcome, reason, the clause table, flags, footer, and
    (explain) the text `ampc explain` prints."""
    d = ex.record
    view = {"name": md(ex.name), "title": cell(ex.name), "outcome": ex.outcome.upper(), "line": ex.line,
            "reason": cell(ex.reason), "rows": [], "others": "", "flags": [], "facts": "", "footer": "",
            "text": ctx.runner.explain(ex, keep) if explain else ""}
    if isinstance(d, R.ErrorRecord):
        view["footer"] = cell(f"error at {d.error.where}: {d.error.message}")
        return view
    kept = set(keep) if keep is not None else None
    considered = [c for c in d.considered if c.result != "not_reached" and (kept is None or c.rule in kept)]
    shown_all = sum(1 for c in considered if c.stage == "classify") <= report.FULL_LIST_UP_TO
    others = [c for c in considered if not c.relevant and c.result == "fails" and not shown_all]
    for c in considered:
        if c not in others:
            view["rows"] += clause_rows(ctx, c, page)
    if others:
        first = others[0].decisive()
        example = f", e.g. {md(report.sentence(first[0]))}" if first else ""
        view["others"] = f"{len(others)} other candidates fail on the kind they name{example}."
    if kept is not None and len(considered) < len(d.considered):
        view["others"] += (f" {len(d.considered) - len(considered)} other rules considered are not shown here; "
                           "`ampc explain` lists them all.")
    for flag in d.flags:
        link = next((ctx.reading_link(rid, page, "the question") for rid in (*flag.rules, flag.precedence or "")
                     if ctx.reading_link(rid, page)), "")
        view["flags"].append(f"**{flag.kind}**: {md(report.flag_text(flag, d, ctx.runner.labels))}"
                             + (f" (see {link})" if link else ""))
    view["facts"] = md(report.facts_text(d))
    rs = d.ruleset
    edition = ctx.rs.editions.get(rs.edition)
    decided = f", decided under the edition {md(rs.edition)} ({md(edition.form)})" if edition else ""
    view["footer"] = (f"The law read for a product {md(report.dates_text(d))}; rule set {md(rs.name)} "
                      f"(sha256 {rs.sha256[:12]}){decided}.")
    return view


def case_row(ex: Example) -> dict:
    """A test case in the page's table of cases: its name, outcome, line and the reason."""
    return {"title": cell(ex.name), "outcome": ex.outcome.upper(), "line": ex.line, "reason": cell(ex.reason)}
