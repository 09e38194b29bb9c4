"""The docs generator: renders, from rules/ and definitions/, one Markdown page per section of the
Form 7207 instructions, with examples computed by running the engine, and the site's navigation.

Run as `ampc docs [--build]`, or by mkdocs itself: mkdocs.yml names
this file as a hook, so `mkdocs build --strict` (and `mkdocs serve`) regenerate the pages first.
Imports are absolute because mkdocs loads this file by its path, outside the package.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import posixpath
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row, rows_of
from ampc.errors import ValidationFailed
from ampc.io import report
from ampc.records import record as R
from ampc.rules.loader import load_ruleset
from ampc.rules.model import All, Cmp, Cond, FactDef, Not, Param, PhaseOut, Rule, RuleSet
from ampc.rules.yamlio import load_yaml

PROJECT = Path(__file__).resolve().parents[3]  # engine/ampc/docs/hook.py -> the project
MANIFEST = ".generated"  # the files the last run wrote, so a renamed rules file leaves no stale page
COMPARISONS = {"at_least": "≥", "more_than": ">", "at_most": "≤", "less_than": "<"}
LEGAL = {"is": "is", "one_of": "is one of", "at_least": "is not less than", "more_than": "is greater than",
         "at_most": "is not greater than", "less_than": "is less than"}
STATUS = {"encoded": "encoded", "open": "open interpretation", "not_modelled": "not modelled",
          "pending": "not modelled yet", "intro": "introductory"}
PARAGRAPH_KEYS = {"heading", "text", "intro", "match", "not_modelled", "pending", "note", "part_iv"}
CHAPTER_OF_PREFIX = {"general": "General Instructions", "special_rules": "General Instructions",
                     "part_i": "Part I—Facility Information", "part_ii": "Part II—Eligible Components",
                     "part_iv": "Part II—Eligible Components"}


class DocsError(Exception):
    """The docs cannot be generated: names the rule, file or page and what to fix."""


# --------------------------------------------------------------------------------------------------
# the site's structure: the instructions' outline, with the rule sections each page claims

@dataclass
class Paragraph:
    heading: str
    text: str
    anchor: str
    intro: bool = False
    match: list = field(default_factory=list)
    not_modelled: str = ""
    pending: str = ""
    note: str = ""
    part_iv: str = ""
    rules: list = field(default_factory=list)  # the Rules that encode it
    params: list = field(default_factory=list)  # the parameters that encode it (a schedule, a rate)
    credits: list = field(default_factory=list)  # the credit lines (column (c) and (d)) that encode it
    open: bool = False  # one of them carries an open reading (notes, review, reviewed precedence)

    @property
    def status(self) -> str:
        if self.intro:
            return "intro"
        if self.rules or self.params or self.credits:
            return "open" if self.open else "encoded"
        return "pending" if self.match else "not_modelled"


@dataclass
class Page:
    id: str
    title: str
    chapter: str
    path: str
    sections: list = field(default_factory=list)  # Section objects this page renders
    paragraphs: list = field(default_factory=list)
    patterns: tuple = ()


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "p"


def _mirror(rules_file: str) -> str:
    """rules/part_ii/line_03_inverters.yaml -> part_ii/line_03_inverters.md"""
    rel = rules_file.split("rules/", 1)[-1] if rules_file.startswith("rules/") else rules_file
    return str(Path(rel).with_suffix(".md").as_posix())


def build_outline(ruleset: RuleSet, outline_file: Path) -> list[Page]:
    data, problems = load_yaml(outline_file)
    if problems:
        raise DocsError("; ".join(str(p) for p in problems))
    pages: list[Page] = []
    for chapter in data["chapters"]:
        for spec in chapter["pages"]:
            page = Page(spec["id"], spec["title"], chapter["title"], spec["path"],
                        patterns=tuple(spec.get("sections", ())))
            seen: set[str] = set()
            for para in spec.get("paragraphs", []):
                unknown = set(para) - PARAGRAPH_KEYS
                if unknown or "heading" not in para:
                    raise DocsError(f"{outline_file.name}, page '{spec['id']}', paragraph "
                                    f"'{para.get('heading', '?')}': unknown key(s) {sorted(unknown)} or no heading "
                                    f"(allowed: {', '.join(sorted(PARAGRAPH_KEYS))})")
                anchor = _slug(para["heading"])
                while anchor in seen:
                    anchor += "-x"
                seen.add(anchor)
                page.paragraphs.append(Paragraph(
                    heading=para["heading"], text=_words(para.get("text", "")), anchor=anchor,
                    intro=bool(para.get("intro")), match=list(para.get("match") or []),
                    not_modelled=_words(para.get("not_modelled", "")), pending=_words(para.get("pending", "")),
                    note=_words(para.get("note", "")), part_iv=str(para.get("part_iv", ""))))
            pages.append(page)
    # every rules file's section goes to the page claiming it, or to a page of its own
    for section in ruleset.sections:
        owner = next((p for p in pages if any(fnmatch.fnmatch(section.id, pat) for pat in p.patterns)), None)
        if owner is None:
            prefix = section.id.split(".")[0]
            chapter = CHAPTER_OF_PREFIX.get(prefix, "Other rules")
            owner = Page(section.id, section.title, chapter, _mirror(section.file))
            last = max((i for i, p in enumerate(pages) if p.chapter == chapter), default=len(pages) - 1)
            pages.insert(last + 1, owner)
        owner.sections.append(section)
    for page in pages:
        if len(page.sections) == 1:
            page.path = _mirror(page.sections[0].file)
    paths = [p.path for p in pages]
    for path in paths:
        if paths.count(path) > 1:
            raise DocsError(f"two pages would be written to docs/{path}; rename one rules file or "
                            "give the outline page another path")
    _match_paragraphs(ruleset, pages)
    return pages


def _words(text: Any) -> str:
    return " ".join(str(text or "").split())


def _facts_tested(cond: Cond) -> list[Cmp]:
    if isinstance(cond, Cmp):
        return [cond]
    if isinstance(cond, Not):
        return _facts_tested(cond.item)
    return [c for item in cond.items for c in _facts_tested(item)]


def _criterion_holds(rule: Rule, section_id: str, key: str, want: Any) -> bool:
    wanted = [str(w) for w in (want if isinstance(want, list) else [want])]
    if key == "line":
        return rule.line in wanted
    if key == "family":
        return rule.family in wanted
    if key == "stage":
        return rule.stage in wanted
    if key == "part_iv_line":
        return str(rule.then.get("part_iv_line", "")) in wanted
    if key == "rule":
        return any(fnmatch.fnmatch(rule.id, w) for w in wanted)
    if key == "section":
        return any(fnmatch.fnmatch(section_id, w) for w in wanted)
    if key == "fact":
        return any(fnmatch.fnmatch(c.fact, w) for c in _facts_tested(rule.when) for w in wanted)
    raise DocsError(f"docs/outline.yaml: unknown match key '{key}' (use line, family, stage, "
                    "part_iv_line, rule, section, fact, param or credit)")


def _match_paragraphs(ruleset: RuleSet, pages: list[Page]) -> None:
    section_of = {s.file: s.id for s in ruleset.sections}
    reviewed = {rid for p in ruleset.precedence if p.review for rid in p.order}
    credits = ruleset.credits
    for page in pages:
        for para in page.paragraphs:
            rule_criteria = [c for c in para.match if not {"param", "credit"} & set(c)]
            for crit in para.match:
                if {"param", "credit"} & set(crit) and len(crit) > 1:
                    raise DocsError(f"docs/outline.yaml, paragraph '{para.heading}': 'param' and 'credit' "
                                    "stand alone in a criterion")
                if "param" in crit:
                    para.params += [p for pid, p in ruleset.params.items()
                                    if fnmatch.fnmatch(pid, str(crit["param"])) and p not in para.params]
                if "credit" in crit:
                    para.credits += [credits[str(line)] for line in crit["credit"]
                                     if str(line) in credits and credits[str(line)] not in para.credits]
            para.rules = [r for r in ruleset.rules
                          if any(all(_criterion_holds(r, section_of.get(r.file, ""), k, v) for k, v in crit.items())
                                 for crit in rule_criteria)]
            para.open = any(r.notes or r.review or r.id in reviewed for r in para.rules)


# --------------------------------------------------------------------------------------------------
# metadata every rule must carry before it is documented

def check_rules(ruleset: RuleSet) -> None:
    """Every rule carries the instruction text it encodes and both citations, or the build fails."""
    problems = []
    for rule in ruleset.rules:
        missing = []
        if not _words(rule.text):
            missing.append("text (the instruction text it encodes)")
        for key in ("instructions", "irc"):
            if not _words((rule.cite or {}).get(key, "")):
                missing.append(f"cite.{key}")
        if missing:
            problems.append(f"rule '{rule.id}' ({rule.where}) has no {' and no '.join(missing)}: "
                            "add it; every documented rule quotes its instruction text and cites it")
    if problems:
        raise DocsError("the docs cannot be built:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------------------------------
# executed examples: the YAML test cases, the worked examples, and a product just across each threshold

@dataclass
class Example:
    """A product as the docs show it: the mapping it was decided from, and its record."""

    name: str
    item: dict  # the raw values, as a YAML catalog writes them ({product, as_of, fact: value})
    record: R.Record
    source: str = ""

    @property
    def outcome(self) -> str:
        return "input refused" if isinstance(self.record, R.ErrorRecord) else self.record.outcome

    @property
    def line(self) -> str:
        return report.line_text(self.record)

    @property
    def reason(self) -> str:
        if isinstance(self.record, R.ErrorRecord):
            fix = f" (fix: {self.record.error.fix})" if self.record.error.fix else ""
            return f"input refused: {report.reason(self.record)}{fix}"
        return report.reason(self.record)

    def result_of(self, rule_id: str) -> str:
        if isinstance(self.record, R.ErrorRecord):
            return ""
        considered = self.record.considered_rule(rule_id)
        return report.RESULT[considered.result] if considered else "not considered"


class Runner:
    """Decides examples through the one pipeline (engine/run.py), as `ampc classify` does."""

    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.decider = Decider(ruleset)
        self.labels = {p.id: p.label for p in ruleset.params.values()}

    def close(self) -> None:
        self.decider.close()

    def run(self, item: dict, source: str) -> Example:
        """One mapping of raw values ({product, as_of, fact: value}) to its example; a row that was
        read but could not be decided (the engine and the explainer disagree) fails the build."""
        row = rows_of([item], source, self.ruleset)[0]
        record = decide_row(row, self.decider)
        if row.problem is None and isinstance(record, R.ErrorRecord):
            raise DocsError(f"{source}: the engine failed on '{row.product}': {record.error.message}")
        return Example(row.product, item, record, source)

    def explain(self, example: Example, keep: Any = None) -> str:
        return report.explain(example.record, self.labels, keep)


def _read_examples(path: Path, key: str, base_defaults: dict | None = None) -> tuple[list[dict], dict]:
    """The entries of a test cases or worked examples file, each as a catalog mapping with its expectation."""
    if not path.is_file():
        return [], {}
    data, problems = load_yaml(path)
    if problems:
        raise DocsError("; ".join(str(p) for p in problems))
    defaults = data.get("defaults") or {}
    facts = dict((base_defaults or {}).get("facts") or {})
    facts.update(defaults.get("facts") or {})
    as_of = defaults.get("as_of", (base_defaults or {}).get("as_of"))
    out = []
    for item in data.get(key) or []:
        merged = dict(facts)
        merged.update(item.get("facts") or {})
        out.append(({"product": item["name"], "as_of": item.get("as_of", as_of), **merged}, item.get("expect") or {}))
    return out, defaults


def _epsilon(value: Decimal) -> Decimal:
    """A step just across a boundary: a thousandth, or a tenth of the value's last written digit."""
    exponent = value.normalize().as_tuple().exponent
    ulp = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return min(Decimal("0.001"), ulp / 10)


