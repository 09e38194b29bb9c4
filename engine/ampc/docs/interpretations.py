"""The interpretations page: every reading the law leaves open, as definitions/interpretations.yaml
declares it (the question, what the sources say, the reading chosen, the alternatives, the sources),
with the rules, precedences and credit lines that apply it (their `review:`, the same key that
makes a decision carry a review flag); then the readings chosen and settled (`notes:` alone)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ampc.docs.context import INTERPRETATIONS, Ctx
from ampc.docs.text import cell, code, link, md, slug
from ampc.rules.model import All, Cmp, CreditLine, Interpretation, Not, Precedence, Rule, RuleSet

SHOW_ORDER = 8  # a longer precedence is summed up, with a link to its page
WHEN = {"holds": "the rule holds", "fails": "the rule fails (and decides the outcome)"}


@dataclass
class Reading:
    """One open question and the rules, precedences and credit lines that apply its reading."""

    interpretation: Interpretation
    anchor: str = ""
    rules: list[Rule] = field(default_factory=list)
    precedences: list[Precedence] = field(default_factory=list)
    credits: list[CreditLine] = field(default_factory=list)


def open_readings(rs: RuleSet) -> list[Reading]:
    """The declared readings, in the order of definitions/interpretations.yaml."""
    readings = {iid: Reading(i, "reading-" + slug(iid)) for iid, i in rs.interpretations.items()}
    for rule in rs.rules:
        if rule.review in readings:
            readings[rule.review].rules.append(rule)
    for prec in rs.precedence:
        if prec.review in readings:
            readings[prec.review].precedences.append(prec)
    for credit in rs.credits.values():
        if credit.review in readings:
            readings[credit.review].credits.append(credit)
    return list(readings.values())


def anchors(readings: list[Reading]) -> dict[str, str]:
    """interpretation, rule or precedence id -> the anchor of its reading on the interpretations page."""
    out = {}
    for reading in readings:
        out[reading.interpretation.id] = reading.anchor
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


def _flagged(when: list[str], only: list[str]) -> str:
    text = "; or when ".join(WHEN[w] for w in when)
    return text + (f", and only for a product where {' or '.join(only)}" if only else "")


def _only_if(cond) -> str:
    """A rule's review_if in words: its comparisons as written (fact, operator, value)."""
    if isinstance(cond, Cmp):
        value = cond.param or cond.literal
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return f"{code(cond.fact)} {cond.op.replace('_', ' ')} {md(shown)}"
    if isinstance(cond, Not):
        return f"not ({_only_if(cond.item)})"
    joiner = " and " if isinstance(cond, All) else " or "
    return "(" + joiner.join(_only_if(c) for c in cond.items) + ")"


def _source(ref: dict) -> str:
    title = md(ref["title"])
    return f"[{title}]({ref['href']})" if ref.get("href") else title


def page_context(ctx: Ctx, readings: list[Reading]) -> dict:
    page = INTERPRETATIONS
    entries = []
    for reading in readings:
        i = reading.interpretation
        notes: dict[str, list[str]] = {}
        for r in reading.rules:
            if r.notes:
                notes.setdefault(r.notes, []).append(ctx.rule_link(r.id, page))
        when = sorted({w for r in reading.rules for w in r.review_when}, key=list(WHEN).index)
        only = sorted({_only_if(r.review_if) for r in reading.rules if r.review_if is not None})
        entries.append({
            "anchor": reading.anchor, "id": code(i.id), "title": md(i.title), "question": md(i.question),
            "law": md(i.law), "reading": md(i.reading), "alternatives": [md(a) for a in i.alternatives],
            "sources": [_source(s) for s in i.sources],
            "rules": [f"{ctx.rule_link(r.id, page)} ({md(r.line)} {md(r.label)})" for r in reading.rules],
            "precedences": [{"id": code(p.id), "family": code(p.family), "reason": md(p.reason),
                             "order": _order(ctx, p, page)} for p in reading.precedences],
            "credits": [f"line {md(c.line)} ({md(c.column_a)})" for c in reading.credits],
            "notes": [{"rules": ", ".join(ids), "text": md(n)} for n, ids in notes.items()],
            "flagged": _flagged(when, only) if reading.rules else "",
        })
    settled = [{"what": ctx.rule_link(r.id, page), "label": cell(f"{r.line} {r.label}"), "reading": cell(r.notes)}
               for r in ctx.rs.rules if r.notes and not r.review]
    settled += [{"what": f"precedence {code(p.id)}", "label": cell(p.family), "reading": cell(p.reason)}
                for p in ctx.rs.precedence if not p.review]
    settled += [{"what": f"credit line {md(c.line)}", "label": cell(c.column_a), "reading": cell(c.notes)}
                for c in ctx.rs.credits.values() if c.notes and not c.review]
    return {"entries": entries, "settled": settled, "rs": ctx.rs, "as_of": ctx.as_of}
