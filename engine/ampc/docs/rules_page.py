"""A page per rule group (one rules file, or the files an outline page claims): the instructions
paragraph by paragraph, each rule with its law text, its conditions as a clause table, its
parameters by edition and its marks; the precedence; the worked examples, the boundary examples and
the test cases as tables read from their records."""

from __future__ import annotations

from pathlib import Path

from ampc.docs import decisions
from ampc.docs.classes import class_tables
from ampc.docs.context import Ctx
from ampc.docs.errors import DocsError
from ampc.docs.examples import COMPARISONS, Example, boundary_examples
from ampc.docs.outline import STATUS, Page, Paragraph, cmps
from ampc.docs.parameters import credit_view, param_view, rate, threshold_views
from ampc.docs.text import breakable, cell, code, link, md, words
from ampc.io import report
from ampc.records import record as R
from ampc.rules.model import All, AnyOf, Cmp, Cond, Not, Rule, RuleSet

LEGAL = {"is": "is", "one_of": "is one of", "at_least": "is not less than", "more_than": "is greater than",
         "at_most": "is not greater than", "less_than": "is less than"}
GROUP = {All: "all of {items} hold", AnyOf: "at least one of {items} holds", Not: "{items} does not hold"}


def check_rules(ruleset: RuleSet) -> None:
    """Every rule carries the instruction text it encodes and both citations, or the build fails."""
    problems = []
    for rule in ruleset.rules:
        missing = []
        if not words(rule.text):
            missing.append("text (the instruction text it encodes)")
        for key in ("instructions", "irc"):
            if not words((rule.cite or {}).get(key, "")):
                missing.append(f"cite.{key}")
        if missing:
            problems.append(f"rule '{rule.id}' ({rule.where}) has no {' and no '.join(missing)}: "
                            "add it; every documented rule quotes its instruction text and cites it")
    if problems:
        raise DocsError("the docs cannot be built:\n  " + "\n  ".join(problems))


def citations(rule: Rule) -> list[str]:
    """Each citation of the rule; one a later act changed, as first enacted and as amended, each with
    the taxable years it is cited for (the decision records cite the one for their year)."""
    def one(key: str, value: str) -> str:
        return f"IRC [{md(value)}](https://www.law.cornell.edu/uscode/text/26/45X)" if key == "irc" else md(value)
    out = []
    for key, value in rule.cite.items():
        later = [a for a in rule.cite_as_amended if key in a.cite]
        if not later:
            out.append(one(key, value))
            continue
        out.append(f"{one(key, value)} (taxable years beginning on or before {later[0].after.isoformat()}), "
                   + ", ".join(f"{one(key, a.cite[key])} as amended by {md(a.by)} (taxable years beginning "
                               f"after {a.after.isoformat()})" for a in later))
    return out


def condition_rows(ctx: Ctx, cond: Cond, prefix: str = "") -> list[dict]:
    """A condition tree as the rows of a clause table, numbered 1, 2, 3.1, 3.2 ... by position."""
    items = [cond] if isinstance(cond, Cmp) else [cond.item] if isinstance(cond, Not) else list(cond.items)
    rows = []
    for i, item in enumerate(items, 1):
        n = f"{prefix}{i}"
        if isinstance(item, Cmp):
            fact = ctx.rs.facts[item.fact]
            op = "includes one of" if item.op == "one_of" and fact.type == "set" else LEGAL[item.op]
            rows.append({"n": n, "clause": f'"{cell(item.clause)}"' if item.clause else "—",
                         "fact": f"{code(item.fact)} ({cell(fact.label)})", "op": op,
                         "threshold": breakable(ctx.expected(item)),
                         "param": code(item.param) if item.param else "in the rule"})
            continue
        inner = [item.item] if isinstance(item, Not) else list(item.items)
        span = f"{n}.1" if len(inner) == 1 else f"{n}.1 to {n}.{len(inner)}"
        rows.append({"n": n, "clause": f"*{GROUP[type(item)].format(items=span)}*", "fact": "", "op": "",
                     "threshold": "", "param": ""})
        rows += condition_rows(ctx, item, f"{n}.")
    return rows


def rule_view(ctx: Ctx, rule: Rule, page: str) -> dict:
    stage = next((s for s in ctx.rs.stages if s.name == rule.stage), None)
    order = ctx.rs.order_for(rule.family)
    precedence = ""
    if order and rule.id in order.order:
        precedence = (f"rank {order.order.index(rule.id) + 1} of {len(order.order)} in the declared "
                      f"precedence {code(order.id)}")
    elsewhere = [(p, para) for p, para in ctx.paragraphs_of.get(rule.id, []) if p.path != page]
    in_force = report.period(R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to))
    file, _, line = rule.where.rpartition(":")
    source_page, anchor = ctx.source_of.get(rule.id, ("", ""))
    source = f"[{md(file)}, line {line}]({link(page, source_page, anchor)})" if source_page else md(rule.where)
    intro = {All: "all of these hold", AnyOf: "at least one of these holds", Not: "this does not hold"}
    return {
        "id": rule.id, "code": code(rule.id), "line": rule.line, "label": md(rule.label),
        "stage": rule.stage, "stage_label": md(stage.label if stage else ""), "family": code(rule.family),
        "text": md(rule.text), "citations": citations(rule),
        "in_force": in_force, "editions": ", ".join(ctx.in_editions(rule.enacted)),
        "concludes": ", ".join(f"{code(k)} = {code(report.value_text(R.typed(v)))}" for k, v in rule.then.items()),
        "rate": rate(ctx, rule), "intro": intro.get(type(rule.when), "this holds"),
        "conditions": condition_rows(ctx, rule.when), "thresholds": threshold_views(ctx, rule),
        "notes": md(rule.notes), "review": ctx.reading_title(rule.review),
        "open": ctx.reading_link(rule.id, page, "its entry"),
        "precedence": precedence, "source": source,
        "elsewhere": [f"[{md(para.heading)}]({link(page, p.path, para.anchor)}) ({md(p.title)})"
                      for p, para in elsewhere],
    }


