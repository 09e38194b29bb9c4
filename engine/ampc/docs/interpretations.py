"""The interpretations page: every reading the rules declare open (a rule's or a precedence's
`review:`, the same key that makes a decision carry a review flag), one entry per question, with
the reading chosen and what it concerns; then the readings chosen and settled (`notes:` alone)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ampc.docs.context import INTERPRETATIONS, Ctx
from ampc.docs.text import cell, code, link, md, slug
from ampc.rules.model import Precedence, Rule, RuleSet

SHOW_ORDER = 8  # a longer precedence is summed up, with a link to its page
WHEN = {"holds": "the rule holds", "fails": "the rule fails (and decides the outcome)"}


@dataclass
class Reading:
    """One open question, as recorded (`review:`), and the rules and precedences it concerns."""

    review: str
    anchor: str = ""
    rules: list[Rule] = field(default_factory=list)
    precedences: list[Precedence] = field(default_factory=list)


def open_readings(rs: RuleSet) -> list[Reading]:
    """The open readings in the rules' order, one per distinct `review:` text."""
    by_review: dict[str, Reading] = {}
    for rule in rs.rules:
        if rule.review:
            by_review.setdefault(rule.review, Reading(rule.review)).rules.append(rule)
    for prec in rs.precedence:
        if prec.review:
            by_review.setdefault(prec.review, Reading(prec.review)).precedences.append(prec)
    out, seen = [], set()
    for reading in by_review.values():
        first = reading.precedences[0].id if reading.precedences and not reading.rules else reading.rules[0].id
        anchor = "open-" + slug(first)
        while anchor in seen:
            anchor += "-x"
        seen.add(anchor)
        reading.anchor = anchor
        out.append(reading)
    return out


def anchors(readings: list[Reading]) -> dict[str, str]:
    """rule or precedence id -> the anchor of its open reading on the interpretations page."""
    out = {}
    for reading in readings:
        for item in (*reading.rules, *reading.precedences):
            out[item.id] = reading.anchor
    return out


def _order(ctx: Ctx, prec: Precedence, page: str) -> str:
    if len(prec.order) <= SHOW_ORDER:
        return " before ".join(ctx.rule_link(r, page) for r in prec.order)
    where = ctx.home.get(prec.order[0])
    ranked = f"[the order of its page]({link(page, where, 'precedence')})" if where else "its declared order"
    first, last = ctx.rule_link(prec.order[0], page), ctx.rule_link(prec.order[-1], page)
    return f"{len(prec.order)} rules, from {first} to {last}, in {ranked}"


def page_context(ctx: Ctx, readings: list[Reading]) -> dict:
    page = INTERPRETATIONS
    entries = []
    for reading in readings:
        notes: dict[str, list[str]] = {}
        for r in reading.rules:
            if r.notes:
                notes.setdefault(r.notes, []).append(ctx.rule_link(r.id, page))
        when = sorted({w for r in reading.rules for w in r.review_when}, key=list(WHEN).index)
        entries.append({
            "anchor": reading.anchor, "review": md(reading.review),
            "rules": [f"{ctx.rule_link(r.id, page)} ({md(r.line)} {md(r.label)})" for r in reading.rules],
            "precedences": [{"id": code(p.id), "family": code(p.family), "reason": md(p.reason),
                             "order": _order(ctx, p, page)} for p in reading.precedences],
            "notes": [{"rules": ", ".join(ids), "text": md(n)} for n, ids in notes.items()],
            "flagged": "; or when ".join(WHEN[w] for w in when) if reading.rules else "",
        })
    settled = [{"what": ctx.rule_link(r.id, page), "label": cell(f"{r.line} {r.label}"), "reading": cell(r.notes)}
               for r in ctx.rs.rules if r.notes and not r.review]
    settled += [{"what": f"precedence {code(p.id)}", "label": cell(p.family), "reading": cell(p.reason)}
                for p in ctx.rs.precedence if not p.review]
    settled += [{"what": f"credit line {md(c.line)}", "label": cell(c.column_a), "reading": cell(c.notes)}
                for c in ctx.rs.credits.values() if c.notes]
    return {"entries": entries, "settled": settled, "rs": ctx.rs, "as_of": ctx.as_of}