def _across(op: str, threshold: R.Value, actual: R.Value) -> tuple[Any, Any] | None:
    """(a value just inside, a value just outside) the condition `op threshold`, or None."""
    if isinstance(threshold, R.Day):
        expected: Any = threshold.value
        step: Any = dt.timedelta(days=1)
    elif isinstance(threshold, R.Quantity):
        expected, step = threshold.value, _epsilon(threshold.value)
    elif op == "one_of" and isinstance(actual, R.Quantity):
        return actual.value, actual.value + _epsilon(actual.value)
    else:
        return None
    return {"at_least": (expected, expected - step), "more_than": (expected + step, expected),
            "at_most": (expected, expected + step), "less_than": (expected - step, expected),
            "is": (expected, expected + step)}.get(op)


def _thresholds(rule: Rule, ruleset: RuleSet) -> list[Cmp]:
    """The conditions of a rule that compare a quantity or a date with a number or a parameter."""
    out = []
    for cmp in _facts_tested(rule.when):
        fact = ruleset.facts[cmp.fact]
        if cmp.param or (fact.type in ("quantity", "date") and cmp.op in COMPARISONS):
            out.append(cmp)
    return out


def _clause_of(example: Example, rule_id: str, cmp: Cmp) -> R.Clause | None:
    """The clause of the example's record that evaluated this condition."""
    if isinstance(example.record, R.ErrorRecord):
        return None
    considered = example.record.considered_rule(rule_id)
    return next((c for c in considered.clauses if c.fact == cmp.fact and c.op == cmp.op
                 and c.param == (cmp.param or None)), None) if considered else None


