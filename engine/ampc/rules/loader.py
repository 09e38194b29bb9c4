"""Load rules/ and definitions/ into a RuleSet, reporting every problem as file:line, what and fix."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.errors import Problem, ValidationFailed, did_you_mean, written
from ampc.rules import schema as S
from ampc.rules.expand import expand
from ampc.rules.model import (
    All,
    AnyOf,
    Cmp,
    Cond,
    CreditLine,
    FactDef,
    Not,
    Param,
    ParamValue,
    PhaseOut,
    Precedence,
    Rule,
    RuleSet,
    Section,
    Stage,
    is_number,
)
from ampc.rules.units import Refusal, UnitError, check_unit, compatible, convert, split_quantity
from ampc.rules.yamlio import load_yaml

RULESET_FILE = "ruleset.yaml"
ANY_FAMILY = "any"  # a rule that applies to every kind of component (the qualification rules)


def default_root() -> Path:
    """The bundled rule set: the directory holding rules/ and definitions/."""
    here = Path.cwd()
    project = Path(__file__).resolve().parents[3]  # engine/ampc/rules/loader.py -> the project
    for candidate in (here, *here.parents, project):
        if (candidate / "rules" / RULESET_FILE).is_file() and (candidate / "definitions").is_dir():
            return candidate
    return project


def content_hash(root: Path) -> str:
    """sha256 over the relative path and bytes of every file under rules/ and definitions/."""
    digest = hashlib.sha256()
    for sub in ("rules", "definitions"):
        for path in sorted((root / sub).rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml"):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_ruleset(root: Path | str | None = None, known_on: dt.date | None = None) -> RuleSet:
    """The rule set at root, or ValidationFailed listing every problem found.

    known_on: the edition of the law as enacted by that date; rules and parameters enacted later
    (the `enacted:` key) are left out, so one set of YAML files gives every edition.
    """
    ruleset, problems = _load(Path(root) if root else default_root())
    if problems:
        raise ValidationFailed(problems)
    assert ruleset is not None
    return edition(ruleset, known_on) if known_on else ruleset


def edition(ruleset: RuleSet, known_on: dt.date) -> RuleSet:
    """The rule set as the law stood when enacted by known_on."""
    from dataclasses import replace

    def known(item) -> bool:
        return item.enacted is None or item.enacted <= known_on
    params = {k: p for k, p in ruleset.params.items() if known(p)}
    credits = {line: replace(c, phase_out=tuple(p for p in c.phase_out if p.param in params))
               for line, c in ruleset.credits.items() if c.rate in params}
    # a rule ended by a later law was open-ended in this edition
    rules = tuple(r if r.ended is None or r.ended <= known_on else replace(r, in_force_to=None, ended=None)
                  for r in ruleset.rules if known(r))
    return replace(ruleset, rules=rules, params=params, credits=credits, known_on=known_on)


def validate(root: Path | str | None = None) -> list[Problem]:
    return _load(Path(root) if root else default_root())[1]


class _Build:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.facts: dict[str, FactDef] = {}
        self.fact_where: dict[str, str] = {}
        self.params: dict[str, Param] = {}
        self.param_where: dict[str, str] = {}
        self.rules: list[Rule] = []
        self.rule_where: dict[str, str] = {}
        self.precedence: list[Precedence] = []
        self.sections: list[Section] = []
        self.stages: list[Stage] = []
        self.refusals: dict[str, Refusal] = {}
        self.glossary: dict = {}
        self.name = ""
        self.version = ""
        self.pending_cmps: list[tuple[S.Checker, Any, Cmp]] = []
        self.credits: dict = {}
        self.credit_checkers: list = []
        self.ledger: dict[str, FactDef] = {}
        self.editions: dict = {}

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def read(self, path: Path) -> tuple[Any, S.Checker]:
        shown = self.rel(path)
        data, problems = load_yaml(path, shown)
        self.problems.extend(problems)
        return data, S.Checker(shown)


def _load(root: Path) -> tuple[RuleSet | None, list[Problem]]:
    b = _Build(root)
    for sub in ("rules", "definitions"):
        if not (root / sub).is_dir():
            b.problems.append(Problem(str(root / sub), f"no {sub}/ directory here",
                                      "run from the project root, or pass the directory that holds "
                                      "rules/ and definitions/"))
    if b.problems:
        return None, b.problems
    _ruleset_file(b, root / "rules" / RULESET_FILE)
    fact_files = sorted((root / "definitions" / "facts").glob("*.y*ml"))
    if not fact_files:
        b.problems.append(Problem("definitions/facts/", "no fact files",
                                  "define the fact vocabulary in definitions/facts/*.yaml, each with 'facts:'"))
    for path in fact_files:
        _facts_file(b, path)
    _units_file(b, root / "definitions" / "units.yaml")
    if (root / "definitions" / "ledger.yaml").is_file():
        _facts_file(b, root / "definitions" / "ledger.yaml", "columns", b.ledger)
    _glossary_file(b, root / "definitions" / "glossary.yaml")
    for path in sorted((root / "rules").rglob("*.y*ml")):
        if path.name != RULESET_FILE:
            _rules_file(b, path)
    roles = _roles(b, b.facts, S.FACT_ROLES, "definitions/facts/")
    ledger_roles = _roles(b, b.ledger, S.LEDGER_ROLES, "definitions/ledger.yaml") if b.ledger else {}
    _cross_checks(b)
    problems = [p for p in b.problems if p]
    if problems:
        return None, problems
    ruleset = RuleSet(
        name=b.name, version=b.version, root=str(root), sha256=content_hash(root),
        stages=tuple(b.stages), facts=b.facts, params=b.params, rules=tuple(b.rules),
        precedence=tuple(b.precedence), refusals=b.refusals, sections=tuple(b.sections),
        glossary=b.glossary, credits=b.credits, ledger=b.ledger, editions=b.editions, roles=roles,
        ledger_roles=ledger_roles)
    return ruleset, []


def _hand_over(b: _Build, c: S.Checker) -> None:
    """Move a file's problems to the build's list (once: the checker is emptied)."""
    b.problems.extend(c.problems)
    c.problems.clear()


def _ruleset_file(b: _Build, path: Path) -> None:
    if not path.is_file():
        b.problems.append(Problem(b.rel(path), "missing", "create rules/ruleset.yaml with name, version and stages"))
        return
    data, c = b.read(path)
    if data is None or not c.mapping(data, "the rule set file"):
        _hand_over(b, c)
        return
    c.keys(data, S.RULESET_KEYS, {"name", "version", "stages"}, "the rule set file")
    b.name = c.text(data, "name", "the rule set")
    b.version = str(data.get("version", ""))
    stages = data.get("stages") or []
    if not isinstance(stages, list):
        c.add(data, "stages", "'stages' must be a list", "list the stages in order")
        stages = []
    for entry in stages:
        if not c.mapping(entry, "a stage", data, "stages"):
            continue
        c.keys(entry, S.STAGE_KEYS, {"name", "kind"}, "a stage")
        kind = entry.get("kind")
        if kind not in S.STAGE_KINDS:
            c.add(entry, "kind", f"unknown stage kind {written(kind)}{did_you_mean(str(kind), S.STAGE_KINDS)}",
                  f"use one of {', '.join(S.STAGE_KINDS)}")
            continue
        b.stages.append(Stage(str(entry.get("name")), kind, str(entry.get("label", ""))))
    for entry in data.get("editions") or []:
        if c.mapping(entry, "an edition", data, "editions"):
            c.keys(entry, {"name", "label", "enacted_by"}, {"name", "label"}, "an edition")
            day = c.date(entry, "enacted_by", "an edition") if "enacted_by" in entry else None
            b.editions[str(entry.get("name"))] = (" ".join(str(entry.get("label", "")).split()), day)
    _hand_over(b, c)


def _facts_file(b: _Build, path: Path, top: str = "facts", into: dict | None = None) -> None:
    target = b.facts if into is None else into
    data, c = b.read(path)
    if data is None or not c.mapping(data, "the facts file"):
        _hand_over(b, c)
        return
    c.keys(data, {top}, {top}, "the file")
    facts = data.get(top) or {}
    if not c.mapping(facts, f"'{top}'", data, top):
        facts = {}
    for name, spec in facts.items():
        what = f"fact '{name}'"
        if not c.mapping(spec, what, facts, name):
            continue
        c.keys(spec, S.FACT_KEYS, S.FACT_REQUIRED, what)
        ftype = spec.get("type")
        if ftype not in S.FACT_TYPES:
            c.add(spec, "type", f"{what} has unknown type {written(ftype)}{did_you_mean(str(ftype), S.FACT_TYPES)}",
                  f"use one of {', '.join(S.FACT_TYPES)}")
            continue
        unit = spec.get("unit", "")
        if ftype == "quantity":
            if not unit:
                c.add(spec, None, f"{what} is a quantity without a unit", "add 'unit:' (its canonical unit, e.g. W)")
            else:
                try:
                    check_unit(str(unit))
                except UnitError as exc:
                    c.add(spec, "unit", f"{what}: {exc.message}", exc.fix)
        elif unit:
            c.add(spec, "unit", f"{what} is a {ftype} and cannot have a unit", "remove 'unit:' or make it a quantity")
        values = spec.get("values") or []
        if ftype in ("enum", "set"):
            if not isinstance(values, list) or not values:
                c.add(spec, "values", f"{what} is an {ftype} without its allowed values", "add 'values: [a, b, ...]'")
                values = []
        elif values:
            c.add(spec, "values", f"{what} is a {ftype}; only enum and set facts list values", "remove 'values:'")
        if str(name) in target:
            c.add(facts, name, f"fact '{name}' is defined twice (also in {b.fact_where[str(name)]})",
                  "define each fact once across definitions/facts/")
            continue
        if into is None:
            b.fact_where[str(name)] = c.at(facts, name)
        if name in ("id", "sid") or not str(name).isidentifier():
            c.add(facts, name, f"fact name '{name}' is not allowed", "use a lower_case_identifier other than id or sid")
        target[str(name)] = FactDef(
            name=str(name), type=ftype, label=c.text(spec, "label", what),
            description=c.text(spec, "description", what), unit=str(unit or ""),
            values=tuple(str(v) for v in values), source=str(spec.get("source", "") or ""),
            derived=bool(spec.get("derived", False)), bare_number=bool(spec.get("bare_number", True)),
            computed=spec.get("computed"), role=_role(c, spec, what, into is None, ftype))
    _hand_over(b, c)


def _role(c: S.Checker, spec: dict, what: str, is_fact: bool, ftype: str) -> str:
    if "role" not in spec:
        return ""
    roles = S.FACT_ROLES if is_fact else S.LEDGER_ROLES
    role = str(spec.get("role"))
    if role not in roles:
        c.add(spec, "role", f"{what} has unknown role '{role}'{did_you_mean(role, roles)}",
              f"use one of {', '.join(roles)}, or remove 'role:'")
        return ""
    if ftype != roles[role]:
        c.add(spec, "role", f"{what} has role '{role}', which needs a {roles[role]} fact, not {ftype}",
              f"give the role to a {roles[role]} fact")
    return role


def _roles(b: _Build, vocabulary: dict[str, FactDef], roles: dict[str, str], where: str) -> dict[str, str]:
    """Role -> fact; every role held by exactly one fact."""
    held: dict[str, list[str]] = {}
    for fact in vocabulary.values():
        if fact.role:
            held.setdefault(fact.role, []).append(fact.name)
    out: dict[str, str] = {}
    for role in roles:
        names = held.get(role, [])
        if not names:
            b.problems.append(Problem(where, f"no fact has the role '{role}'",
                                      f"add 'role: {role}' to the {roles[role]} fact that holds it"))
        elif len(names) > 1:
            b.problems.append(Problem(where, f"the role '{role}' is given to {', '.join(names)}",
                                      "give each role to one fact"))
        else:
            out[role] = names[0]
    return out


def _units_file(b: _Build, path: Path) -> None:
    if not path.is_file():
        return
    data, c = b.read(path)
    if data is None or not c.mapping(data, "the units file"):
        _hand_over(b, c)
        return
    c.keys(data, {"refuse"}, set(), "the units file")
    for unit, spec in (data.get("refuse") or {}).items():
        if not c.mapping(spec, f"refusal of '{unit}'", data, "refuse"):
            continue
        c.keys(spec, {"instead_of", "reason"}, {"instead_of", "reason"}, f"refusal of '{unit}'")
        b.refusals[str(unit)] = Refusal(str(unit), str(spec.get("instead_of", "")),
                                        " ".join(str(spec.get("reason", "")).split()))
    _hand_over(b, c)


def _glossary_file(b: _Build, path: Path) -> None:
    if not path.is_file():
        return
    data, c = b.read(path)
    if data is None or not c.mapping(data, "the glossary"):
        _hand_over(b, c)
        return
    c.keys(data, {"terms"}, {"terms"}, "the glossary")
    for term, spec in (data.get("terms") or {}).items():
        if c.mapping(spec, f"term '{term}'", data, "terms"):
            c.keys(spec, {"label", "text", "source"}, {"label", "text", "source"}, f"term '{term}'")
            b.glossary[str(term)] = {k: " ".join(str(v).split()) for k, v in spec.items()}
    _hand_over(b, c)


def _rules_file(b: _Build, path: Path) -> None:
    data, c = b.read(path)
    if data is None:
        _hand_over(b, c)
        return
    data, problems = expand(data, b.rel(path))  # file-level defaults and tables, as data
    b.problems.extend(problems)
    if not c.mapping(data, "a rules file"):
        _hand_over(b, c)
        return
    c.keys(data, S.RULES_FILE_KEYS, {"section"}, "a rules file")
    section = data.get("section")
    if c.mapping(section, "'section'", data, "section"):
        c.keys(section, S.SECTION_KEYS, {"id", "title"}, "'section'")
        b.sections.append(Section(str(section.get("id", "")), c.text(section, "title", "the section"),
                                  " ".join(str(section.get("instructions", "") or "").split()), c.path))
    for pid, spec in (data.get("parameters") or {}).items():
        _param(b, c, data["parameters"], str(pid), spec)
    for entry in data.get("precedence") or []:
        _precedence(b, c, data, entry)
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        c.add(data, "rules", "'rules' must be a list of rules", "start each rule with '- id: ...'")
        rules = []
    for spec in rules:
        _rule(b, c, data, spec)
    for spec in data.get("credits") or []:
        _credit(b, c, data, spec)
    _hand_over(b, c)


def _credit(b: _Build, c: S.Checker, parent: Any, spec: Any) -> None:
    if not c.mapping(spec, "a credit line", parent, "credits"):
        return
    line = str(spec.get("line", ""))
    what = f"credit line '{line}'"
    c.keys(spec, S.CREDIT_KEYS, S.CREDIT_REQUIRED, what)
    if line in b.credits:
        c.add(spec, "line", f"{what} is defined twice", "define each line's credit once")
        return
    base = spec.get("base") or {}
    if not isinstance(base, dict) or len(set(base) & S.BASE_KINDS) != 1:
        c.add(spec, "base", f"{what}: 'base' must name exactly one of {', '.join(sorted(S.BASE_KINDS))}",
              "e.g. base: {units_times_fact: ac_capacity}")
        return
    keyed = spec.get("keyed_on")
    if keyed not in ("sale", "production"):
        c.add(spec, "keyed_on", f"{what}: keyed_on must be sale or production", "write keyed_on: sale")
    rate = spec.get("rate") or {}
    phase = spec.get("phase_out") or []
    phases = []
    for entry in phase if isinstance(phase, list) else [phase]:
        if not isinstance(entry, dict) or "param" not in entry:
            c.add(spec, "phase_out", f"{what}: a phase-out is {{param: <id>}}, optionally with in_force",
                  "write phase_out: {param: credit.phase_out.components}")
            continue
        period = entry.get("in_force") or {}
        phases.append(PhaseOut(str(entry["param"]),
                               c.date(period, "from", what) if "from" in period else None,
                               c.date(period, "to", what) if "to" in period else None,
                               str(period.get("keyed_on", "sale"))))
    cite = spec.get("cite") or {}
    b.credits[line] = CreditLine(
        line=line, column_a=str(spec.get("column_a", "")), column_b=str(spec.get("column_b", "")),
        rate=str(rate.get("param", "")) if isinstance(rate, dict) else "", base=dict(base),
        phase_out=tuple(phases),
        keyed_on=str(keyed), cite={str(k): str(v) for k, v in cite.items()} if isinstance(cite, dict) else {},
        notes=" ".join(str(spec.get("notes", "") or "").split()), where=c.at(spec, "line"),
        part=str(spec.get("part", "II")))
    b.credit_checkers.append((c, spec))


def _param(b: _Build, c: S.Checker, parent: Any, pid: str, spec: Any) -> None:
    what = f"parameter '{pid}'"
    if not c.mapping(spec, what, parent, pid):
        return
    c.keys(spec, S.PARAM_KEYS, S.PARAM_REQUIRED, what)
    keyed = str(spec.get("keyed_on", "sale"))
    if keyed not in S.KEYED_ON:
        c.add(spec, "keyed_on", f"{what}: keyed_on must be one of {', '.join(S.KEYED_ON)}",
              "sale (the date of sale), production (the date of production) or taxable_year")
        keyed = "sale"
    enacted = c.date(spec, "enacted", what) if "enacted" in spec else None
    if pid in b.param_where:
        c.add(parent, pid, f"duplicate parameter id '{pid}' (also at {b.param_where[pid]})",
              "give each parameter a unique id")
        return
    unit = str(spec.get("unit", "") or "")
    if unit:
        try:
            check_unit(unit)
        except UnitError as exc:
            c.add(spec, "unit", f"{what}: {exc.message}", exc.fix)
            unit = ""
    values: list[ParamValue] = []
    raw = spec.get("values")
    if raw is not None and not isinstance(raw, dict):
        c.add(spec, "values", f"{what}: 'values' must map dates to values", "write e.g. values: {2023-01-01: 1000 kW}")
        raw = {}
    for start, value in (raw or {}).items():
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start)
            except ValueError:
                pass
        if not isinstance(start, dt.date):
            c.add(raw, start, f"{what}: '{start}' is not a date",
                  "key each value by the date it takes effect, YYYY-MM-DD")
            continue
        parsed = _param_value(c, raw, start, value, unit, what)
        if parsed is not _BAD:
            values.append(ParamValue(start, parsed))
    values.sort(key=lambda v: v.start)
    refs = spec.get("references") or []
    for ref in refs if isinstance(refs, list) else []:
        if c.mapping(ref, "a reference", spec, "references"):
            c.keys(ref, S.REFERENCE_KEYS, {"title"}, f"a reference of {what}")
    b.param_where[pid] = c.at(parent, pid)
    b.params[pid] = Param(pid, c.text(spec, "label", what), " ".join(c.text(spec, "description", what).split()),
                          unit, tuple(values), tuple(dict(r) for r in refs if isinstance(r, dict)),
                          c.at(parent, pid), keyed, enacted)


_BAD = object()


def _quantity(c: S.Checker, node: Any, key: Any, value: Any, unit: str, what: str,
              bare_ok: bool) -> Any:
    """A literal quantity in `unit`: '1000 kW' converted exactly; a bare number only if bare_ok."""
    if is_number(value):
        if bare_ok:
            return Decimal(value)
        c.add(node, key, f"{what}: the threshold {value} has no unit",
              f"write it with its unit, e.g. '{value} {unit}', or refer to a parameter: {{param: <id>}}")
        return _BAD
    if isinstance(value, str):
        try:
            magnitude, given = split_quantity(value)
            if not given:
                if bare_ok:
                    return magnitude
                c.add(node, key, f"{what}: the threshold '{value}' has no unit",
                      f"write it with its unit, e.g. '{value} {unit}'")
                return _BAD
            return convert(magnitude, given, unit)
        except UnitError as exc:
            c.add(node, key, f"{what}: {exc.message}", exc.fix)
            return _BAD
    c.add(node, key, f"{what}: {written(value)} is not a quantity", f"write a number with its unit, e.g. '125 {unit}'")
    return _BAD


def _param_value(c: S.Checker, node: Any, key: Any, value: Any, unit: str, what: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        items = [_param_value(c, node, key, v, unit, what) for v in value]
        return _BAD if _BAD in items else tuple(items)
    if not unit:
        return _BAD
    return _quantity(c, node, key, value, unit, what, bare_ok=True)


def _precedence(b: _Build, c: S.Checker, parent: Any, entry: Any) -> None:
    if not c.mapping(entry, "a precedence entry", parent, "precedence"):
        return
    c.keys(entry, S.PRECEDENCE_KEYS, S.PRECEDENCE_KEYS, "a precedence entry")
    order = entry.get("order") or []
    if not isinstance(order, list):
        c.add(entry, "order", "'order' must be a list of rule ids", "write order: [rule.a, rule.b]")
        order = []
    b.precedence.append(Precedence(str(entry.get("id", "")), str(entry.get("family", "")),
                                   tuple(str(o) for o in order),
                                   " ".join(str(entry.get("reason", "")).split()),
                                   str(entry.get("review", "")), c.at(entry, "order")))


def _rule(b: _Build, c: S.Checker, parent: Any, spec: Any) -> None:
    if not c.mapping(spec, "a rule", parent, "rules"):
        return
    rid = str(spec.get("id", "")) or f"(rule at line {spec.line})"
    what = f"rule '{rid}'"
    c.keys(spec, S.RULE_KEYS, S.RULE_REQUIRED, what)
    if rid in b.rule_where:
        c.add(spec, "id", f"duplicate rule id '{rid}' (also at {b.rule_where[rid]})", "give each rule a unique id")
        return
    b.rule_where[rid] = c.at(spec, "id")
    cite = spec.get("cite") or {}
    if "cite" in spec and c.mapping(cite, f"'cite' of {what}", spec, "cite"):
        c.keys(cite, S.CITE_KEYS, S.CITE_REQUIRED, f"'cite' of {what}")
    in_force = spec.get("in_force") or {}
    start, end = None, None
    if "in_force" in spec and c.mapping(in_force, f"'in_force' of {what}", spec, "in_force"):
        c.keys(in_force, S.IN_FORCE_KEYS, {"from"}, f"'in_force' of {what}")
        start = c.date(in_force, "from", what) if "from" in in_force else None
        end = c.date(in_force, "to", what) if "to" in in_force else None
        if in_force.get("keyed_on", "sale") not in S.KEYED_ON:
            c.add(in_force, "keyed_on", f"{what}: keyed_on must be one of {', '.join(S.KEYED_ON)}",
                  "sale (date of sale), production (date of production) or taxable_year (the taxpayer's "
                  "taxable year, by the date it begins)")
    when = _cond(b, c, spec, "when", spec.get("when"), what) if "when" in spec else None
    then = spec.get("then") or {}
    if "then" in spec and c.mapping(then, f"'then' of {what}", spec, "then"):
        for fact, value in then.items():
            _then(b, c, then, str(fact), value, what)
    enacted = c.date(spec, "enacted", what) if "enacted" in spec else None
    review_when = spec.get("review_when", ["holds"])
    if not isinstance(review_when, list) or not set(review_when) <= {"holds", "fails"} or not review_when:
        c.add(spec, "review_when", f"{what}: review_when lists when the open reading matters",
              "write review_when: [holds] or [holds, fails]")
        review_when = ["holds"]
    family = spec.get("family", "")
    families = tuple(str(f) for f in family) if isinstance(family, list) else (str(family),)
    if when is None or start is None or not isinstance(then, dict):
        return
    keyed = str(in_force.get("keyed_on", "sale")) if isinstance(in_force, dict) else "sale"
    b.rules.append(Rule(
        id=rid, stage=str(spec.get("stage", "")), family=families[0] if len(families) == 1 else "+".join(families),
        families=families, keyed_on=keyed if keyed in S.KEYED_ON else "sale", enacted=enacted,
        review_when=tuple(review_when),
        ended=(c.date(in_force, "ended", what) if isinstance(in_force, dict) and "ended" in in_force else None),
        line=str(spec.get("line", "")), label=c.text(spec, "label", what),
        text=" ".join(c.text(spec, "text", what).split()),
        cite={str(k): str(v) for k, v in cite.items()} if isinstance(cite, dict) else {},
        in_force_from=start, in_force_to=end, when=when, then=dict(then), where=c.at(spec, "id"),
        file=c.path, notes=" ".join(str(spec.get("notes", "") or "").split()),
        review=str(spec.get("review", "") or "")))


def _then(b: _Build, c: S.Checker, node: Any, fact: str, value: Any, what: str) -> None:
    b.pending_cmps.append((c, node, Cmp(fact, "then", literal=value, where=c.at(node, fact))))


def _cond(b: _Build, c: S.Checker, parent: Any, key: Any, node: Any, what: str) -> Cond | None:
    if not c.mapping(node, f"a condition of {what}", parent, key):
        return None
    groups = [k for k in node if k in S.GROUP_KEYS]
    if groups:
        c.keys(node, S.GROUP_KEYS, set(), f"a condition group of {what}")
        if len(groups) > 1:
            c.add(node, groups[1], f"a condition group of {what} has both '{groups[0]}' and '{groups[1]}'",
                  "nest them: one of all / any / not per mapping")
        kind = groups[0]
        body = node[kind]
        if kind == "not":
            inner = _cond(b, c, node, kind, body, what)
            return Not(inner) if inner else None
        if not isinstance(body, list) or not body:
            c.add(node, kind, f"'{kind}' of {what} must be a non-empty list of conditions", f"write {kind}: [- ...]")
            return None
        items = [_cond(b, c, node, kind, item, what) for item in body]
        if any(i is None for i in items):
            return None
        return All(tuple(items)) if kind == "all" else AnyOf(tuple(items))  # type: ignore[arg-type]
    c.keys(node, S.COND_KEYS, {"fact"}, f"a condition of {what}")
    ops = [k for k in node if k in S.OPERATORS]
    if len(ops) != 1:
        c.add(node, None, f"a condition of {what} needs exactly one operator, found {len(ops)}",
              f"use one of {', '.join(S.OPERATORS)}")
        return None
    op = ops[0]
    value = node[op]
    param = ""
    literal = value
    if isinstance(value, dict):
        if set(value) != {"param"}:
            c.add(node, op, f"a condition of {what}: a value mapping may only be {{param: <id>}}",
                  "refer to a parameter as {param: inverter.utility.min_voltage}")
            return None
        param, literal = str(value["param"]), None
    cmp = Cmp(str(node.get("fact", "")), op, literal=literal, param=param,
              clause=" ".join(str(node.get("clause", "") or "").split()), where=c.at(node, op))
    b.pending_cmps.append((c, node, cmp))
    return cmp


def _cross_checks(b: _Build) -> None:
    """References that span files: facts, parameters, stages, families, precedence."""
    stage_names = [s.name for s in b.stages]
    kinds = {s.name: s.kind for s in b.stages}
    for rule in b.rules:
        if kinds.get(rule.stage) in ("derive", "choose") and not rule.then:
            b.problems.append(Problem(rule.where, f"rule '{rule.id}' concludes nothing",
                                      "add 'then:' with the fact it concludes, e.g. {line: 3b}"))
        for pid in _params_of(rule.when):
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
        _hand_over(b, c)
    rules = []
    for rule in b.rules:
        rules.append(_replace_cmps(rule, resolved))
        if rule.stage not in stage_names:
            b.problems.append(Problem(rule.where, f"rule '{rule.id}' names unknown stage '{rule.stage}'"
                                      f"{did_you_mean(rule.stage, stage_names)}",
                                      f"use one of {', '.join(stage_names)}"))
    b.rules = rules
    families = {f for r in b.rules for f in r.families}
    component = next((f for f in b.facts.values() if f.role == "kind"), None)
    for fam in sorted(families - {ANY_FAMILY}):
        if component and fam not in component.values:
            first = next(r for r in b.rules if fam in r.families)
            b.problems.append(Problem(first.where, f"family '{fam}' is not a value of the fact '{component.name}' "
                                      "(the fact with role kind)",
                                      f"add it to the values of the fact '{component.name}' in definitions/facts/"))
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
    _credit_checks(b)
    _formula_checks(b)
    seen = set()
    for prec in b.precedence:
        if prec.family in seen:
            b.problems.append(Problem(prec.where, f"a second precedence order for family '{prec.family}'",
                                      "merge them into one order"))
        seen.add(prec.family)


def _params_of(cond: Cond) -> list[str]:
    if isinstance(cond, Cmp):
        return [cond.param] if cond.param else []
    if isinstance(cond, Not):
        return _params_of(cond.item)
    return [p for item in cond.items for p in _params_of(item)]


def _replace_cmps(rule: Rule, resolved: dict[int, Cmp]) -> Rule:
    def walk(cond: Cond) -> Cond:
        if isinstance(cond, Cmp):
            return resolved.get(id(cond), cond)
        if isinstance(cond, Not):
            return Not(walk(cond.item))
        items = tuple(walk(i) for i in cond.items)
        return All(items) if isinstance(cond, All) else AnyOf(items)
    from dataclasses import replace
    then = {}
    for fact, value in rule.then.items():
        then[fact] = value
    return replace(rule, when=walk(rule.when), then=then)


def _check_cmp(b: _Build, c: S.Checker, node: Any, cmp: Cmp) -> Cmp | None:
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
        if fact.type == "quantity" and param.unit and not compatible(param.unit, fact.unit):
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
    if literal is _BAD:
        return None
    from dataclasses import replace
    return replace(cmp, literal=literal)


def _check_literal(c: S.Checker, node: Any, key: Any, fact: FactDef, value: Any, op: str) -> Any:
    what = f"condition on '{fact.name}'"
    if op == "one_of":
        if not isinstance(value, list) or not value:
            c.add(node, key, f"{what}: 'one_of' needs a non-empty list", "write one_of: [a, b]")
            return _BAD
        items = tuple(_check_literal(c, node, key, fact, v, "is") for v in value)
        return _BAD if _BAD in items else items
    if fact.type == "bool":
        if not isinstance(value, bool):
            c.add(node, key, f"{what}: {written(value)} is not true or false", "write true or false")
            return _BAD
        return value
    if fact.type in ("enum", "set"):
        if str(value) not in fact.values:
            c.add(node, key, f"{what}: {written(value)} is not an allowed value{did_you_mean(str(value), fact.values)}",
                  f"use one of {', '.join(fact.values)}")
            return _BAD
        return str(value)
    if fact.type == "quantity":
        return _quantity(c, node, key, value, fact.unit, what, bare_ok=False)
    if fact.type == "date":
        if isinstance(value, dt.date):
            return value
        c.add(node, key, f"{what}: {written(value)} is not a date", "write YYYY-MM-DD")
        return _BAD
    return " ".join(str(value).split()).lower()  # free text compares without regard to case or spacing


def _credit_checks(b: _Build) -> None:
    """A credit line names a line, parameters and facts that exist, in units that multiply to dollars."""
    from ampc.rules.units import check_unit
    line_values = b.facts["line"].values if "line" in b.facts else ()
    for c, spec in b.credit_checkers:
        credit = b.credits[str(spec.get("line"))]
        if line_values and credit.line not in line_values:
            c.add(spec, "line", f"credit line '{credit.line}' is not a Form 7207 line",
                  f"use one of {', '.join(line_values)}")
        for key, pid in (("rate", credit.rate), *(("phase_out", p.param) for p in credit.phase_out)):
            if pid not in b.params:
                c.add(spec, key, f"credit line '{credit.line}': unknown parameter '{pid}'"
                      f"{did_you_mean(pid, b.params)}", "define it under 'parameters:' as {param: <id>}")
        base = credit.base
        fact_name = base.get("units_times_fact")
        column = base.get("units_times_column") or base.get("column")
        base_unit = ""
        if fact_name:
            fact = b.facts.get(fact_name)
            if fact is None or fact.type != "quantity":
                c.add(spec, "base", f"credit line '{credit.line}': '{fact_name}' is not a quantity fact"
                      f"{did_you_mean(str(fact_name), b.facts)}", "name a quantity fact from definitions/facts/")
                continue
            base_unit = fact.unit
            capped = base.get("capped_by")
            if capped:
                other = b.facts.get(str(capped.get("fact")))
                ratio = str((capped.get("ratio") or {}).get("param", ""))
                if other is None or ratio not in b.params:
                    c.add(spec, "base", f"credit line '{credit.line}': capped_by needs a quantity fact and "
                          "a ratio parameter", "write capped_by: {fact: max_discharge, ratio: {param: <id>}}")
                    continue
                if not compatible(f"({other.unit})*({b.params[ratio].unit})", base_unit):
                    c.add(spec, "base", f"credit line '{credit.line}': {other.unit} x {b.params[ratio].unit} "
                          f"is not {base_unit}", "give the ratio a unit that turns the fact into the capacity")
        elif column:
            col = b.ledger.get(str(column))
            if col is None or col.type != "quantity":
                c.add(spec, "base", f"credit line '{credit.line}': '{column}' is not a quantity column of "
                      f"definitions/ledger.yaml{did_you_mean(str(column), b.ledger)}", "name a ledger column")
                continue
            base_unit = col.unit
        rate = b.params.get(credit.rate)
        if rate and base_unit:
            try:
                product = check_unit(f"({rate.unit})*({base_unit})")
                if not compatible(str(product), "USD"):
                    raise UnitError("", "")
            except UnitError:
                c.add(spec, "rate", f"credit line '{credit.line}': the rate in {rate.unit} times the base in "
                      f"{base_unit} is not an amount of money", "give the rate a unit such as USD/W or percent")
        _hand_over(b, c)


def _formula_checks(b: _Build) -> None:
    """A computed fact's formula uses the closed set of operations over quantity facts."""
    from ampc.rules.formula import facts_used
    for name, fact in b.facts.items():
        if fact.computed is None:
            continue
        where = b.fact_where.get(name, "definitions/facts/")
        if fact.type != "quantity":
            b.problems.append(Problem(where, f"computed fact '{name}' must be a quantity", "give it type: quantity"))
            continue

        def walk(node: Any, where: str = where, name: str = name) -> None:
            if isinstance(node, str):
                return
            if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in S.FORMULAS \
                    or not isinstance(next(iter(node.values())), list) or len(next(iter(node.values()))) < 2:
                b.problems.append(Problem(where, f"computed fact '{name}': {written(node)} is not a formula",
                                          f"write one of {', '.join(S.FORMULAS)} over a list of two or more "
                                          "operands, e.g. {ratio: [{difference: [a, b]}, a]}"))
                return
            for operand in next(iter(node.values())):
                walk(operand)
        walk(fact.computed)
        for used in facts_used(fact.computed):
            other = b.facts.get(used)
            if other is None or other.type != "quantity":
                b.problems.append(Problem(where, f"computed fact '{name}' uses '{used}', which is not a quantity "
                                          f"fact{did_you_mean(used, b.facts)}", "use quantity facts defined in "
                                          "definitions/facts/, or a number with its unit such as '0 USD'"))
