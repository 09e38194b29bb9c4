"""Renderers of the typed record: values and clauses in words, the reason, the classification
table, the readable explanation, JSON and JSON lines. They read records; they never re-decide."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from decimal import Decimal

from tabulate import tabulate

from ampc.records import record as R
from ampc.rules.units import grouped

# With more candidates than this, the text shows in full only those that failed on their own terms
# and counts the others (which failed on the kind they name); JSON always holds every one.
FULL_LIST_UP_TO = 8

MARK = {"holds": "+", "fails": "x", "undetermined": "?", "not_reached": "."}
RESULT = {"holds": "holds", "fails": "fails", "undetermined": "undetermined", "not_reached": "not reached"}
WORDS = {  # operator -> (the words when it holds, the words when it fails)
    "is": ("is", "is not"), "one_of": ("is one of", "is not one of"),
    "at_least": ("is at least", "is less than"), "more_than": ("is more than", "is not more than"),
    "at_most": ("is at most", "is more than"), "less_than": ("is less than", "is not less than"),
}
SET_WORDS = ("includes one of", "includes none of")
KEYED = {"sale": "sold", "production": "produced", "taxable_year": "in taxable years beginning"}


# ---------------------------------------------------------------------------------------------------
# values and clauses

def unit_text(unit: str) -> str:
    """A unit as a person writes it: cm**2 -> cm², percent -> %, count -> (nothing)."""
    if unit == "percent":
        return "%"
    if unit == "count":
        return ""
    return unit.replace("**2", "²").replace("**3", "³")


def number(value: Decimal) -> str:
    return grouped(value)


def value_text(value: R.Value) -> str:
    """A typed value in words: '1,000,000 W', 'true', '{commercial, residence}', '120 V or 240 V'."""
    if isinstance(value, R.Quantity):
        return f"{grouped(value.value)} {unit_text(value.unit)}".strip()
    if isinstance(value, R.Boolean):
        return "true" if value.value else "false"
    if isinstance(value, R.Text):
        return value.value
    if isinstance(value, R.Members):
        return "{" + ", ".join(value.values) + "}"
    if isinstance(value, R.Day):
        return value.value.isoformat()
    if isinstance(value, R.NotGiven):
        return "not given"
    if isinstance(value, R.NotStatedByLaw):
        return f"not stated in the law for {value.date.isoformat()}"
    if isinstance(value, R.OneOf):
        parts = [value_text(v) for v in value.values]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    raise TypeError(f"no words for {type(value).__name__}")


def op_words(op: str, passed: bool, is_set: bool = False) -> str:
    if is_set and op == "one_of":
        return SET_WORDS[0 if passed else 1]
    return WORDS[op][0 if passed else 1]


def sentence(c: R.Clause) -> str:
    """One clause in words, with its numbers: 'ac_capacity 1,200,000 W is more than 1,000,000 W'."""
    if isinstance(c.threshold, R.NotStatedByLaw):
        text = f"{c.fact} {value_text(c.actual)}: the threshold is {value_text(c.threshold)} ({c.param})"
        if c.verdict != "unknown":  # the same for every value the threshold could take
            text += f"; it {op_words(c.op, c.verdict == 'true')} any value the threshold could take"
        return text
    if c.verdict == "unknown":
        return f"{c.fact} is not given (needed: {c.fact} {op_words(c.op, True)} {value_text(c.threshold)})"
    return (f"{c.fact} {value_text(c.actual)} "
            f"{op_words(c.op, c.verdict == 'true', isinstance(c.actual, R.Members))} {value_text(c.threshold)}")


def citation(cite: dict[str, str]) -> str:
    return "; ".join(f"IRC {v}" if k == "irc" else str(v) for k, v in cite.items())


def period(in_force: R.InForce) -> str:
    end = f" to {in_force.end.isoformat()}" if in_force.end else ""
    return f"{KEYED[in_force.keyed_on]} from {in_force.start.isoformat()}{end}"


# ---------------------------------------------------------------------------------------------------
# the reason and the flags

def _a(label: str) -> str:
    word = label.lower()
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _first_failure(c: R.Considered) -> str:
    """The first failed clause that is not about the product's kind, for a one-line summary."""
    decisive = c.decisive()
    specific = [x for x in decisive if not x.derived] or list(decisive)
    return sentence(specific[0]) if specific else "fails"


