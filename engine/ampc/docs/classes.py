"""The classes at a glance: for a family with several line definitions (the inverter classes, the
mineral forms), one table with each class's boundaries side by side, as in force on the pages' date."""

from __future__ import annotations

from ampc.docs.context import Ctx
from ampc.docs.examples import COMPARISONS
from ampc.docs.outline import cmps
from ampc.docs.text import breakable, cell, md
from ampc.rules.model import All, Cmp, Cond, Not, Rule


def short(ctx: Ctx, cmp: Cmp) -> str:
    """A condition's threshold with its comparison, as a table cell says it: '≥ 99 %'."""
    fact = ctx.rs.facts[cmp.fact]
    text = ctx.expected(cmp)
    if cmp.op in COMPARISONS:
        return f"{COMPARISONS[cmp.op]} {text}"
    if cmp.op == "one_of":
        return ("includes " if fact.type == "set" else "") + text
    return text


def _cells(ctx: Ctx, cond: Cond, fact: str) -> str:
    """The constraints a condition puts on one fact, in a table cell's words."""
    if isinstance(cond, Cmp):
        return short(ctx, cond) if cond.fact == fact else ""
    if isinstance(cond, Not):
        inner = _cells(ctx, cond.item, fact)
        return f"not ({inner})" if inner else ""
    parts = [_cells(ctx, item, fact) for item in cond.items]
    if isinstance(cond, All):
        return " and ".join(p for p in parts if p)
    branches = []
    for item, part in zip(cond.items, parts):
        if not part:
            continue
        others = [short(ctx, c) for c in cmps(item) if c.fact != fact and not ctx.rs.facts[c.fact].derived]
        quantity = ctx.rs.facts[fact].type == "quantity"
        first = ctx.rs.facts[cmps(item)[0].fact].name.replace("_", " ")
        branches.append(part + (f" (when {first} {', '.join(others)})" if quantity and others else ""))
    return " or ".join(branches)


def class_tables(ctx: Ctx, rules: list[Rule], page: str) -> list[dict]:
    """Per family with several line definitions, one table: each class's boundaries side by side."""
    tables = []
    families: dict[str, list[Rule]] = {}
    for rule in rules:
        if ctx.rs.stage_kind(rule.stage) == "choose":
            families.setdefault(rule.family, []).append(rule)
    for family, members in families.items():
        if len(members) < 2:
            continue
        order = ctx.rs.order_for(family)
        facts: list[str] = []
        for rule in members:
            for cmp in cmps(rule.when):
                if not ctx.rs.facts[cmp.fact].derived and cmp.fact not in facts:
                    facts.append(cmp.fact)
        rows = []
        for rule in members:
            rank = order.order.index(rule.id) + 1 if order and rule.id in order.order else ""
            part_iv = rule.then.get("part_iv_line")
            rows.append({"line": f"{rule.line}, Part IV {part_iv}" if part_iv else rule.line,
                         "label": cell(rule.label), "rule": rule.id, "rank": rank,
                         "cells": [breakable(_cells(ctx, rule.when, f)) or "—" for f in facts]})
        headers = []
        for f in facts:
            fact = ctx.rs.facts[f]
            headers.append(cell(fact.label + (f" ({fact.unit})" if fact.unit else "")))
        tables.append({"family": family, "headers": headers, "rows": rows, "order": order,
                       "reason": md(order.reason) if order else "",
                       "review": ctx.reading_title(order.review) if order else "",
                       "open": ctx.reading_link(order.id, page) if order else ""})
    return tables