def _raw(value: Any, unit: str) -> Any:
    """A value as a catalog writes it: a quantity with its unit, a date as it is."""
    return {"value": value, "unit": unit} if isinstance(value, Decimal) and unit else value


def boundary_examples(runner: Runner, rule: Rule, cases: list[Example]) -> list[dict]:
    """For each threshold of the rule, a qualifying case moved to just inside and just outside it,
    and decided again through the pipeline."""
    rows = []
    for cmp in _thresholds(rule, runner.ruleset):
        fact = runner.ruleset.facts[cmp.fact]
        held = ((c, _clause_of(c, rule.id, cmp)) for c in cases
                if c.outcome == R.QUALIFIED and c.result_of(rule.id) == "holds")
        base, clause = next(((c, cl) for c, cl in held if cl is not None and cl.verdict == "true"), (None, None))
        row: dict = {"rule": rule, "cmp": cmp, "fact": fact, "base": base, "variants": [], "note": ""}
        rows.append(row)
        if base is None or clause is None:
            continue
        row["boundary"] = report.value_text(clause.threshold)
        across = _across(cmp.op, clause.threshold, clause.actual)
        if fact.computed or fact.derived:
            row["note"] = (f"{cmp.fact} is computed from other facts" if fact.computed
                           else f"{cmp.fact} is concluded by the rules") + ": no catalog value to move"
            continue
        if across is None:
            row["note"] = "the boundary is neither a number nor a date: no value just across it"
            continue
        for where, value in zip(("just inside", "just outside"), across):
            shown = report.value_text(R.typed(value, fact.unit))
            item = dict(base.item, product=f"{rule.id}: {cmp.fact} {shown} ({where})")
            item[cmp.fact] = _raw(value, fact.unit)
            example = runner.run(item, f"derived from '{base.name}'")
            row["variants"].append({"where": where, "value": shown, "example": example,
                                    "rule_result": example.result_of(rule.id),
                                    "text": _focused(runner, example, rule.id, cmp.fact)})
    return rows


MAX_SHOWN = 15  # an explanation considering more rules than this is shown in part on a page


def _focused(runner: Runner, example: Example, rule_id: str, fact: str) -> str:
    """The explanation `ampc explain` prints, without the rules that fail on some other fact when the
    product's family has many (a cobalt product is checked against every mineral's definition)."""
    record = example.record
    if isinstance(record, R.ErrorRecord) or len(record.considered) <= MAX_SHOWN:
        return runner.explain(example)
    keep = [c.rule for c in record.considered
            if c.rule == rule_id or c.result != "fails" or {x.fact for x in c.decisive()} == {fact}]
    return runner.explain(example, keep)


# --------------------------------------------------------------------------------------------------
# views: what the templates print, as plain strings and lists

def _md(text: Any) -> str:
    """Text safe in Markdown prose: no accidental emphasis, links or HTML."""
    out = str(text)
    for ch in ("\\", "*", "_", "[", "]", "`"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: Any) -> str:
    return _md(text).replace("|", "\\|").replace("\n", " ")


def _code(text: Any) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def _value(value: Any, unit: str = "") -> str:
    """A value the rules state (a parameter's, a threshold's), in the words of report.value_text."""
    if value is None:
        return "no value (ends)"
    return report.value_text(value if isinstance(value, R.NotStatedByLaw) else R.typed(value, unit))


def _phase_out(schedule: PhaseOut) -> str:
    """A credit line's phase-out schedule in words: its parameter and the period it applies in."""
    if schedule.start:
        period = report.period(R.InForce(schedule.keyed_on, schedule.start, schedule.end))
    elif schedule.end:
        period = f"{report.KEYED[schedule.keyed_on]} until {schedule.end.isoformat()}"
    else:
        return f"parameter {_code(schedule.param)}"
    return f"parameter {_code(schedule.param)}, for components {period}"


def _base(base: dict) -> str:
    """What column (d) adds up, in words: {units_times_fact: dc_capacity} -> units sold × `dc_capacity`."""
    if "column" in base:
        return f"the ledger's {_code(base['column'])}"
    if "units_times_column" in base:
        return f"units sold × the ledger's {_code(base['units_times_column'])}"
    fact = base.get("units_times_fact", "")
    text = f"units sold × {_code(fact)}"
    capped = base.get("capped_by")
    if capped:
        ratio = capped.get("ratio")
        ratio_text = _code(ratio["param"]) if isinstance(ratio, dict) and "param" in ratio else _value(ratio)
        text += f", each unit's {_code(fact)} capped at {_code(capped.get('fact', ''))} × {ratio_text}"
    return text


