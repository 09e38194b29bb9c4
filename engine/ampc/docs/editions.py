"""The editions of the law the rules can be read as (rules/ruleset.yaml `editions`): a page per
edition with its rules and parameters and how it differs from the others, and the changes page
(dated values, rules in force for part of the time, the editions the rules cite)."""

from __future__ import annotations

from ampc.docs.context import Ctx
from ampc.docs.outline import Page
from ampc.docs.parameters import param_view
from ampc.docs.text import cell, link, md
from ampc.io import report
from ampc.records import record as R
from ampc.rules.loader import edition
from ampc.rules.model import Rule, RuleSet

CHANGES = "reference/changes.md"
CITED = ("Rev. 01-2024", "Rev. 12-2025", "Pub. L. 119-21", "T.D. 10010", "Notice")


def editions_of(rs: RuleSet) -> list[tuple[str, str, object, RuleSet]]:
    """(name, label, enacted_by or None, the rule set as that edition reads) for each edition."""
    return [(name, e.label, e.enacted_by, edition(rs, e.enacted_by) if e.enacted_by else rs)
            for name, e in rs.editions.items()]


def page_of(name: str) -> str:
    return f"editions/{name}.md"


def _period(rule: Rule) -> str:
    return report.period(R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to))


def _compare(ctx: Ctx, here: RuleSet, there: RuleSet, page: str) -> dict:
    mine, theirs = {r.id: r for r in here.rules}, {r.id: r for r in there.rules}

    def rows(ids, source):
        return [{"rule": ctx.rule_link(i, page), "label": cell(f"{source[i].line} {source[i].label}"),
                 "in_force": _period(source[i])} for i in ids]
    changed = [{"rule": ctx.rule_link(i, page), "label": cell(f"{mine[i].line} {mine[i].label}"),
                "here": _period(mine[i]), "there": _period(theirs[i])}
               for i in mine if i in theirs and (mine[i].in_force_from, mine[i].in_force_to)
               != (theirs[i].in_force_from, theirs[i].in_force_to)]
    return {"only_here": rows([i for i in mine if i not in theirs], mine),
            "only_there": rows([i for i in theirs if i not in mine], theirs), "changed": changed,
            "params_here": [md(p) for p in here.params if p not in there.params],
            "params_there": [md(p) for p in there.params if p not in here.params]}


def edition_context(ctx: Ctx, name: str, pages: list[Page]) -> dict:
    page = page_of(name)
    _name, label, day, rs = next(e for e in ctx.editions if e[0] == name)
    others = [{"name": o, "link": link(page, page_of(o)), **_compare(ctx, rs, ors, page)}
              for o, _l, _d, ors in ctx.editions if o != name]
    by_page = []
    for p in pages:
        owned = {s.file for s in p.sections}
        rules = [r for r in rs.rules if r.file in owned]
        params = [param_view(ctx, q) for q in rs.params.values() if q.where.rpartition(":")[0] in owned]
        if rules or params:
            by_page.append({"title": md(p.title), "link": link(page, p.path),
                            "rules": [{"rule": ctx.rule_link(r.id, page), "line": md(r.line), "label": cell(r.label),
                                       "in_force": _period(r)} for r in rules],
                            "params": params})
    return {"name": name, "label": md(label), "day": day.isoformat() if day else "", "n_rules": len(rs.rules),
            "n_params": len(rs.params), "n_credits": len(rs.credits), "others": others, "pages": by_page,
            "rs": ctx.rs, "as_of": ctx.as_of, "changes": link(page, CHANGES)}


def changes_context(ctx: Ctx) -> dict:
    rs = ctx.rs
    dated = [param_view(ctx, p) for p in rs.params.values()
             if len(p.values) > 1 or any(v.value is None for v in p.values)]
    first = min((r.in_force_from for r in rs.rules), default=None)
    ranged = [{"rule": ctx.rule_link(r.id, CHANGES), "label": cell(r.label), "from": r.in_force_from.isoformat(),
               "to": r.in_force_to.isoformat() if r.in_force_to else ""}
              for r in rs.rules if r.in_force_to or r.in_force_from != first]
    cited: dict[str, list[str]] = {}
    for rule in rs.rules:
        text = " ".join(rule.cite.values())
        for name in CITED:
            if name in text:
                cited.setdefault(name, []).append(ctx.rule_link(rule.id, CHANGES))
    editions = [{"name": n, "label": md(label), "day": day.isoformat() if day else "",
                 "link": link(CHANGES, page_of(n)), "rules": len(ers.rules), "params": len(ers.params)}
                for n, label, day, ers in ctx.editions]
    return {"dated": dated, "ranged": ranged, "first": first, "cited": cited, "editions": editions,
            "interpretations": link(CHANGES, "reference/interpretations.md")}
