"""Build: the frozen RuleSet from the parsed files, converting every value to its canonical unit.

Runs after validate, on every file (a file with shape problems too, so that each of its problems is
reported): what the schema refused is skipped here, never reported twice. What needs the vocabulary
of other files (facts, parameters, units, stages) is checked here and in resolve.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ampc.errors import Problem
from ampc.rules import bounds, coverage, resolve, vocabulary
from ampc.rules import schema as S
from ampc.rules.model import (
    All,
    AnyOf,
    CiteAmendment,
    Cmp,
    Cond,
    CreditLine,
    Edition,
    FactDef,
    Interpretation,
    Not,
    Param,
    ParamValue,
    PhaseOut,
    Precedence,
    Rule,
    RuleSet,
    Section,
    Stage,
)
from ampc.rules.parse import Parsed
from ampc.rules.resolve import BAD, quantity
from ampc.rules.units import Refusal, UnitError, check_unit
from ampc.rules.yamlio import Checker, line_of


class Build:
    """What the files define so far, and where; the checks that span files read it (resolve)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.facts: dict[str, FactDef] = {}
        self.fact_where: dict[str, str] = {}
        self.ledger: dict[str, FactDef] = {}
        self.params: dict[str, Param] = {}
        self.param_where: dict[str, str] = {}
        self.rules: list[Rule] = []
        self.rule_where: dict[str, str] = {}
        self.precedence: list[Precedence] = []
        self.sections: list[Section] = []
        self.stages: list[Stage] = []
        self.refusals: dict[str, Refusal] = {}
        self.unit_refused: set[str] = set()  # parameters whose unit was reported: nothing more said of it
        self.glossary: dict = {}
        self.interpretations: dict[str, Interpretation] = {}
        self.credits: dict[str, CreditLine] = {}
        self.credit_specs: list[tuple[Checker, dict]] = []
        self.pending_cmps: list[tuple[Checker, Any, Cmp]] = []  # conditions and conclusions, for resolve
        self.editions: dict = {}
        self.name = ""


def build(parsed: Parsed, sha256: str) -> tuple[RuleSet | None, list[Problem]]:
    """The rule set, or None and the problems found building it."""
    b = Build([])
    for doc in parsed.docs:
        c = Checker(doc.path, b.problems)
        if not isinstance(doc.data, dict):
            continue  # the schema says what it should be
        if doc.kind == "ruleset":
            _ruleset_file(b, doc.data)
        elif doc.kind in ("facts", "ledger"):
            _facts_file(b, c, doc.data, doc.kind)
        elif doc.kind == "units":
            for unit, spec in _map(doc.data.get("refuse")).items():
                if isinstance(spec, dict):
                    for part in _list(spec.get("made_of")):
                        try:
                            check_unit(str(part))
                        except UnitError as exc:
                            c.add(spec, "made_of", f"refusal of '{unit}': {exc.message}", exc.fix)
                    b.refusals[str(unit)] = Refusal(str(unit), str(spec.get("instead_of", "")),
                                                    _words(spec.get("reason")),
                                                    tuple(str(u) for u in _list(spec.get("made_of"))))
        elif doc.kind in ("facilities", "form_lines"):
            continue  # the worksheet's own declarations, read by ampc/credit/filer.py (checked by their schemas)
        elif doc.kind == "interpretations":
            for iid, spec in _map(doc.data.get("interpretations")).items():
                if isinstance(spec, dict):
                    b.interpretations[str(iid)] = Interpretation(
                        str(iid), _words(spec.get("title")), _words(spec.get("question")), _words(spec.get("law")),
                        _words(spec.get("reading")), tuple(_words(a) for a in _list(spec.get("alternatives"))),
                        tuple(dict(r) for r in _list(spec.get("sources")) if isinstance(r, dict)),
                        c.at(doc.data["interpretations"], iid))
        elif doc.kind == "glossary":
            for term, spec in _map(doc.data.get("terms")).items():
                if isinstance(spec, dict):
                    b.glossary[str(term)] = {k: _words(v) for k, v in spec.items()}
        else:
            _rules_file(b, c, doc.data)
    roles = resolve.roles(b, b.facts, S.FACT_ROLES, "definitions/facts/")
    ledger_roles = resolve.roles(b, b.ledger, S.LEDGER_ROLES, "definitions/ledger.yaml") if b.ledger else {}
    resolve.check(b)
    coverage.check(b, parsed)  # what rules/ruleset.yaml `requires`
    bounds.check(b, parsed)  # thresholds the fact's range rules out
    bounds.check_precision(b, parsed)  # thresholds between two values a fact can take
    vocabulary.check_headers(b.facts, b.fact_where, b.problems)
    if b.problems:
        return None, b.problems
    return RuleSet(
        name=b.name, root=str(parsed.root), sha256=sha256,
        stages=tuple(b.stages), facts=b.facts, params=b.params, rules=tuple(b.rules),
        precedence=tuple(b.precedence), refusals=b.refusals, sections=tuple(b.sections),
        glossary=b.glossary, interpretations=b.interpretations, credits=b.credits, ledger=b.ledger,
        editions=b.editions, roles=roles,
        ledger_roles=ledger_roles), []