class Views:
    """Turns rules, parameters and examples into the strings the templates print."""

    def __init__(self, ruleset: RuleSet, runner: Runner, as_of: dt.date):
        self.rs = ruleset
        self.runner = runner
        self.as_of = as_of
        self.home: dict[str, str] = {}  # rule id -> page path
        self.paragraphs_of: dict[str, list[tuple[Page, Paragraph]]] = {}

    def link(self, from_page: str, to_page: str, anchor: str = "") -> str:
        if to_page == from_page and anchor:
            return f"#{anchor}"
        rel = posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")
        return rel + (f"#{anchor}" if anchor else "")

    def rule_link(self, rule: Rule, from_page: str) -> str:
        return f"[{_code(rule.id)}]({self.link(from_page, self.home[rule.id], rule.id)})"

    def expected(self, cmp: Cmp) -> str:
        """The threshold of a condition as in force on the pages' date, in the fact's unit."""
        return _value(self.runner.decider.explainer.expected(cmp, self.as_of), self.rs.facts[cmp.fact].unit)

    def cond(self, cond: Cond) -> dict:
        if isinstance(cond, Cmp):
            fact = self.rs.facts[cond.fact]
            words = LEGAL[cond.op]
            if cond.op == "one_of" and fact.type == "set":
                words = "includes one of"
            return {"kind": "cmp", "clause": _md(cond.clause), "label": _md(fact.label), "fact": _code(cond.fact),
                    "words": words, "expected": _md(self.expected(cond)),
                    "param": _code(cond.param) if cond.param else ""}
        if isinstance(cond, Not):
            return {"kind": "not", "parts": [self.cond(cond.item)]}
        return {"kind": "all" if isinstance(cond, All) else "any", "parts": [self.cond(i) for i in cond.items]}

    def param_rows(self, param: Param) -> list[dict]:
        rows = []
        for i, entry in enumerate(param.values):
            end = param.values[i + 1].start - dt.timedelta(days=1) if i + 1 < len(param.values) else None
            rows.append({"value": _cell(_value(entry.value, "")), "from": entry.start.isoformat(),
                         "to": end.isoformat() if end else "",
                         "now": entry.start <= self.as_of and (end is None or self.as_of <= end)})
        return rows

    def param(self, param: Param) -> dict:
        refs = []
        for ref in param.references:
            title = _cell(ref.get("title", ""))
            refs.append(f"[{title}]({ref['href']})" if ref.get("href") else title)
        return {"id": _code(param.id), "anchor": param.id, "label": _cell(param.label),
                "description": _cell(param.description), "unit": _cell(param.unit),
                "values": self.param_rows(param), "references": "; ".join(refs), "where": param.where}

    def thresholds(self, rule: Rule) -> list[dict]:
        out, seen = [], set()
        for cmp in _thresholds(rule, self.rs):
            if cmp.param and cmp.param not in seen:
                seen.add(cmp.param)
                out.append(self.param(self.rs.params[cmp.param]))
            elif not cmp.param:
                fact = self.rs.facts[cmp.fact]
                out.append({"id": "(in the rule)", "anchor": "", "label": _cell(cmp.clause or fact.label),
                            "description": "", "unit": _cell(fact.unit),
                            "values": [{"value": _cell(_value(cmp.literal)),
                                        "from": rule.in_force_from.isoformat(),
                                        "to": rule.in_force_to.isoformat() if rule.in_force_to else "", "now": True}],
                            "references": _cell(rule.citation()), "where": rule.where})
        return out

    def rate_value(self, param_id: str) -> str:
        param = self.rs.params[param_id]
        value = param.at(self.as_of)
        return _value(value if value is not None else R.NotStatedByLaw(param_id, self.as_of), param.unit)

    def rate(self, rule: Rule) -> str:
        if self.rs.stage_kind(rule.stage) != "choose":
            return "— (the rate belongs to the line this rule's product is classified on)"
        credit = self.rs.credits.get(rule.line)
        param_id = credit.rate if credit else ""
        if not param_id:
            param_id = next((p for p in (f"{rule.id}.rate", f"{rule.family}.rate", f"credit.rate.{rule.line}")
                             if p in self.rs.params), "")
        if not param_id or param_id not in self.rs.params:
            return "not encoded yet"
        text = f"{self.rate_value(param_id)} (parameter {_code(param_id)}, in force on {self.as_of})"
        if credit and credit.phase_out:
            text += "; phase-out: " + "; ".join(_phase_out(p) for p in credit.phase_out)
        return text

    def credit(self, credit: Any) -> dict:
        value = self.rate_value(credit.rate) if credit.rate in self.rs.params else "?"
        return {"line": credit.line, "column_a": _cell(credit.column_a), "column_b": _cell(credit.column_b),
                "rate": _cell(value), "rate_param": _code(credit.rate), "base": _base(credit.base or {}),
                "phase_out": "; ".join(_phase_out(p) for p in credit.phase_out) or "none",
                "keyed_on": credit.keyed_on, "citation": _cell(credit.citation()), "notes": _cell(credit.notes)}

    def citations(self, rule: Rule) -> list[str]:
        out = []
        for key, value in rule.cite.items():
            if key == "irc":
                out.append(f"IRC [{_md(value)}](https://www.law.cornell.edu/uscode/text/26/45X)")
            else:
                out.append(_md(value))
        return out

    def rule(self, rule: Rule, page_path: str, source_page: str) -> dict:
        file, _, line = rule.where.rpartition(":")
        stage = next((s for s in self.rs.stages if s.name == rule.stage), None)
        order = self.rs.order_for(rule.family)
        precedence = ""
        if order and rule.id in order.order:
            precedence = (f"rank {order.order.index(rule.id) + 1} of {len(order.order)} in the declared "
                          f"precedence {_code(order.id)}")
        elsewhere = [(p, para) for p, para in self.paragraphs_of.get(rule.id, []) if p.path != page_path]
        in_force = report.period(R.InForce(rule.keyed_on, rule.in_force_from, rule.in_force_to))
        return {
            "id": rule.id, "code": _code(rule.id), "line": rule.line, "label": _md(rule.label),
            "stage": rule.stage, "stage_label": _md(stage.label if stage else ""), "family": _code(rule.family),
            "text": _md(rule.text), "citations": self.citations(rule), "in_force": in_force,
            "concludes": ", ".join(f"{_code(k)} = {_code(_value(v))}" for k, v in rule.then.items()),
            "rate": self.rate(rule), "when": self.cond(rule.when), "thresholds": self.thresholds(rule),
            "notes": _md(rule.notes), "review": _md(rule.review), "precedence": precedence,
            "source": f"[{_md(file)}, line {line}]({self.link(page_path, source_page, rule.id)})",
            "elsewhere": [f"[{_md(para.heading)}]({self.link(page_path, p.path, para.anchor)}) ({_md(p.title)})"
                          for p, para in elsewhere],
        }

    def class_tables(self, rules: list[Rule]) -> list[dict]:
        """Per family with several line definitions, one table: each class's boundaries side by side."""
        tables = []
        families: dict[str, list[Rule]] = {}
        for rule in rules:
            if self.rs.stage_kind(rule.stage) == "choose":
                families.setdefault(rule.family, []).append(rule)
        for family, members in families.items():
            if len(members) < 2:
                continue
            order = self.rs.order_for(family)
            facts: list[str] = []
            for rule in members:
                for cmp in _facts_tested(rule.when):
                    if not self.rs.facts[cmp.fact].derived and cmp.fact not in facts:
                        facts.append(cmp.fact)
            rows = []
            for rule in members:
                cells = {f: self._cells(rule.when, f) for f in facts}
                rank = order.order.index(rule.id) + 1 if order and rule.id in order.order else ""
                part_iv = rule.then.get("part_iv_line")
                line = f"{rule.line}, Part IV {part_iv}" if part_iv else rule.line
                rows.append({"line": line, "label": _cell(rule.label), "rule": rule.id, "rank": rank,
                             "cells": [_cell(cells[f]) or "—" for f in facts]})
            headers = []
            for f in facts:
                fact = self.rs.facts[f]
                headers.append(_cell(fact.label + (f" ({fact.unit})" if fact.unit else "")))
            tables.append({"family": family, "headers": headers, "rows": rows,
                           "order": order, "reason": _md(order.reason) if order else "",
                           "review": _md(order.review) if order else ""})
        return tables

    def _short(self, cmp: Cmp) -> str:
        fact = self.rs.facts[cmp.fact]
        value = self.expected(cmp)
        if cmp.op in COMPARISONS:
            return f"{COMPARISONS[cmp.op]} {value}"
        if cmp.op == "one_of":
            return ("includes " if fact.type == "set" else "") + value
        return value

    def _cells(self, cond: Cond, fact: str) -> str:
        """The constraints a condition puts on one fact, in a table cell's words."""
        if isinstance(cond, Cmp):
            return self._short(cond) if cond.fact == fact else ""
        if isinstance(cond, Not):
            inner = self._cells(cond.item, fact)
            return f"not ({inner})" if inner else ""
        parts = [self._cells(item, fact) for item in cond.items]
        if isinstance(cond, All):
            return " and ".join(p for p in parts if p)
        branches = []
        for item, part in zip(cond.items, parts):
            if not part:
                continue
            others = [self._short(c) for c in _facts_tested(item) if c.fact != fact
                      and not self.rs.facts[c.fact].derived]
            quantity = self.rs.facts[fact].type == "quantity"
            branches.append(part + (f" (when {self.rs.facts[_facts_tested(item)[0].fact].name.replace('_', ' ')} "
                                    f"{', '.join(others)})" if quantity and others else ""))
        return " or ".join(branches)

    def example(self, example: Example, rule_id: str = "") -> dict:
        return {"name": _md(example.name), "title": _cell(example.name), "outcome": example.outcome.upper(),
                "line": example.line, "reason": _cell(example.reason), "text": self.runner.explain(example),
                "rule_result": example.result_of(rule_id) if rule_id else "", "source": _md(example.source)}


