"""The coverage page: every paragraph of the instructions, its status, the rules that encode it and
the test cases that exercise them, or why it is not modelled; and each page's summary for the index."""

from __future__ import annotations

from ampc.docs.context import Ctx
from ampc.docs.outline import STATUS, Page
from ampc.docs.text import cell, code, link, md

PAGE = "reference/coverage.md"


def rows(ctx: Ctx, pages: list[Page], exercised: dict) -> list[dict]:
    out = []
    for page in pages:
        for para in page.paragraphs:
            cases = {(f, ex.name) for r in para.rules for f, ex in exercised.get(r.id, [])}
            status = STATUS[para.status]
            if para.status == "open":
                status = ctx.reading_link(next(r.id for r in para.rules if r.review), PAGE, status)
            first = para.rules[0].id if para.rules else ""
            out.append({
                "chapter": page.chapter, "page": md(page.title), "link": link(PAGE, page.path, para.anchor),
                "paragraph": cell(para.heading), "status": status,
                "rules": ", ".join([ctx.rule_link(r.id, PAGE) for r in para.rules] + [code(p.id) for p in para.params]
                                   + [f"credit line {c.line}" for c in para.credits]),
                "cases": len(cases),
                "cases_link": link(PAGE, ctx.home[first], "test-cases") if cases and first in ctx.home else "",
                "reason": cell(para.not_modelled or para.pending) if para.status in ("not_modelled", "pending")
                else ""})
    matched = {r.id for p in pages for para in p.paragraphs for r in para.rules}
    for rule in ctx.rs.rules:
        if rule.id not in matched:
            out.append({"chapter": "", "page": "", "link": "", "paragraph": "(no paragraph of the outline)",
                        "status": "encoded", "rules": ctx.rule_link(rule.id, PAGE),
                        "cases": len(exercised.get(rule.id, [])), "cases_link": "",
                        "reason": "a rule that no paragraph of docs/outline.yaml matches: map it there"})
    return out


def page_summary(page: Page, n_rules: int, n_cases: int) -> dict:
    statuses = [p.status for p in page.paragraphs if p.status != "intro"]
    return {"rules": n_rules, "cases": n_cases, "encoded": sum(1 for s in statuses if s in ("encoded", "open")),
            "paragraphs": len(statuses)}