def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _words(value: Any) -> str:
    """Text as one line: YAML's folded and literal blocks joined, spacing normalized."""
    return " ".join(str(value if value is not None else "").split())


def date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _ruleset_file(b: Build, data: dict) -> None:
    b.name = _text(data.get("name"))
    for entry in _list(data.get("stages")):
        if isinstance(entry, dict) and entry.get("kind") in S.STAGE_KINDS:
            b.stages.append(Stage(str(entry.get("name")), entry["kind"], str(entry.get("label", ""))))
    for entry in _list(data.get("editions")):
        if isinstance(entry, dict):
            b.editions[str(entry.get("name"))] = Edition(
                _words(entry.get("label", "")), date(entry.get("enacted_by")), _words(entry.get("form", "")),
                tuple(str(a) for a in _list(entry.get("aliases"))))


def _facts_file(b: Build, c: Checker, data: dict, kind: str) -> None:
    is_fact = kind == "facts"
    target, top = (b.facts, "facts") if is_fact else (b.ledger, "columns")
    facts = _map(data.get(top))
    for name, spec in facts.items():
        what = f"{'fact' if is_fact else 'column'} '{name}'"
        ftype = spec.get("type") if isinstance(spec, dict) else None
        if ftype not in S.FACT_TYPES:
            continue
        unit = spec.get("unit", "") if ftype == "quantity" else ""
        if unit and isinstance(unit, str):
            try:
                check_unit(unit)
            except UnitError as exc:
                c.add(spec, "unit", f"{what}: {exc.message}", exc.fix)
        if is_fact and str(name) in target:
            c.add(facts, name, f"fact '{name}' is defined twice (also in {b.fact_where[str(name)]})",
                  "define each fact once across definitions/facts/")
            continue
        if is_fact:
            b.fact_where[str(name)] = c.at(facts, name)
        target[str(name)] = FactDef(
            name=str(name), type=ftype, label=_text(spec.get("label")), description=_text(spec.get("description")),
            unit=str(unit or ""), **vocabulary.values_of(c, spec, what, ftype),
            source=str(spec.get("source", "") or ""),
            derived=bool(spec.get("derived", False)), bare_number=bool(spec.get("bare_number", True)),
            computed=spec.get("computed"), given_instead_of=tuple(str(n) for n in _list(spec.get("given_instead_of"))),
            role=_role(c, spec, what, S.FACT_ROLES if is_fact else S.LEDGER_ROLES),
            **bounds.declared_range(c, spec, what, str(unit or "")),
            **bounds.declared_precision(c, spec, what, str(unit or "")))


def _role(c: Checker, spec: dict, what: str, roles: dict[str, str]) -> str:
    role = spec.get("role")
    if not isinstance(role, str) or role not in roles:
        return ""  # none, or one the schema refused
    if spec["type"] != roles[role]:
        c.add(spec, "role", f"{what} has role '{role}', which needs a {roles[role]} fact, not {spec['type']}",
              f"give the role to a {roles[role]} fact")
    return role


def _rules_file(b: Build, c: Checker, data: dict) -> None:
    section = data.get("section")
    if isinstance(section, dict):
        b.sections.append(Section(str(section.get("id", "")), _text(section.get("title")),
                                  _words(section.get("instructions") or ""), c.path))
    params = _map(data.get("parameters"))
    for pid, spec in params.items():
        _param(b, c, params, str(pid), spec)
    for entry in _list(data.get("precedence")):
        if isinstance(entry, dict):
            b.precedence.append(Precedence(str(entry.get("id", "")), str(entry.get("family", "")),
                                           tuple(str(o) for o in _list(entry.get("order"))),
                                           _words(entry.get("reason", "")), str(entry.get("review", "")),
                                           c.at(entry, "order")))
    for spec in _list(data.get("rules")):
        _rule(b, c, spec)
    for spec in _list(data.get("credits")):
        _credit(b, c, spec)