# --------------------------------------------------------------------------------------------------
# the generator

@dataclass
class Site:
    pages: list  # (path, title, chapter)
    nav: list
    written: list


def _env(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             autoescape=False)
    env.filters["md"] = _md
    env.filters["cell"] = _cell
    env.filters["code"] = _code
    return env


def _source_chunks(root: Path, rel: str, rules: list[Rule]) -> list[dict]:
    """A rules file cut into its head and one block per rule, each with the line it starts on."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    starts = sorted((int(r.where.rpartition(":")[2]), r.id) for r in rules)
    cuts = []
    for line, rid in starts:
        start = line - 1
        while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith("#")):
            start -= 1
        cuts.append((start, rid, line))
    chunks = []
    first = cuts[0][0] if cuts else len(lines)
    chunks.append({"id": "", "line": 1, "text": "\n".join(lines[:first]).rstrip()})
    for i, (start, rid, line) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(lines)
        chunks.append({"id": rid, "line": line, "text": "\n".join(lines[start:end]).rstrip()})
    return [c for c in chunks if c["text"]]


def generate(root: Path | str | None = None, out: Path | str | None = None, *, docs_dir: Path | str | None = None,
             cases_dir: Path | str | None = None, as_of: dt.date | None = None,
             ruleset: RuleSet | None = None) -> Site:
    """Render every page from the rule set at root into out (default docs/); return the navigation."""
    docs = Path(docs_dir or PROJECT / "docs")
    out = Path(out or docs)
    cases_root = Path(cases_dir or PROJECT / "tests" / "cases")
    if ruleset is None:
        try:
            ruleset = load_ruleset(root)
        except ValidationFailed as exc:
            raise DocsError("the rule set does not validate, so the docs cannot be built:\n  "
                            + "\n  ".join(str(p) for p in exc.problems))
    check_rules(ruleset)
    root = Path(ruleset.root)
    as_of = as_of or _default_as_of()
    pages = build_outline(ruleset, docs / "outline.yaml")
    env = _env(docs / "templates")
    runner = Runner(ruleset)
    try:
        return _render(ruleset, pages, env, runner, root, out, docs, cases_root, as_of)
    finally:
        runner.close()


def _default_as_of() -> dt.date:
    text = os.environ.get("AMPC_DOCS_AS_OF", "")
    return dt.date.fromisoformat(text) if text else dt.date.today()


def _render(rs: RuleSet, pages: list[Page], env: jinja2.Environment, runner: Runner, root: Path, out: Path,
            docs: Path, cases_root: Path, as_of: dt.date) -> Site:
    views = Views(rs, runner, as_of)
    files: dict[str, str] = {}
    rules_of_page: dict[str, list[Rule]] = {}
    for page in pages:
        owned = {s.file for s in page.sections}
        rules_of_page[page.path] = [r for r in rs.rules if r.file in owned]
        for r in rules_of_page[page.path]:
            views.home[r.id] = page.path
        for para in page.paragraphs:
            for r in para.rules:
                views.paragraphs_of.setdefault(r.id, []).append((page, para))
    # the examples: every rules file's test cases and worked examples, run once
    cases_of: dict[str, list[Example]] = {}
    expect_of: dict[str, dict] = {}
    worked_of: dict[str, list[Example]] = {}
    for section in rs.sections:
        mirror = section.file.split("rules/", 1)[-1]
        cases, defaults = _read_examples(cases_root / mirror, "cases")
        cases_of[section.file] = [runner.run(item, f"tests/cases/{mirror}") for item, _ in cases]
        for item, expect in cases:
            expect_of[f"{mirror}: {item['product']}"] = expect
        worked, _ = _read_examples(docs / "examples" / mirror, "examples", defaults)
        worked_of[section.file] = [runner.run(item, f"docs/examples/{mirror}") for item, _ in worked]
    exercised = _exercised(rs, cases_of, expect_of)
    nav_chapters: dict[str, list] = {}
    for page in pages:
        context = _page_context(page, rs, views, rules_of_page[page.path], cases_of, worked_of, cases_root, as_of)
        files[page.path] = env.get_template("section.md.j2").render(**context)
        nav_chapters.setdefault(page.chapter, []).append({page.title: page.path})
    # YAML sources, one page per rules file and per facts file
    sources = []
    for section in rs.sections:
        rel = section.file
        path = f"source/{Path(rel).with_suffix('.md').as_posix()}"
        chunks = _source_chunks(root, rel, [r for r in rs.rules if r.file == rel])
        files[path] = env.get_template("source.md.j2").render(file=rel, chunks=chunks, rs=rs)
        sources.append({rel: path})
    fact_files = _fact_files(root)
    for rel in fact_files:
        path = f"source/{Path(rel).with_suffix('.md').as_posix()}"
        files[path] = env.get_template("source.md.j2").render(
            file=rel, chunks=[{"id": "", "line": 1, "text": (root / rel).read_text(encoding="utf-8").rstrip()}], rs=rs)
        sources.append({rel: path})
    # reference pages
    common = {"rs": rs, "as_of": as_of, "short_hash": rs.sha256[:12]}
    files["reference/facts.md"] = env.get_template("facts.md.j2").render(
        groups=_fact_groups(rs, root, fact_files, views, "reference/facts.md"), **common)
    files["reference/coverage.md"] = env.get_template("coverage.md.j2").render(
        rows=_coverage(pages, views, exercised), **common)
    files["reference/changes.md"] = env.get_template("changes.md.j2").render(
        **_changes(rs, views, "reference/changes.md"), **common)
    nav: list = [{"Home": "index.md"}]
    nav.extend({chapter: entries} for chapter, entries in nav_chapters.items())
    nav.append({"Reference": [{"Fact vocabulary": "reference/facts.md"}, {"Coverage": "reference/coverage.md"},
                              {"Changes between editions": "reference/changes.md"}]})
    guides = [{title: name} for name, title in (("auditors.md", "Reading a decision record (auditors)"),
                                                 ("analysts.md", "Changing the rules (analysts)"))
              if (docs / name).is_file()]
    if guides:
        nav.append({"Guides": guides})
    nav.append({"YAML sources": sources})
    files["index.md"] = env.get_template("index.md.j2").render(
        chapters=[(c, [(t, p, _page_summary(next(pg for pg in pages if pg.path == p), rules_of_page, cases_of))
                       for e in entries for t, p in e.items()]) for c, entries in nav_chapters.items()],
        guides=guides, **common)
    written = _write(out, {path: _tidy(text) for path, text in files.items()})
    return Site([(p.path, p.title, p.chapter) for p in pages], nav, written)


def _page_summary(page: Page, rules_of_page: dict, cases_of: dict) -> dict:
    statuses = [p.status for p in page.paragraphs if p.status != "intro"]
    return {"rules": len(rules_of_page[page.path]),
            "cases": sum(len(cases_of.get(s.file, [])) for s in page.sections),
            "encoded": sum(1 for s in statuses if s in ("encoded", "open")),
            "paragraphs": len(statuses)}


def _exercised(rs: RuleSet, cases_of: dict, expect_of: dict) -> dict[str, list[tuple[str, Example]]]:
    """rule id -> the test cases that exercise it: it fired, decided a rejection, or the case names it."""
    out: dict[str, list[tuple[str, Example]]] = {}
    for file, examples in cases_of.items():
        mirror = file.split("rules/", 1)[-1]
        for ex in examples:
            expect = expect_of.get(f"{mirror}: {ex.name}", {})
            ids = set(expect.get("holds") or []) | set(expect.get("undetermined") or [])
            ids |= set(expect.get("fails") or {})
            if isinstance(ex.record, R.Decision):
                ids |= set(ex.record.chain)
                ids |= {c.rule for c in ex.record.considered if c.result == "fails" and c.stage != "classify"}
            for rid in ids:
                out.setdefault(rid, []).append((file, ex))
    return out


def _page_context(page: Page, rs: RuleSet, views: Views, rules: list[Rule], cases_of: dict, worked_of: dict,
                  cases_root: Path, as_of: dt.date) -> dict:
    path = page.path
    shown: set[str] = set()
    shown_params: set[str] = set()
    shown_credits: set[str] = set()
    paragraphs = []
    for para in page.paragraphs:
        here = [r for r in para.rules if views.home.get(r.id) == path and r.id not in shown]
        shown.update(r.id for r in here)
        other = [r for r in para.rules if r not in here]
        paragraphs.append({
            "heading": _md(para.heading), "anchor": para.anchor, "text": _md(para.text), "note": _md(para.note),
            "status": para.status, "status_word": STATUS[para.status], "part_iv": para.part_iv,
            "reason": _md(para.not_modelled or para.pending or "no rule encodes this paragraph yet"),
            "rules": [views.rule(r, path, _source_page(r.file)) for r in here],
            "elsewhere": [views.rule_link(r, path) + f" ({_md(r.label)})" for r in other],
            "links": [views.rule_link(r, path) for r in para.rules] + [_code(p.id) for p in para.params]
            + [f"credit line {c.line}" for c in para.credits],
            "params": [views.param(p) for p in para.params],
            "credits": [views.credit(c) for c in para.credits],
            "interpretations": _interpretations(para.rules, rs, {r.id for r in rules})})
        shown_params.update(p.id for p in para.params)
        shown_credits.update(c.line for c in para.credits)
    others = [views.rule(r, path, _source_page(r.file)) for r in rules if r.id not in shown]
    owned = {s.file for s in page.sections}
    used = {c.param for r in rs.rules for c in _facts_tested(r.when) if c.param}
    loose_params = [views.param(p) for p in rs.params.values() if p.where.rpartition(":")[0] in owned
                    and p.id not in used and p.id not in shown_params]
    loose_credits = [views.credit(c) for c in rs.credits.values() if c.where.rpartition(":")[0] in owned
                     and c.line not in shown_credits]
    cases: list[Example] = [c for s in page.sections for c in cases_of.get(s.file, [])]
    worked: list[Example] = [w for s in page.sections for w in worked_of.get(s.file, [])]
    boundaries = []
    for rule in rules:
        for row in boundary_examples(views.runner, rule, cases):
            boundaries.append({
                "rule": rule.id, "rule_link": f"[{_code(rule.id)}](#{rule.id})", "clause": _cell(row["cmp"].clause),
                "param": _code(row["cmp"].param) if row["cmp"].param else "", "fact": _code(row["cmp"].fact),
                "op": COMPARISONS.get(row["cmp"].op, LEGAL[row["cmp"].op]), "boundary": _cell(row.get("boundary", "")),
                "base": row["base"].name if row["base"] else "", "note": _cell(row["note"]),
                "variants": [dict(v, example=views.example(v["example"], rule.id), value=_cell(v["value"]))
                             for v in row["variants"]]})
    files = []
    for s in page.sections:
        mirror = s.file.split("rules/", 1)[-1]
        files.append({"rules": s.file, "source": views.link(path, _source_page(s.file)),
                      "cases": f"tests/cases/{mirror}" if (cases_root / mirror).is_file() else "",
                      "n_cases": len(cases_of.get(s.file, [])),
                      "examples": f"docs/examples/{mirror}", "n_worked": len(worked_of.get(s.file, []))})
    return {
        "page": page, "title": _md(page.title), "chapter": page.chapter, "rs": rs, "as_of": as_of,
        "short_hash": rs.sha256[:12], "sections": [{"id": s.id, "title": _md(s.title),
                                                    "instructions": _md(s.instructions)} for s in page.sections],
        "files": files, "paragraphs": paragraphs, "others": others, "class_tables": views.class_tables(rules),
        "loose_params": loose_params, "loose_credits": loose_credits,
        "worked": [views.example(w) for w in worked], "cases": [views.example(c) for c in cases],
        "boundaries": boundaries,
        "precedence": [{"id": p.id, "family": p.family, "order": [views.rule_link(rs.rule(r), path) for r in p.order],
                        "reason": _md(p.reason), "review": _md(p.review)}
                       for p in rs.precedence if any(r.family == p.family for r in rules)],
    }


def _interpretations(rules: list[Rule], rs: RuleSet, here: set[str]) -> list[dict]:
    """The open readings behind a paragraph's rules: their notes and review, and reviewed precedences."""
    out = []
    for rule in rules:
        if rule.notes or rule.review:
            out.append({"rule": _code(rule.id), "reading": _md(rule.notes or "see the review note"),
                        "review": _md(rule.review), "here": rule.id in here, "anchor": rule.id})
    for prec in rs.precedence:
        if prec.review and any(r.id in prec.order for r in rules):
            on_page = any(r.id in here for r in rules if r.id in prec.order)
            reading = "where the class definitions overlap, the declared order decides"
            out.append({"rule": f"precedence {_code(prec.id)}", "here": False, "anchor": "", "review": _md(prec.review),
                        "reading": reading + (" (see [Precedence](#precedence))" if on_page else "")})
    return out


