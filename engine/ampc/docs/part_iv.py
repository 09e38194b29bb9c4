"""The Part IV page: the form's lines 1 to 73 (the costs of each applicable critical mineral, in its
form), each with the rule that defines it and the threshold that rule reads, as in force on the
pages' date; line 74, the total, goes to Part II line 6a."""

from __future__ import annotations

from ampc.docs.classes import short
from ampc.docs.context import Ctx
from ampc.docs.examples import thresholds
from ampc.docs.text import cell, code, link, md

PAGE = "part_iv/critical_minerals.md"
TITLE = "Part IV. Costs of producing applicable critical minerals"
CHAPTER = "Part IV—Critical Minerals"


def _number(line: str) -> tuple:
    return (int(line), "") if line.isdigit() else (10**6, line)


def context(ctx: Ctx) -> dict | None:
    """The Part IV lines, or None when no rule concludes a Part IV line."""
    rules = [r for r in ctx.rs.rules if r.then.get("part_iv_line")]
    if not rules:
        return None
    rows = []
    for rule in sorted(rules, key=lambda r: _number(str(r.then["part_iv_line"]))):
        limits = [f"{code(c.fact)} {cell(short(ctx, c))}" for c in thresholds(rule, ctx.rs)]
        rows.append({"line": str(rule.then["part_iv_line"]), "label": cell(rule.label),
                     "rule": ctx.rule_link(rule.id, PAGE), "limits": "; ".join(limits) or "—",
                     "irc": cell(rule.cite.get("irc", "")), "open": ctx.reading_link(rule.id, PAGE)})
    total = ctx.rs.credits.get("6a")
    return {"rows": rows, "total_cite": cell(total.cite.get("irc", "")) if total else "",
            "title": md(TITLE), "as_of": ctx.as_of, "rs": ctx.rs,
            "line_6": link(PAGE, ctx.home[rules[0].id]) if rules[0].id in ctx.home else ""}
