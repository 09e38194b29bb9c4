"""The renderers of `ampc rules diff`: the changelog of two rule sets (ampc.analysis.changelog) as
text, Markdown or JSON, and the diff over a catalog (ampc.analysis.diff) as a table with each
product's explanation diff, as Markdown or as JSON, with the credit at stake. They read the typed
data; they never compare rule sets or decide again."""

from __future__ import annotations

import json
import textwrap

from tabulate import tabulate

from ampc.analysis import changelog as C
from ampc.analysis.diff import DiffReport, RuleMove, Stake
from ampc.credit.worksheet import money, unit_credit_text
from ampc.docs.rules_page import LEGAL
from ampc.docs.text import cell, code
from ampc.io.report import KEYED, RESULT, citation, period, sentence, value_text
from ampc.records import record as R
from ampc.rules.model import RuleSet

HEADINGS = {"rule": "Rules", "parameter": "Parameters", "credit_line": "Credit lines", "fact": "Facts",
            "precedence": "Precedences"}
NOUNS = {"rule": "rules", "parameter": "parameters", "credit_line": "credit lines", "fact": "facts",
         "precedence": "precedences"}
MARK = {"added": "+", "removed": "-", "changed": "~"}
ORDER = ("added", "removed", "changed")
VERDICT = {"true": "met", "false": "not met", "unknown": "not given"}
# The fields a rule, parameter, ... added or removed is shown with in text and Markdown (its label
# heads the entry); the JSON holds every field.
SUMMARY = {"rule": ("in_force", "citation", "citation_as_amended", "enacted"), "parameter": ("values", "enacted"),
           "credit_line": ("rate", "phase_out", "citation"), "fact": ("type", "unit", "values"),
           "precedence": ("order",)}
FIELD_WORDS = {"in_force": "in force", "citation_as_amended": "citation as amended", "keyed_on": "keyed on",
               "phase_out": "phase-out", "column_a": "column (a)", "column_b": "column (b)"}
NO_CHANGES = ("no changes: the two rule sets hold the same rules, parameters, credit lines, facts and "
              "precedences")
LONG = 70  # an old and a new value longer than this together are shown on lines of their own
WIDTH = 100


# ---------------------------------------------------------------------------------------------------
# values

def comparison_text(t: C.Test) -> str:
    """One comparison in the law's words, as the rule pages write it: 'ac_capacity is greater than
    inverter.utility.min_capacity', 'phase is three'."""
    op = "includes one of" if t.op == "one_of" and t.of_set else LEGAL[t.op]
    threshold = f"parameter {t.param}" if t.param else value_text(t.value) if t.value is not None else ""
    return f"{t.path}: {t.fact} {op} {threshold}".rstrip()


def _dated(d: C.Dated, keyed_on: str) -> str:
    end = f" to {d.end.isoformat()}" if d.end else ""
    shown = "no value, the law ends it" if d.value is None else value_text(d.value)
    return f"{shown} ({KEYED[keyed_on]} from {d.start.isoformat()}{end})"


def _amended(c: C.AmendedCitations) -> str:
    return "; ".join(f"for taxable years beginning after {a.after.isoformat()}, as amended by {a.by} "
                     f"(enacted {a.enacted.isoformat()}): {citation(a.cite)}" for a in c.amended)


def _schedule(s: C.Schedule) -> str:
    if s.start:
        return f"{s.param} ({period(R.InForce(s.keyed_on, s.start, s.end))})"
    return f"{s.param} ({KEYED[s.keyed_on]} until {s.end.isoformat()})" if s.end else s.param


