"""Resolve: what the schemas cannot check, once every file is built: references across files and their units.

Each condition and conclusion against the fact it names (known, derived, the operator for its type,
the value in its unit), parameters (known, of a compatible unit, list or single, enacted in time),
stages, families, precedence orders, roles, credit bases and computed facts' formulas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ampc.errors import Problem, did_you_mean, written
from ampc.rules import schema as S
from ampc.rules.formula import facts_used
from ampc.rules.model import All, AnyOf, Cmp, Cond, FactDef, Not, is_number, params_of
from ampc.rules.units import (
    UnitError,
    bare_number_allowed,
    check_unit,
    compatible,
    convert,
    plain,
    split_quantity,
    with_unit,
)
from ampc.rules.yamlio import Checker

if TYPE_CHECKING:
    from ampc.rules.build import Build

ANY_FAMILY = "any"  # a rule that applies to every kind of component (the qualification rules)
BAD = object()  # a value that could not be read; its problem is reported


def roles(b: Build, vocabulary: dict[str, FactDef], table: dict[str, str], where: str) -> dict[str, str]:
    """Role -> fact; every role held by exactly one fact."""
    held: dict[str, list[str]] = {}
    for fact in vocabulary.values():
        if fact.role:
            held.setdefault(fact.role, []).append(fact.name)
    out: dict[str, str] = {}
    for role in table:
        names = held.get(role, [])
        if not names:
            b.problems.append(Problem(where, f"no fact has the role '{role}'",
                                      f"add 'role: {role}' to the {table[role]} fact that holds it"))
        elif len(names) > 1:
            b.problems.append(Problem(where, f"the role '{role}' is given to {', '.join(names)}",
                                      "give each role to one fact"))
        else:
            out[role] = names[0]
    return out


def check(b: Build) -> None:
    """References that span files: facts, parameters, stages, families, precedence, credits, formulas."""
    stage_names = [s.name for s in b.stages]
    kinds = {s.name: s.kind for s in b.stages}
    for rule in b.rules:
        if kinds.get(rule.stage) in ("derive", "choose") and not rule.then:
            b.problems.append(Problem(rule.where, f"rule '{rule.id}' concludes nothing",
                                      "add 'then:' with the fact it concludes, e.g. {line: 3b}"))
        for pid in params_of(rule.when):
            param = b.params.get(pid)
            if param and rule.enacted and param.enacted and param.enacted > rule.enacted:
                b.problems.append(Problem(rule.where, f"rule '{rule.id}' (enacted {rule.enacted}) uses parameter "
                                          f"'{pid}' enacted later ({param.enacted})",
                                          "give the rule the later enactment date, or use an earlier parameter"))
    resolved: dict[int, Cmp] = {}
    for c, node, cmp in b.pending_cmps:
        fixed = _check_cmp(b, c, node, cmp)
        if fixed is not None:
            resolved[id(cmp)] = fixed
    b.rules = [replace(rule, when=_replace_cmps(rule.when, resolved),
                       review_if=_replace_cmps(rule.review_if, resolved) if rule.review_if else None)
               for rule in b.rules]
    for rule in b.rules if stage_names else ():  # no stages at all: rules/ruleset.yaml is reported
        if rule.stage not in stage_names:
            b.problems.append(Problem(rule.where, f"rule '{rule.id}' names unknown stage '{rule.stage}'"
                                      f"{did_you_mean(rule.stage, stage_names)}",
                                      f"use one of {', '.join(stage_names)}"))
    _families(b)
    _precedence(b)
    _credits(b)
    _formulas(b)
    _reviews(b)


def _families(b: Build) -> None:
    component = next((f for f in b.facts.values() if f.role == "kind"), None)
    for fam in sorted({f for r in b.rules for f in r.families} - {ANY_FAMILY}):
        if component and fam not in component.values:
            first = next(r for r in b.rules if fam in r.families)
            b.problems.append(Problem(first.where, f"family '{fam}' is not a value of the fact '{component.name}' "
                                      "(the fact with role kind)",
                                      f"add it to the values of the fact '{component.name}' in definitions/facts/"))


def _reviews(b: Build) -> None:
    """Each `review:` names a declared interpretation, and each interpretation is applied somewhere."""
    known = sorted(b.interpretations)
    named: set[str] = set()
    items = [(f"rule '{r.id}'", r.review, r.where) for r in b.rules]
    items += [(f"precedence '{p.id}'", p.review, p.where) for p in b.precedence]
    items += [(f"credit line '{c.line}'", c.review, c.where) for c in b.credits.values()]
    for what, review, where in items:
        if not review:
            continue
        named.add(review)
        if review not in b.interpretations:
            b.problems.append(Problem(where, f"{what} names the reading '{review}' in review:, which "
                                      f"definitions/interpretations.yaml does not declare{did_you_mean(review, known)}",
                                      "declare it there (title, question, law, reading, alternatives, sources) "
                                      "or name a declared one"))
    for iid, reading in b.interpretations.items():
        if iid not in named:
            b.problems.append(Problem(reading.where, f"the interpretation '{iid}' is applied by no rule, "
                                      "precedence or credit line",
                                      f"add 'review: {iid}' to what applies it, or remove it"))


def _precedence(b: Build) -> None:
    ids = {r.id: r for r in b.rules}
    for prec in b.precedence:
        for rid in prec.order:
            if rid not in ids:
                b.problems.append(Problem(prec.where, f"precedence '{prec.id}' names unknown rule '{rid}'"
                                          f"{did_you_mean(rid, ids)}", "list rule ids from rules/"))
            elif ids[rid].family != prec.family:
                b.problems.append(Problem(prec.where, f"precedence '{prec.id}' is for family '{prec.family}' "
                                          f"but rule '{rid}' is of family '{ids[rid].family}'",
                                          "keep one precedence order per family"))
    seen = set()
    for prec in b.precedence:
        if prec.family in seen:
            b.problems.append(Problem(prec.where, f"a second precedence order for family '{prec.family}'",
                                      "merge them into one order"))
        seen.add(prec.family)


def quantity(c: Checker, node: Any, key: Any, value: Any, unit: str, what: str, noun: str = "threshold") -> Any:
    """A literal quantity in `unit`: '1000 kW' converted exactly. A bare number only where the unit is
    a pure count or none (units.bare_number_allowed); elsewhere it is refused, since 125 written where
    125 kW is meant would be read as 125 W. noun: what the value is, in the problem ("the threshold",
    a condition's, which may refer to a parameter instead; "the value" of a parameter; "the bound")."""
    if not is_number(value) and not isinstance(value, str):
        c.add(node, key, f"{what}: {written(value)} is not a quantity",
              f"write a number with its unit, e.g. '125 {unit}'")
        return BAD
    try:
        magnitude, given = (Decimal(value), "") if is_number(value) else split_quantity(value)
        if given:
            return convert(magnitude, given, unit)
    except UnitError as exc:
        c.add(node, key, f"{what}: {exc.message}", exc.fix)
        return BAD
    if bare_number_allowed(unit):
        return magnitude
    shown = plain(magnitude) if is_number(value) else f"'{value}'"
    c.add(node, key, f"{what}: the {noun} {shown} has no unit (a bare number is refused where the unit is {unit})",
          f"write the unit: {with_unit(magnitude, unit)}"
          + (", or refer to a parameter: {param: <id>}" if noun == "threshold" else ""))
    return BAD


def _replace_cmps(cond: Cond, resolved: dict[int, Cmp]) -> Cond:
    if isinstance(cond, Cmp):
        return resolved.get(id(cond), cond)
    if isinstance(cond, Not):
        return Not(_replace_cmps(cond.item, resolved))
    items = tuple(_replace_cmps(i, resolved) for i in cond.items)
    return All(items) if isinstance(cond, All) else AnyOf(items)


def _check_cmp(b: Build, c: Checker, node: Any, cmp: Cmp) -> Cmp | None:
    """Check one condition (or one 'then' conclusion) against the vocabulary; return it normalized."""
    key = cmp.op if cmp.op != "then" else cmp.fact
    fact = b.facts.get(cmp.fact)
    if fact is None:
        c.add(node, "fact" if cmp.op != "then" else cmp.fact,
              f"unknown fact '{cmp.fact}'{did_you_mean(cmp.fact, b.facts)}",
              "use a fact defined in definitions/facts/, or define it there")
        return None
    if cmp.op == "then":
        if not fact.derived:
            c.add(node, key, f"'then' sets '{cmp.fact}', which is not a derived fact",
                  "mark it 'derived: true' in definitions/facts/ or conclude another fact")
        _check_literal(c, node, key, fact, cmp.literal, "is")
        return None
    if fact.type not in S.OPERATORS[cmp.op]:
        c.add(node, key, f"operator '{cmp.op}' does not apply to '{fact.name}' ({fact.type})",
              f"for a {fact.type} use {', '.join(o for o, t in S.OPERATORS.items() if fact.type in t)}")
        return None
    if cmp.param:
        param = b.params.get(cmp.param)
        if param is None:
            c.add(node, key, f"unknown parameter '{cmp.param}'{did_you_mean(cmp.param, b.params)}",
                  "define it under 'parameters:' in a rules file")
            return None
        if fact.type == "quantity" and not param.unit:
            # build reads a parameter's values in its unit: with none, not one of them is read
            c.add(node, key, f"parameter '{cmp.param}' ({param.where}) has no unit, so none of its values is read, "
                  f"but '{fact.name}' is in {fact.unit}",
                  f"give the parameter 'unit: {fact.unit}' (or another unit of the same kind) at {param.where}")
            return None
        if fact.type == "quantity" and not compatible(param.unit, fact.unit):
            c.add(node, key, f"parameter '{cmp.param}' is in {param.unit}, which cannot be compared with "
                  f"'{fact.name}' in {fact.unit}", "give the parameter a unit of the same kind as the fact")
            return None
        if (cmp.op == "one_of") != param.is_list:
            c.add(node, key, f"operator '{cmp.op}' needs a {'list' if cmp.op == 'one_of' else 'single'} "
                  f"parameter; '{cmp.param}' is {'a list' if param.is_list else 'a single value'}",
                  "use one_of with a list parameter, and comparisons with a single one")
            return None
        return cmp
    literal = _check_literal(c, node, key, fact, cmp.literal, cmp.op)
    return None if literal is BAD else replace(cmp, literal=literal)


def _check_literal(c: Checker, node: Any, key: Any, fact: FactDef, value: Any, op: str) -> Any:
    what = f"condition on '{fact.name}'"
    if op == "one_of":
        if not isinstance(value, list) or not value:
            c.add(node, key, f"{what}: 'one_of' needs a non-empty list", "write one_of: [a, b]")
            return BAD
        items = tuple(_check_literal(c, node, key, fact, v, "is") for v in value)
        return BAD if BAD in items else items
    if fact.type == "bool":
        if not isinstance(value, bool):
            c.add(node, key, f"{what}: {written(value)} is not true or false", "write true or false")
            return BAD
        return value
    if fact.type in ("enum", "set"):
        if str(value) not in fact.values:
            c.add(node, key, f"{what}: {written(value)} is not an allowed value{did_you_mean(str(value), fact.values)}",
                  f"use one of {', '.join(fact.values)}")
            return BAD
        return str(value)
    if fact.type == "quantity":
        return quantity(c, node, key, value, fact.unit, what)
    if fact.type == "date":
        if isinstance(value, dt.date):
            return value
        c.add(node, key, f"{what}: {written(value)} is not a date", "write YYYY-MM-DD")
        return BAD
    return " ".join(str(value).split()).lower()  # free text compares without regard to case or spacing


def _credits(b: Build) -> None:
    """A credit line names a line, parameters and facts that exist, in units that multiply to dollars."""
    line_values = b.facts["line"].values if "line" in b.facts else ()
    for c, spec in b.credit_specs:
        credit = b.credits[str(spec.get("line"))]
        if line_values and credit.line not in line_values:
            c.add(spec, "line", f"credit line '{credit.line}' is not a Form 7207 line",
                  f"use one of {', '.join(line_values)}")
        for key, pid in (("rate", credit.rate), *(("phase_out", p.param) for p in credit.phase_out),
                         ("review_against", credit.review_against)):
            if pid and pid not in b.params:
                c.add(spec, key, f"credit line '{credit.line}': unknown parameter '{pid}'"
                      f"{did_you_mean(pid, b.params)}", "define it under 'parameters:' as {param: <id>}")
        base_unit = _base_unit(b, c, spec, credit)
        rate = b.params.get(credit.rate)
        if rate and base_unit and credit.rate not in b.unit_refused:
            try:
                if not compatible(str(check_unit(f"({rate.unit})*({base_unit})")), "USD"):
                    raise UnitError("", "")
            except UnitError:
                c.add(spec, "rate", f"credit line '{credit.line}': the rate in {rate.unit} times the base in "
                      f"{base_unit} is not an amount of money", "give the rate a unit such as USD/W or percent")


def _base_unit(b: Build, c: Checker, spec: dict, credit: Any) -> str:
    """The unit of what the credit line's rate multiplies, or '' when its fact or column is wrong."""
    base = credit.base
    fact_name = base.get("units_times_fact")
    column = base.get("units_times_column") or base.get("column")
    if fact_name:
        fact = b.facts.get(str(fact_name))
        if fact is None or fact.type != "quantity":
            c.add(spec, "base", f"credit line '{credit.line}': '{fact_name}' is not a quantity fact"
                  f"{did_you_mean(str(fact_name), b.facts)}", "name a quantity fact from definitions/facts/")
            return ""
        capped = base.get("capped_by")
        if isinstance(capped, dict) and isinstance(capped.get("ratio"), dict):
            other = b.facts.get(str(capped.get("fact")))
            ratio = str(capped["ratio"].get("param", ""))
            if other is None or other.type != "quantity" or ratio not in b.params:
                c.add(spec, "base", f"credit line '{credit.line}': capped_by needs a quantity fact and "
                      "a ratio parameter", "write capped_by: {fact: max_discharge, ratio: {param: <id>}}")
                return ""
            if not compatible(f"({other.unit})*({b.params[ratio].unit})", fact.unit):
                c.add(spec, "base", f"credit line '{credit.line}': {other.unit} x {b.params[ratio].unit} "
                      f"is not {fact.unit}", "give the ratio a unit that turns the fact into the capacity")
                return ""
            if "ratio_fact" in capped and not _ratio_fact(b, c, spec, credit.line, str(fact_name), capped,
                                                          b.params[ratio].unit):
                return ""
        return fact.unit
    if column:
        col = b.ledger.get(str(column))
        if col is None or col.type != "quantity":
            c.add(spec, "base", f"credit line '{credit.line}': '{column}' is not a quantity column of "
                  f"definitions/ledger.yaml{did_you_mean(str(column), b.ledger)}", "name a ledger column")
            return ""
        return col.unit
    return ""


def _ratio_fact(b: Build, c: Checker, spec: dict, line: str, capped_fact: str, capped: dict, limit_unit: str) -> bool:
    """capped_by's `ratio_fact`: the capped fact over the cap's fact (computed as exactly that ratio,
    and declared given instead of the cap's fact), in a unit the limit compares with; so that where
    only the ratio is given, the value counted is the capped fact x limit / ratio."""
    name, other = str(capped["ratio_fact"]), str(capped.get("fact"))
    fact = b.facts.get(name)
    if fact is None or fact.computed != {"ratio": [capped_fact, other]} or other not in fact.given_instead_of:
        c.add(spec, "base", f"credit line '{line}': capped_by's ratio_fact '{name}' must be a fact computed as "
              f"{{ratio: [{capped_fact}, {other}]}} and given instead of {other}"
              f"{did_you_mean(name, b.facts) if fact is None else ''}",
              f"define it in definitions/facts/ with computed: {{ratio: [{capped_fact}, {other}]}} and "
              f"given_instead_of: [{other}], or remove ratio_fact")
        return False
    if not compatible(fact.unit, limit_unit):
        c.add(spec, "base", f"credit line '{line}': the ratio_fact '{name}' in {fact.unit} cannot be compared with "
              f"the limit in {limit_unit}", "give the fact and the limit units of the same kind")
        return False
    return True


def _well_formed(node: Any) -> bool:
    """The formula's shape, as the schema states it (its problems are reported there)."""
    if isinstance(node, str):
        return True
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in S.FORMULAS:
        return False
    operands = next(iter(node.values()))
    return isinstance(operands, list) and len(operands) >= 2 and all(_well_formed(o) for o in operands)


def _formulas(b: Build) -> None:
    """A computed fact is a quantity, and its formula uses quantity facts only."""
    for name, fact in b.facts.items():
        if fact.computed is None:
            continue
        where = b.fact_where.get(name, "definitions/facts/")
        if fact.type != "quantity":
            b.problems.append(Problem(where, f"computed fact '{name}' must be a quantity", "give it type: quantity"))
            continue
        if not _well_formed(fact.computed):
            continue
        for used in facts_used(fact.computed):
            other = b.facts.get(used)
            if other is None or other.type != "quantity":
                b.problems.append(Problem(where, f"computed fact '{name}' uses '{used}', which is not a quantity "
                                          f"fact{did_you_mean(used, b.facts)}", "use quantity facts defined in "
                                          "definitions/facts/, or a number with its unit such as '0 USD'"))
        _given_instead_of(b, name, fact, where)


def _given_instead_of(b: Build, name: str, fact: FactDef, where: str) -> None:
    """A computed fact a catalog may give stands in for inputs of its own formula, never for a derived fact."""
    used = facts_used(fact.computed)
    for instead in fact.given_instead_of:
        if instead not in used:
            b.problems.append(Problem(where, f"computed fact '{name}' is given instead of '{instead}', which its "
                                      f"formula does not use{did_you_mean(instead, used)}",
                                      f"list facts its formula uses: {', '.join(dict.fromkeys(used))}"))
    if fact.given_instead_of and fact.derived:
        b.problems.append(Problem(where, f"computed fact '{name}' is derived, so no catalog gives it",
                                  "remove 'given_instead_of' or 'derived'"))