def _source_page(rules_file: str) -> str:
    return f"source/{Path(rules_file).with_suffix('.md').as_posix()}"


def _fact_files(root: Path) -> list[str]:
    """The vocabulary files shown as YAML: the facts, then the sales ledger's columns if there is one."""
    files = [p.relative_to(root).as_posix() for p in sorted((root / "definitions" / "facts").glob("*.y*ml"))]
    return files + (["definitions/ledger.yaml"] if (root / "definitions" / "ledger.yaml").is_file() else [])


def _fact_groups(rs: RuleSet, root: Path, fact_files: list[str], views: Views, page: str) -> list[dict]:
    users: dict[str, list[str]] = {}
    for rule in rs.rules:
        for cmp in _facts_tested(rule.when):
            users.setdefault(cmp.fact, [])
            if rule.id not in users[cmp.fact]:
                users[cmp.fact].append(rule.id)
        for fact in rule.then:
            users.setdefault(fact, [])
            if rule.id not in users[fact]:
                users[fact].append(rule.id)
    groups = []
    for rel in [f for f in fact_files if f.startswith("definitions/facts/")]:
        data, _ = load_yaml(root / rel)
        names = [str(n) for n in ((data or {}).get("facts") or {}) if str(n) in rs.facts]
        facts = []
        for name in names:
            fact: FactDef = rs.facts[name]
            facts.append({
                "name": _code(name), "anchor": name, "type": fact.type, "unit": _cell(fact.unit),
                "values": _cell(", ".join(fact.values)), "label": _cell(fact.label),
                "description": _cell(fact.description), "source": _cell(fact.source),
                "derived": fact.derived, "bare": fact.bare_number,
                "rules": ", ".join(views.rule_link(rs.rule(r), page) for r in users.get(name, []))})
        groups.append({"file": rel, "source": views.link(page, f"source/{Path(rel).with_suffix('.md').as_posix()}"),
                       "facts": facts})
    ledger = getattr(rs, "ledger", None) or {}
    if ledger and (root / "definitions" / "ledger.yaml").is_file():
        groups.append({"file": "definitions/ledger.yaml (the columns of a sales ledger)",
                       "source": views.link(page, "source/definitions/ledger.md"),
                       "facts": [{"name": _code(name), "anchor": name, "type": f.type, "unit": _cell(f.unit),
                                  "values": _cell(", ".join(f.values)), "label": _cell(f.label),
                                  "description": _cell(f.description), "source": _cell(f.source),
                                  "derived": False, "bare": f.bare_number, "rules": ""}
                                 for name, f in ledger.items()]})
    return groups