def field_text(value: C.FieldValue | None) -> str:
    """A field's value in words (a condition: one comparison after another)."""
    if value is None:
        return "(none)"
    if isinstance(value, C.Words):
        return value.text
    if isinstance(value, C.Names):
        return ", ".join(value.names)
    if isinstance(value, C.Period):
        return period(R.InForce(value.keyed_on, value.start, value.end))
    if isinstance(value, C.Citation):
        return citation(value.cite)
    if isinstance(value, C.AmendedCitations):
        return _amended(value)
    if isinstance(value, C.Condition):
        return "; ".join(comparison_text(t) for t in value.tests)
    if isinstance(value, C.Values):
        return "; ".join(_dated(d, value.keyed_on) for d in value.values)
    if isinstance(value, C.Schedules):
        return "; ".join(_schedule(s) for s in value.schedules)
    if isinstance(value, C.Concludes):
        return ", ".join(f"{k} = {value_text(v)}" for k, v in value.values.items())
    return value_text(value)


def _field_name(name: str) -> str:
    return FIELD_WORDS.get(name, name)


def _shown_fields(e: C.Entry) -> tuple[C.FieldChange, ...]:
    if e.change == "changed":
        return e.fields
    return tuple(f for f in e.fields if f.field in SUMMARY[e.kind])


def _condition_lines(old: C.FieldValue | None, new: C.FieldValue | None) -> list[str]:
    """A condition's change: the comparisons only the old one has (-) and only the new one has (+)."""
    was = old.tests if isinstance(old, C.Condition) else ()
    now = new.tests if isinstance(new, C.Condition) else ()
    return ([f"- {comparison_text(t)}" for t in was if t not in now]
            + [f"+ {comparison_text(t)}" for t in now if t not in was])


def side_text(side: C.Side) -> str:
    law = (f"the law as enacted by {side.law_as_enacted_by.isoformat()}" if side.law_as_enacted_by
           else "every amendment encoded")
    return f"{side.label} ({side.name}, sha256 {side.sha256[:12]}, {law})"


def summary_text(log: C.Changelog) -> str:
    parts = []
    for kind in C.KINDS:
        counts = log.summary.get(kind)
        if counts:
            parts.append(f"{NOUNS[kind]}: " + ", ".join(f"{counts[w]} {w}" for w in ("added", "removed", "changed")
                                                        if w in counts))
    return "; ".join(parts) or NO_CHANGES


# ---------------------------------------------------------------------------------------------------
# the changelog: text, Markdown, JSON

def _in_order(log: C.Changelog, kind: str) -> list[C.Entry]:
    """One kind's entries, those added first, then those removed, then those changed."""
    return sorted((e for e in log.entries if e.kind == kind), key=lambda e: ORDER.index(e.change))


def _wrapped(prefix: str, text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent + prefix, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent + prefix.rstrip()]


def _field_lines(f: C.FieldChange, change: str) -> list[str]:
    name = _field_name(f.field)
    pad = "      "
    if change != "changed":
        return _wrapped(f"{name}: ", field_text(f.new if change == "added" else f.old), pad)
    if f.field == "conditions":
        return [f"{pad}{name}:"] + [line for item in _condition_lines(f.old, f.new)
                                    for line in _wrapped(item, "", pad + "  ")]
    if f.old is None or f.new is None:
        word = "added" if f.old is None else "removed"
        return _wrapped(f"{name} {word}: ", field_text(f.new if f.old is None else f.old), pad)
    old, new = field_text(f.old), field_text(f.new)
    if len(old) + len(new) + len(name) < LONG:
        return [f"{pad}{name}: {old} -> {new}"]
    return [f"{pad}{name}:"] + _wrapped("was: ", old, pad + "  ") + _wrapped("now: ", new, pad + "  ")


def entry_text(e: C.Entry) -> list[str]:
    head = f"  {MARK[e.change]} {e.id}" + (f"  line {e.line}" if e.line and e.line != e.id else "")
    head += f"  {e.label}" + (f"  ({e.where})" if e.where else "")
    out = [head]
    for f in _shown_fields(e):
        out += _field_lines(f, e.change)
    if e.cite and not e.field_named("citation"):
        out += _wrapped("cite: ", "; ".join(e.cite), "      ")
    return out