def _paragraph_view(ctx: Ctx, para: Paragraph, page: str, here: list[Rule], rules: set[str]) -> dict:
    other = [r for r in para.rules if r not in here]
    opened = [r for r in para.rules if r.review]
    status_word = STATUS[para.status]
    if para.status == "open":
        status_word = ctx.reading_link(opened[0].id, page, status_word)
    return {
        "heading": md(para.heading), "anchor": para.anchor, "text": md(para.text), "note": md(para.note),
        "status": para.status, "status_word": status_word, "part_iv": para.part_iv,
        "reason": md(para.not_modelled or para.pending or "no rule encodes this paragraph yet"),
        "rules": [rule_view(ctx, r, page) for r in here],
        "elsewhere": [ctx.rule_link(r.id, page) + f" ({md(r.label)})" for r in other],
        "links": [ctx.rule_link(r.id, page) for r in para.rules] + [code(p.id) for p in para.params]
        + [f"credit line {c.line}" for c in para.credits],
        "params": [param_view(ctx, p) for p in para.params],
        "credits": [credit_view(ctx, c) for c in para.credits],
        "open": [{"rule": ctx.rule_link(r.id, page), "here": r.id in rules, "anchor": r.id,
                  "review": ctx.reading_title(r.review),
                  "link": ctx.reading_link(r.id, page, "the question and the reading chosen")}
                 for r in opened],
    }


def _boundary_view(ctx: Ctx, b, page: str) -> dict:
    variants = []
    for where, val, ex in b.variants:
        view = decisions.record_view(ctx, ex, page, keep=[b.rule.id], explain=False)
        variants.append({"where": where, "value": cell(report.value_text(val)), "rule_result": ex.result_of(b.rule.id),
                         "example": view})
    return {"rule": b.rule.id, "rule_link": f"[{code(b.rule.id)}](#{b.rule.id})", "clause": cell(b.cmp.clause),
            "param": code(b.cmp.param) if b.cmp.param else "", "fact": code(b.cmp.fact),
            "op": COMPARISONS.get(b.cmp.op, LEGAL[b.cmp.op]),
            "boundary": cell(report.value_text(b.boundary)) if b.boundary is not None else "",
            "base": cell(b.base.name) if b.base else "", "note": cell(b.note), "variants": variants}


def page_context(ctx: Ctx, page: Page, rules: list[Rule], cases: list[Example], worked: list[Example],
                 files: list[dict]) -> dict:
    path = page.path
    rs = ctx.rs
    ids = {r.id for r in rules}
    shown: set[str] = set()
    paragraphs = []
    for para in page.paragraphs:
        here = [r for r in para.rules if ctx.home.get(r.id) == path and r.id not in shown]
        shown.update(r.id for r in here)
        paragraphs.append(_paragraph_view(ctx, para, path, here, ids))
    shown_params = {p.id for para in page.paragraphs for p in para.params}
    shown_credits = {c.line for para in page.paragraphs for c in para.credits}
    owned = {s.file for s in page.sections}
    used = {c.param for r in rs.rules for c in cmps(r.when) if c.param}
    boundaries = [_boundary_view(ctx, b, path) for rule in rules for b in boundary_examples(ctx.runner, rule, cases)]
    return {
        "page": page, "title": md(page.title), "chapter": page.chapter, "rs": rs, "as_of": ctx.as_of,
        "short_hash": rs.sha256[:12],
        "sections": [{"id": s.id, "title": md(s.title), "instructions": md(s.instructions)} for s in page.sections],
        "files": files, "paragraphs": paragraphs,
        "others": [rule_view(ctx, r, path) for r in rules if r.id not in shown],
        "class_tables": class_tables(ctx, rules, path),
        "loose_params": [param_view(ctx, p) for p in rs.params.values() if p.where.rpartition(":")[0] in owned
                         and p.id not in used and p.id not in shown_params],
        "loose_credits": [credit_view(ctx, c) for c in rs.credits.values() if c.where.rpartition(":")[0] in owned
                          and c.line not in shown_credits],
        "worked": [decisions.record_view(ctx, w, path) for w in worked],
        "cases": [decisions.case_row(c) for c in cases],
        "boundaries": boundaries,
        "precedence": [{"id": p.id, "family": p.family, "order": [ctx.rule_link(r, path) for r in p.order],
                        "reason": md(p.reason), "review": ctx.reading_title(p.review),
                        "open": ctx.reading_link(p.id, path, "its entry")}
                       for p in rs.precedence if any(r.family == p.family for r in rules)],
    }


def files_view(page: Page, cases_root: Path, n_cases: dict, n_worked: dict, source_page) -> list[dict]:
    """The rules files a page shows, with their test cases and worked examples files."""
    out = []
    for s in page.sections:
        mirror = s.file.split("rules/", 1)[-1]
        out.append({"rules": s.file, "source": link(page.path, source_page(s.file)),
                    "cases": f"tests/cases/{mirror}" if (cases_root / mirror).is_file() else "",
                    "n_cases": n_cases.get(s.file, 0),
                    "examples": f"docs/examples/{mirror}", "n_worked": n_worked.get(s.file, 0)})
    return out