def _failed_words(c: R.Considered) -> str:
    return "; ".join(x.clause or sentence(x) for x in c.decisive()) or "a condition fails"


def reason(d: R.Decision | R.ErrorRecord) -> str:
    """The one-line reason for the outcome, from the record's reason and the rules it names."""
    if isinstance(d, R.ErrorRecord):
        return d.error.message
    r = d.reason
    rules = [d.considered_rule(rid) for rid in r.rules]
    named = [c for c in rules if c is not None]

    def listed(items: list[R.Considered]) -> str:
        return ", ".join(f"{c.line} {c.label.lower()}" for c in items)

    def turns(items: list) -> str:
        return " turns" if len(items) == 1 else " turn"

    kind = r.kind
    if kind == "qualified":
        return f"{named[0].label}, Form 7207 Part II line {d.line}"
    if kind == "kind_not_given":
        return "the kind of component is not given"
    if kind == "identity_undetermined":
        return f"whether it is {_a(named[0].label)} turns on facts not given"
    if kind == "not_identified":
        return f"not {_a(named[0].label)}: " + _failed_words(named[0])
    if kind == "no_rule_in_force":
        return f"no rule for a {r.family} is in force for a sale on {d.dates.sale.isoformat()}"
    if kind == "line_undetermined":
        return "no line matches on the facts given; " + listed(named) + turns(named) + " on facts not given"
    if kind == "no_line":
        failures = dict.fromkeys(f"{c.line} {_first_failure(c)}" for c in named)
        return "no Form 7207 line: " + "; ".join(failures)
    if kind == "no_precedence":
        return "several lines match and no declared precedence decides"
    if kind == "precedence_pending":
        won = d.considered_rule(r.winner or "")
        head = f"meets {won.line} {won.label.lower()}, but " if won else ""
        return head + listed(named) + " would take precedence and turns on facts not given"
    if kind == "requirement_fails":
        return f"meets line {d.classified_line} but fails the rule '{named[0].label}': " + _failed_words(named[0])
    if kind in ("requirement_undetermined", "requirement_not_stated"):
        why = " on facts not given" if kind == "requirement_undetermined" else \
            " on a threshold the law does not state for its date"
        return (f"meets line {d.classified_line}; " + "; ".join(f"'{c.label}'" for c in named)
                + turns(named) + why)
    if kind == "no_line_applies":
        return "no Form 7207 line applies"
    raise ValueError(f"no words for the reason {kind}")


def flag_text(flag: R.Flag, d: R.Decision, labels: dict[str, str] | None = None) -> str:
    """What a reviewer reads for a flag."""
    def label(rid: str) -> str:
        c = d.considered_rule(rid)
        return f"{c.line} {c.label.lower()}" if c else rid

    if flag.kind == "overlap":
        others = [rid for rid in flag.rules if rid != flag.winner]
        return (f"also meets {', '.join(label(o) for o in others)}; {label(flag.winner or '')} applies by the "
                f"declared precedence '{flag.precedence or ''}': {flag.note}")
    if flag.kind == "undeclared_overlap":
        return "several definitions hold and no precedence orders them: " + ", ".join(flag.rules)
    if flag.kind == "interpretation":
        text = f"{flag.rules[0]}: {flag.note or flag.review}"
        if len(flag.rules) > 1:
            text += f" (also {', '.join(flag.rules[1:])})"
        return text
    if flag.kind == "not_stated":
        name = (labels or {}).get(flag.param or "", flag.param or "")
        day = flag.date.isoformat() if flag.date else ""
        return (f"{flag.rules[0]}: {name}: not stated in the law for {day}; a decision that turns on it "
                "stays undetermined")
    if flag.kind == "not_stated_settled":
        name = (labels or {}).get(flag.param or "", flag.param or "")
        day = flag.date.isoformat() if flag.date else ""
        return (f"{flag.rules[0]}: {name}: not stated in the law for {day}; decided all the same, as every "
                "value it could take gives the same result")
    raise ValueError(flag.kind)