def text(log: C.Changelog) -> str:
    out = [f"old: {side_text(log.old)}", f"new: {side_text(log.new)}", "", summary_text(log)]
    for kind in C.KINDS:
        entries = _in_order(log, kind)
        if entries:
            out += ["", HEADINGS[kind]]
            for e in entries:
                out += entry_text(e)
    return "\n".join(out) + "\n"


def markdown(log: C.Changelog) -> str:
    out = ["# Rule set changelog", "", f"- old: {cell(side_text(log.old))}", f"- new: {cell(side_text(log.new))}",
           "", cell(summary_text(log))]
    for kind in C.KINDS:
        entries = _in_order(log, kind)
        if not entries:
            continue
        out += ["", f"## {HEADINGS[kind]}", "", "| change | id | label | field | old | new | cite |",
                "|---|---|---|---|---|---|---|"]
        for e in entries:
            fields = _shown_fields(e) or (None,)
            for i, f in enumerate(fields):
                first = i == 0
                head = (f"| {e.change} | {code(e.id)} | {cell(e.label)} |" if first else "| | | |")
                if f is None:
                    out.append(f"{head} | | | {cell('; '.join(e.cite))} |")
                    continue
                if f.field == "conditions" and e.change == "changed":
                    old = "<br>".join(cell(x) for x in _condition_lines(f.old, f.new) if x.startswith("-"))
                    new = "<br>".join(cell(x) for x in _condition_lines(f.old, f.new) if x.startswith("+"))
                else:
                    old = cell(field_text(f.old)) if f.old is not None else ""
                    new = cell(field_text(f.new)) if f.new is not None else ""
                cite = cell("; ".join(e.cite)) if first else ""
                out.append(f"{head} {_field_name(f.field)} | {old} | {new} | {cite} |")
    return "\n".join(out) + "\n"