def _coverage(pages: list[Page], views: Views, exercised: dict) -> list[dict]:
    rows = []
    for page in pages:
        for para in page.paragraphs:
            cases = {(f, ex.name) for r in para.rules for f, ex in exercised.get(r.id, [])}
            rows.append({
                "chapter": page.chapter, "page": _md(page.title),
                "link": views.link("reference/coverage.md", page.path, para.anchor),
                "paragraph": _cell(para.heading), "status": STATUS[para.status],
                "rules": ", ".join([views.rule_link(r, "reference/coverage.md") for r in para.rules]
                                   + [_code(p.id) for p in para.params]
                                   + [f"credit line {c.line}" for c in para.credits]),
                "cases": len(cases),
                "cases_link": views.link("reference/coverage.md", views.home[para.rules[0].id], "test-cases")
                if cases and para.rules and para.rules[0].id in views.home else "",
                "reason": _cell(para.not_modelled or para.pending) if para.status in ("not_modelled", "pending")
                else ""})
    matched = {r.id for p in pages for para in p.paragraphs for r in para.rules}
    for rule in views.rs.rules:
        if rule.id not in matched:
            rows.append({"chapter": "", "page": "", "link": "", "paragraph": "(no paragraph of the outline)",
                         "status": "encoded", "rules": views.rule_link(rule, "reference/coverage.md"),
                         "cases": len(exercised.get(rule.id, [])), "cases_link": "",
                         "reason": "a rule that no paragraph of docs/outline.yaml matches: map it there"})
    return rows