def flag_review(flag: R.Flag) -> str:
    """Where a reviewer reads the question: the interpretation it names, on the interpretations page."""
    if flag.review:
        return f"the open reading {flag.review} (docs: reference/interpretations.md)"
    return "the law states no value for this date" if flag.kind.startswith("not_stated") else ""


# ---------------------------------------------------------------------------------------------------
# the table and the explanation

def line_text(d: R.Decision | R.ErrorRecord) -> str:
    if isinstance(d, R.ErrorRecord):
        return ""
    return d.line or ("/".join(d.possible_lines) + "?" if d.possible_lines else "")


def table(decisions: Iterable[R.Record]) -> str:
    rows = []
    for d in decisions:
        flags = "" if isinstance(d, R.ErrorRecord) else ", ".join(sorted({f.kind for f in d.flags}))
        rows.append([d.product, d.outcome.upper(), line_text(d), _short(reason(d), 70), flags])
    return tabulate(rows, headers=["product", "outcome", "line", "why", "review"], tablefmt="simple",
                    disable_numparse=True)


def summary(decisions: list[R.Record]) -> str:
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.outcome] = counts.get(d.outcome, 0) + 1
    parts = [f"{n} {k}" for k, n in sorted(counts.items())]
    flagged = sum(1 for d in decisions if isinstance(d, R.Decision) and d.flags)
    text = f"{len(decisions)} products: " + ", ".join(parts)
    if flagged:
        text += f"; {flagged} flagged for review"
    return text


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def facts_text(d: R.Decision) -> str:
    return "; ".join(f"{k} {value_text(v)}" for k, v in d.facts.items())


def explain(d: R.Record, param_labels: dict[str, str] | None = None,
            keep: Iterable[str] | None = None) -> str:
    """The explanation a person reads: every rule considered, each clause with its numbers.
    `keep` limits the rules shown in full (the docs' focused examples)."""
    out = []
    head = f"{d.product}  {d.description}".rstrip()
    verdict = d.outcome.upper() + (f"  line {d.line}" if d.line else "")
    out.append(f"{head}\n  {verdict}: {reason(d)}")
    if isinstance(d, R.ErrorRecord):
        out.append(f"  error at {d.error.where}: {d.error.message}")
        if d.error.fix:
            out.append(f"  fix: {d.error.fix}")
        out.append(_footer(d))
        return "\n".join(out)
    if d.facts:
        out.append("  facts:  " + facts_text(d))
    kept = set(keep) if keep is not None else None
    considered = [c for c in d.considered if kept is None or c.rule in kept]
    skipped = [c for c in considered if c.result == "not_reached"]
    shown_all = sum(1 for c in considered if c.stage == "classify") <= FULL_LIST_UP_TO
    others = [c for c in considered if not c.relevant and c.result == "fails" and not shown_all]
    for c in considered:
        if c.result == "not_reached" or c in others:
            continue
        title = f"  {MARK[c.result]} {c.line:<3} {c.label}: {RESULT[c.result]}"
        cite = citation(c.cite)
        out.append(f"{title:<48}  [{cite}]" if len(title) <= 48 else f"{title}\n{'':<50}[{cite}]")
        decisive = c.decisive()
        shown = {"fails": decisive, "holds": decisive or c.clauses}.get(c.result, c.clauses)
        for clause in shown:
            mark = {"true": "ok", "false": "NO", "unknown": "??"}[clause.verdict]
            out.append(f"      {mark}  {sentence(clause)}")
            if clause.clause:
                out.append(f"          \"{clause.clause}\"")
        if c.result == "holds" and not shown and d.detail == "compact":
            out.append("      ok  every clause holds (a compact record lists the clauses that did not)")
        if c.missing:
            out.append(f"      would be settled by: {', '.join(c.missing)}")
    if others:
        first = others[0].decisive()
        example = sentence(first[0]) if first else ""
        out.append(f"  ({len(others)} other candidate(s) fail on the kind they name, e.g. {example}; "
                   "--format json lists them)")
    if skipped:
        stages = sorted({c.stage for c in skipped})
        out.append(f"  ({len(skipped)} rule(s) of the {', '.join(stages)} stage not reached: an earlier stage "
                   "settled the outcome)")
    if kept is not None and len(considered) < len(d.considered):
        out.append(f"  ({len(d.considered) - len(considered)} other rules considered are not shown here; "
                   "`ampc explain` lists them all)")
    if d.missing:
        out.append(f"  missing facts that would settle it: {', '.join(d.missing)}")
    for flag in d.flags:
        wrapped = textwrap.fill(f"REVIEW ({flag.kind}): {flag_text(flag, d, param_labels)}", width=100,
                                initial_indent="  ", subsequent_indent="    ")
        out.append(wrapped)
        if flag_review(flag):
            out.append(f"    see: {flag_review(flag)}")
    out.append(f"  chain of rules fired: {' -> '.join(d.chain) if d.chain else '(none)'}")
    out.append(_footer(d))
    return "\n".join(out)