def to_json(log: C.Changelog) -> str:
    return json.dumps(R.to_builtins(log), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------------
# the diff over a catalog: the products that change, their explanation diff, the credit at stake

def _outcome(side) -> str:
    return f"{side.outcome} {side.line or ''}".strip()


def _result(word: str | None) -> str:
    return "not considered" if word is None else RESULT[word]


def _clause_side(c: R.Clause | None) -> str:
    return "not evaluated" if c is None else f"{sentence(c)} ({VERDICT[c.verdict]})"


def move_lines(m: RuleMove) -> list[str]:
    """One rule's move: its result on each side, then each clause whose verdict changed, old -> new."""
    out = [f"    {m.rule} ({m.line} {m.label}): {_result(m.old)} -> {_result(m.new)}"]
    for c in m.clauses:
        out.append(f"      {c.path} {c.clause or c.fact}:")
        out.append(f"        was: {_clause_side(c.old)}")
        out.append(f"        now: {_clause_side(c.new)}")
    return out


def _quiet(m: RuleMove) -> bool:
    """A rule one side did not reach, with no clause to show: named on one line with the others."""
    return not m.clauses and "not_reached" in (m.old, m.new)


def explanation_text(report: DiffReport) -> list[str]:
    out = []
    for c in report.changes:
        out += ["", f"{c.product}: {_outcome(c.old)} -> {_outcome(c.new)}"]
        for m in c.moves:
            if not _quiet(m):
                out += move_lines(m)
        for was, now in (("not_reached", None), (None, "not_reached")):
            names = [m.rule for m in c.moves if _quiet(m) and (m.old == was if was else m.new == now)]
            if names:
                words = "not reached under the old rules" if was else "not reached under the new rules"
                out += _wrapped(f"{words}: ", ", ".join(names), "    ")
    return out


def _usd(value: R.Quantity) -> str:
    return ("-" if value.value < 0 else "") + money(abs(value.value))


def _signed(value: R.Quantity) -> str:
    return ("+" if value.value > 0 else "") + _usd(value)


def stake_text(stake: Stake) -> list[str]:
    rows = [[p.product, _usd(p.old), _usd(p.new), _signed(p.change)] for p in stake.products]
    rows.append(["total", _usd(stake.old), _usd(stake.new), _signed(stake.change)])
    out = ["", f"credit at stake over {stake.ledger} (every sale computed under both rule sets):",
           tabulate(rows, headers=["product", "old credit", "new credit", "change"], colalign=("left", "right",
                                                                                             "right", "right"))]
    if stake.not_counted_old or stake.not_counted_new:
        out.append(f"sales not counted (undetermined or not computed): {stake.not_counted_old} under the old "
                   f"rules, {stake.not_counted_new} under the new")
    return out


def _rows(report: DiffReport, old: RuleSet, new: RuleSet) -> list[list[str]]:
    return [[c.product, ", ".join(c.what), _outcome(c.old), _outcome(c.new),
             unit_credit_text(c.old.outcome, c.old.credit, old), unit_credit_text(c.new.outcome, c.new.credit, new),
             ", ".join(c.old.decided_by) or "(no rule in force)", ", ".join(c.new.decided_by) or "(no rule in force)"]
            for c in report.changes]


HEADERS = ["product", "changed", "old", "new", "old credit", "new credit", "old: decided by", "new: decided by"]


def counts_text(report: DiffReport) -> str:
    counts = report.counts()
    detail = ", ".join(f"{counts[k]} {k}" for k in ("outcome", "line", "credit") if k in counts)
    return f"{counts['compared']} products compared, {counts['changed']} changed" + (f" ({detail})" if detail else "")


def catalog_text(report: DiffReport, old: RuleSet, new: RuleSet, stake: Stake | None = None) -> str:
    out = [f"old: {report.old_label}", f"new: {report.new_label}", "", tabulate(_rows(report, old, new), HEADERS),
           "", counts_text(report)]
    out += explanation_text(report)
    if stake is not None:
        out += stake_text(stake)
    return "\n".join(out) + "\n"


def catalog_markdown(report: DiffReport, old: RuleSet, new: RuleSet, stake: Stake | None = None) -> str:
    out = ["# Rule set diff over the catalog", "", f"- old: {cell(report.old_label)}",
           f"- new: {cell(report.new_label)}", "", "| " + " | ".join(HEADERS) + " |",
           "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(cell(x) for x in row) + " |" for row in _rows(report, old, new)]
    out += ["", cell(counts_text(report))]
    for c in report.changes:
        shown = [m for m in c.moves if not _quiet(m)]
        if not shown:
            continue
        out += ["", f"## {cell(c.product)}", "", "| rule | result | clause | old | new |", "|---|---|---|---|---|"]
        for m in shown:
            result = f"{_result(m.old)} → {_result(m.new)}"
            out.append(f"| {code(m.rule)} | {result} | | | |")
            out += [f"| | | {cell(x.clause or x.fact)} | {cell(_clause_side(x.old))} | {cell(_clause_side(x.new))} |"
                    for x in m.clauses]
    if stake is not None:
        out += ["", f"## Credit at stake over {cell(stake.ledger)}", "",
                "| product | old credit | new credit | change |", "|---|---:|---:|---:|"]
        out += [f"| {cell(p.product)} | {_usd(p.old)} | {_usd(p.new)} | {_signed(p.change)} |"
                for p in stake.products]
        out.append(f"| total | {_usd(stake.old)} | {_usd(stake.new)} | {_signed(stake.change)} |")
    return "\n".join(out) + "\n"


def catalog_json(report: DiffReport, old: RuleSet, new: RuleSet, stake: Stake | None = None) -> str:
    def side(s, ruleset: RuleSet) -> dict:
        return {**R.to_builtins(s), "credit_text": unit_credit_text(s.outcome, s.credit, ruleset)}
    data = {"old": report.old_label, "new": report.new_label, "summary": report.counts(),
            "changes": [{"product": c.product, "changed": list(c.what), "old": side(c.old, old),
                         "new": side(c.new, new), "rules": R.to_builtins(c.moves)} for c in report.changes],
            "errors": [p.to_dict() for p in report.errors]}
    if stake is not None:
        data["stake"] = R.to_builtins(stake)
    return json.dumps(data, indent=2, ensure_ascii=False)