def _param(b: Build, c: Checker, parent: dict, pid: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    what = f"parameter '{pid}'"
    if pid in b.param_where:
        c.add(parent, pid, f"duplicate parameter id '{pid}' (also at {b.param_where[pid]})",
              "give each parameter a unique id")
        return
    unit = spec.get("unit") if isinstance(spec.get("unit"), str) else ""
    if unit:
        try:
            check_unit(unit)
        except UnitError as exc:
            c.add(spec, "unit", f"{what}: {exc.message}", exc.fix)
            b.unit_refused.add(pid)
            unit = ""
    values: list[ParamValue] = []
    raw = _map(spec.get("values"))
    for key, value in raw.items():
        start = date(key)
        if start is None:
            continue  # not a date: the schema says so
        parsed = _param_value(c, raw, key, value, unit, what)
        if parsed is not BAD:
            values.append(ParamValue(start, parsed))
    values.sort(key=lambda v: v.start)
    keyed = spec.get("keyed_on", "sale")
    b.param_where[pid] = c.at(parent, pid)
    b.params[pid] = Param(pid, _text(spec.get("label")), _words(_text(spec.get("description"))), unit, tuple(values),
                          tuple(dict(r) for r in _list(spec.get("references")) if isinstance(r, dict)),
                          c.at(parent, pid), keyed if keyed in S.KEYED_ON else "sale", date(spec.get("enacted")))


def _param_value(c: Checker, node: Any, key: Any, value: Any, unit: str, what: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        items = [_param_value(c, node, key, v, unit, what) for v in value]
        return BAD if BAD in items else tuple(items)
    if not unit:
        return BAD
    return quantity(c, node, key, value, unit, what, noun="value")


def _rule(b: Build, c: Checker, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    rid = str(spec.get("id", "")) or f"(rule at line {line_of(spec)})"
    if rid in b.rule_where:
        c.add(spec, "id", f"duplicate rule id '{rid}' (also at {b.rule_where[rid]})", "give each rule a unique id")
        return
    b.rule_where[rid] = c.at(spec, "id")
    what = f"rule '{rid}'"
    cite, in_force, then = _map(spec.get("cite")), _map(spec.get("in_force")), spec.get("then", {})
    when = _cond(b, c, spec.get("when"), what) if "when" in spec else None
    for fact, value in _map(then).items():
        b.pending_cmps.append((c, then, Cmp(str(fact), "then", literal=value, where=c.at(then, fact))))
    start = date(in_force.get("from"))
    if when is None or start is None or not isinstance(then, dict):
        return
    family = spec.get("family", "")
    families = tuple(str(f) for f in family) if isinstance(family, list) else (str(family),)
    keyed = in_force.get("keyed_on", "sale")
    review_when = spec.get("review_when", ["holds"])
    review_if = _cond(b, c, spec["review_if"], f"{what}, review_if") if "review_if" in spec else None
    b.rules.append(Rule(
        id=rid, stage=str(spec.get("stage", "")), family=families[0] if len(families) == 1 else "+".join(families),
        families=families, keyed_on=keyed if keyed in S.KEYED_ON else "sale", enacted=date(spec.get("enacted")),
        review_when=tuple(review_when) if isinstance(review_when, list) and review_when else ("holds",),
        ended=date(in_force.get("ended")), line=str(spec.get("line", "")), label=_text(spec.get("label")),
        text=_words(_text(spec.get("text"))), cite={str(k): str(v) for k, v in cite.items()},
        in_force_from=start, in_force_to=date(in_force.get("to")), when=when, then=dict(then),
        where=c.at(spec, "id"), file=c.path, notes=_words(spec.get("notes") or ""),
        review=str(spec.get("review", "") or ""), review_if=review_if, cite_as_amended=_cite_as_amended(c, spec, what)))


CITE_KEYS = ("instructions", "irc", "form", "regulations", "statute")  # rules.schema.json, $defs/cite


def _cite_as_amended(c: Checker, spec: Any, what: str) -> tuple[CiteAmendment, ...]:
    """The rule's later citations (`cite_as_amended`: one mapping or a list), each replacing some of
    its `cite` for taxable years beginning after its date. The schema checks their shape; here, that
    each names a citation and replaces one the rule has."""
    node = spec.get("cite_as_amended")
    if node is None:
        return ()
    cite = _map(spec.get("cite"))
    out = []
    for entry in node if isinstance(node, list) else [node]:
        after, enacted = date(_map(entry).get("taxable_years_beginning_after")), date(_map(entry).get("enacted"))
        if not isinstance(entry, dict) or after is None or enacted is None or not isinstance(entry.get("by"), str):
            continue  # the schema said what is wrong
        given = {str(k): str(v) for k, v in entry.items() if k in CITE_KEYS}
        if not given:
            c.add(entry, None, f"'cite_as_amended' of {what} names no citation",
                  f"give the citations as amended, by the keys of its cite ({', '.join(map(str, cite))}), "
                  "e.g. irc: 45X(c)(6)(S)")
            continue
        unknown = [k for k in given if k not in cite]
        if unknown:
            c.add(entry, unknown[0], f"'cite_as_amended' of {what} replaces '{unknown[0]}', which its cite has not",
                  f"amend a citation the rule has ({', '.join(map(str, cite))}), or add '{unknown[0]}' to its cite")
            continue
        out.append(CiteAmendment(after, str(entry["by"]), enacted, given))
    return tuple(out)


def _cond(b: Build, c: Checker, node: Any, what: str) -> Cond | None:
    """The condition as data; None where the schema refused its shape."""
    if not isinstance(node, dict):
        return None
    groups = [k for k in node if k in S.GROUP_KEYS]
    if groups:
        kind = groups[0]
        if kind == "not":
            inner = _cond(b, c, node[kind], what)
            return Not(inner) if inner else None
        body = node[kind]
        if not isinstance(body, list) or not body:
            return None
        items = [_cond(b, c, item, what) for item in body]
        if any(i is None for i in items):
            return None
        return All(tuple(items)) if kind == "all" else AnyOf(tuple(items))  # type: ignore[arg-type]
    ops = [k for k in node if k in S.OPERATORS]
    if len(ops) != 1 or not isinstance(node.get("fact"), str):
        return None
    op = ops[0]
    value = node[op]
    param, literal = "", value
    if isinstance(value, dict):
        if set(value) != {"param"}:
            return None
        param, literal = str(value["param"]), None
    cmp = Cmp(node["fact"], op, literal=literal, param=param, clause=_words(node.get("clause") or ""),
              where=c.at(node, op))
    b.pending_cmps.append((c, node, cmp))
    return cmp


def _credit(b: Build, c: Checker, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    line = str(spec.get("line", ""))
    if line in b.credits:
        c.add(spec, "line", f"credit line '{line}' is defined twice", "define each line's credit once")
        return
    base = spec.get("base")
    if not isinstance(base, dict) or len(set(base) & {"units_times_fact", "units_times_column", "column"}) != 1:
        return
    rate, phase = spec.get("rate"), spec.get("phase_out") or []
    phases = []
    for entry in phase if isinstance(phase, list) else [phase]:
        if isinstance(entry, dict) and "param" in entry:
            period = _map(entry.get("in_force"))
            phases.append(PhaseOut(str(entry["param"]), date(period.get("from")), date(period.get("to")),
                                   str(period.get("keyed_on", "sale"))))
    cite = spec.get("cite")
    b.credits[line] = CreditLine(
        line=line, column_a=str(spec.get("column_a", "")), column_b=str(spec.get("column_b", "")),
        rate=str(rate.get("param", "")) if isinstance(rate, dict) else "", base=dict(base), phase_out=tuple(phases),
        keyed_on=str(spec.get("keyed_on")), cite={str(k): str(v) for k, v in _map(cite).items()},
        notes=_words(spec.get("notes") or ""), where=c.at(spec, "line"), part=str(spec.get("part", "II")),
        review=str(spec.get("review", "") or ""),
        review_against=str(_map(spec.get("review_against")).get("param", "")),
        efile={str(k): str(v) for k, v in _map(spec.get("efile")).items()})
    b.credit_specs.append((c, spec))