def _changes(rs: RuleSet, views: Views, page: str) -> dict:
    dated = [views.param(p) for p in rs.params.values() if len(p.values) > 1 or any(v.value is None for v in p.values)]
    first = min((r.in_force_from for r in rs.rules), default=None)
    ranged = [{"rule": views.rule_link(r, page), "label": _cell(r.label),
               "from": r.in_force_from.isoformat(), "to": r.in_force_to.isoformat() if r.in_force_to else ""}
              for r in rs.rules if r.in_force_to or r.in_force_from != first]
    editions: dict[str, list[str]] = {}
    for rule in rs.rules:
        text = " ".join(rule.cite.values())
        for edition in ("Rev. 01-2024", "Rev. 12-2025", "Pub. L. 119-21", "T.D. 10010", "Notice"):
            if edition in text:
                editions.setdefault(edition, []).append(views.rule_link(rule, page))
    reviews = [{"what": views.rule_link(r, page), "review": _cell(r.review), "reading": _cell(r.notes)}
               for r in rs.rules if r.review]
    reviews += [{"what": f"precedence {_code(p.id)}", "review": _cell(p.review), "reading": _cell(p.reason)}
                for p in rs.precedence if p.review]
    return {"dated": dated, "ranged": ranged, "first": first, "editions": editions, "reviews": reviews}


def _tidy(text: str) -> str:
    """At most one blank line between blocks (the templates leave more), never inside a code block."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line.rstrip() if not fenced else line)
    return "\n".join(out).rstrip() + "\n"


def _write(out: Path, files: dict[str, str]) -> list[str]:
    """Write each page only if its text changed (mkdocs serve watches these), and drop stale ones."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    previous = manifest.read_text(encoding="utf-8").split() if manifest.is_file() else []
    written = []
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(rel)
    for rel in previous:
        if rel not in files and (out / rel).is_file():
            (out / rel).unlink()
    listing = "\n".join(sorted(files)) + "\n"
    if not manifest.is_file() or manifest.read_text(encoding="utf-8") != listing:
        manifest.write_text(listing, encoding="utf-8")
    return written


# --------------------------------------------------------------------------------------------------
# mkdocs hook and command line

def on_config(config: Any) -> Any:
    """mkdocs hook: regenerate the pages into docs_dir and set the navigation before the build."""
    try:
        site = generate(out=config["docs_dir"])
    except DocsError as exc:
        from mkdocs.exceptions import Abort
        raise Abort(f"ampc docs: {exc}")
    config["nav"] = site.nav
    return config


def build_site(site_dir: Path | str | None = None, strict: bool = True) -> int:
    """`mkdocs build --strict` on mkdocs.yml at the project root (its hook generates the pages)."""
    command = [sys.executable, "-m", "mkdocs", "build", "--config-file", str(PROJECT / "mkdocs.yml")]
    if strict:
        command.append("--strict")
    if site_dir:
        command += ["--site-dir", str(site_dir)]
    return subprocess.call(command, cwd=PROJECT)