def dates_text(d: R.Decision) -> str:
    x = d.dates
    return (f"sold {x.sale.isoformat()}, produced {x.production.isoformat()}, taxable year beginning "
            f"{x.taxable_year_begins.isoformat()}")


def _footer(d: R.Record) -> str:
    rs = d.ruleset
    edition = f", law as enacted by {rs.law_as_enacted_by.isoformat()}" if rs.law_as_enacted_by else ""
    if isinstance(d, R.Decision):
        when = f"as of {d.dates.sale.isoformat()}"
    else:
        when = f"as of {d.as_of.isoformat()}" if d.as_of else ""
    decided = f", decided under the edition {rs.edition}" if rs.edition else ""
    return f"  rules: {rs.name} (sha256 {rs.sha256[:12]}{edition}){decided}  {when}".rstrip()


# ---------------------------------------------------------------------------------------------------
# JSON

def to_json(decisions: Iterable[R.Record]) -> str:
    """A JSON array, one record per line (each line is the record's canonical bytes)."""
    items = [R.encode(d).decode() for d in decisions]
    return "[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n"


def to_jsonl(decisions: Iterable[R.Record]) -> Iterable[str]:
    for d in decisions:
        yield R.encode(d).decode() + "\n"


# ---------------------------------------------------------------------------------------------------
# verify

def _change_value(value: object) -> str:
    """A recorded or present value of a change: a typed value in words, else as JSON."""
    import json

    import msgspec

    if value is None:
        return "(none)"
    if isinstance(value, dict) and "type" in value:
        try:
            return value_text(msgspec.convert(value, R.Value))
        except msgspec.ValidationError:
            pass
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def change_text(change) -> str:
    if change.what == "clause":
        where = f"{change.rule} {change.path}"
        return f"clause {where} {change.field or ''}: {_change_value(change.recorded)} -> {_change_value(change.now)}"
    if change.what == "rule":
        return f"rule {change.rule}: {_change_value(change.recorded)} -> {_change_value(change.now)}"
    return f"{change.what}: {_change_value(change.recorded)} -> {_change_value(change.now)}"


def verify_text(results: list, problems: list) -> str:
    out = []
    counts: dict[str, int] = {}
    for v in results:
        counts[v.status] = counts.get(v.status, 0) + 1
        note = ""
        if v.rules_differ:
            note = f"  (decided under other rules: sha256 {v.recorded_sha256[:12]}, now {v.now_sha256[:12]})"
        elif v.software_differs:
            note = "  (other software versions)"
        if v.status == "identical" and not v.rules_differ:
            continue
        out.append(f"line {v.line}  {v.product}: {v.status.replace('_', ' ')}{note}")
        for change in v.changes:
            out.append(f"    {change_text(change)}")
    for p in problems:
        out.append(f"error: {p}")
    total = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
    out.append(f"{len(results)} records verified: {total or 'none'}"
               + (f"; {len(problems)} line(s) not readable" if problems else ""))
    return "\n".join(out) + "\n"
