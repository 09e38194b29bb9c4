"""Renderers: the classification table, the readable explanation, JSON and JSON lines."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable

from tabulate import tabulate

from .record import Decision

# With more candidates than this, the text shows in full only those that failed on their own terms
# and counts the others (which failed on the kind they name); JSON always holds every one.
FULL_LIST_UP_TO = 8

MARK = {"holds": "+", "fails": "x", "undetermined": "?", "not in force": "-", "not reached": "."}


def table(decisions: Iterable[Decision]) -> str:
    rows = []
    for d in decisions:
        line = d.line or ("/".join(d.possible_lines) + "?" if d.possible_lines else "")
        flags = ", ".join(sorted({f.kind for f in d.flags}))
        rows.append([d.product, d.outcome.upper(), line, _short(d.reason, 70), flags])
    return tabulate(rows, headers=["product", "outcome", "line", "why", "review"], tablefmt="simple")


def summary(decisions: list[Decision]) -> str:
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.outcome] = counts.get(d.outcome, 0) + 1
    parts = [f"{n} {k}" for k, n in sorted(counts.items())]
    flagged = sum(1 for d in decisions if d.flags)
    text = f"{len(decisions)} products: " + ", ".join(parts)
    if flagged:
        text += f"; {flagged} flagged for review"
    return text


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def explain(d: Decision) -> str:
    """The explanation a person reads: every rule considered, each clause with its numbers."""
    out = []
    head = f"{d.product}  {d.description}".rstrip()
    verdict = d.outcome.upper() + (f"  line {d.line}" if d.line else "")
    out.append(f"{head}\n  {verdict}: {d.reason}")
    if d.error:
        out.append(f"  error at {d.error.get('where')}: {d.error.get('message')}")
        if d.error.get("fix"):
            out.append(f"  fix: {d.error['fix']}")
        out.append(_footer(d))
        return "\n".join(out)
    if d.facts:
        out.append("  facts:  " + "; ".join(f"{k} {v}" for k, v in d.facts.items()))
    skipped = [c for c in d.considered if c.result == "not reached"]
    shown_all = sum(1 for c in d.considered if c.stage == "classify") <= FULL_LIST_UP_TO
    others = [c for c in d.considered if not c.relevant and c.result == "fails" and not shown_all]
    for c in d.considered:
        if c.result == "not reached" or c in others:
            continue
        title = f"  {MARK[c.result]} {c.line:<3} {c.label}: {c.result}"
        out.append(f"{title:<48}  [{c.citation}]" if len(title) <= 48 else f"{title}\n{'':<50}[{c.citation}]")
        shown = {"fails": c.failed, "holds": c.held_by or c.checks}.get(c.result, c.checks)
        for check in shown:
            mark = {True: "ok", False: "NO", None: "??"}[check.passed]
            clause = f"\"{check.clause}\"" if check.clause else ""
            out.append(f"      {mark}  {check.sentence()}")
            if clause:
                out.append(f"          {clause}")
        if c.missing:
            out.append(f"      would be settled by: {', '.join(c.missing)}")
    if others:
        example = others[0].failed[0].sentence() if others[0].failed else ""
        out.append(f"  ({len(others)} other candidate(s) fail on the kind they name, e.g. {example}; "
                   "--format json lists them)")
    if skipped:
        stages = sorted({c.stage for c in skipped})
        out.append(f"  ({len(skipped)} rule(s) of the {', '.join(stages)} stage not reached: an earlier stage "
                   "settled the outcome)")
    if d.missing:
        out.append(f"  missing facts that would settle it: {', '.join(d.missing)}")
    for flag in d.flags:
        wrapped = textwrap.fill(f"REVIEW ({flag.kind}): {flag.message}", width=100,
                                initial_indent="  ", subsequent_indent="    ")
        out.append(wrapped)
        if flag.review:
            out.append(f"    see: {flag.review}")
    out.append(f"  chain of rules fired: {' -> '.join(d.chain) if d.chain else '(none)'}")
    out.append(_footer(d))
    return "\n".join(out)


def _footer(d: Decision) -> str:
    rs = d.ruleset
    return f"  rules: {rs.get('name')} {rs.get('version')} (sha256 {rs.get('sha256', '')[:12]})  as of {d.as_of}"


def to_json(decisions: list[Decision]) -> str:
    return json.dumps([d.to_dict() for d in decisions], indent=2, ensure_ascii=False) + "\n"


def to_jsonl(decisions: Iterable[Decision]) -> Iterable[str]:
    for d in decisions:
        yield json.dumps(d.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"

