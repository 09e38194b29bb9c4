"""What would qualify a product (ampc.analysis.qualify), in words: per candidate line the changes,
each with the value needed and how far it moves, or what stands in the way. It reads the typed
result; it decides nothing."""

from __future__ import annotations

from ampc.io.report import FULL_LIST_UP_TO, value_text
from ampc.records import record as R

NEEDED = {"at_least": "at least", "more_than": "more than", "at_most": "at most", "less_than": "less than",
          "is": "", "one_of": "one of", "is_not": "not", "none_of": "none of"}
BLOCKED = {"fixed": "not the product's own fact to change", "derived": "concluded by an earlier stage",
           "not_stated": "the law states no threshold for the date"}
FIXED = {"sale_date": "the date of sale", "production_date": "the date of production",
         "taxable_year_begins": "the first day of the taxable year", "kind": "the kind of component"}


def _needed(op: str, threshold: R.Value) -> str:
    if isinstance(threshold, R.NotStatedByLaw):
        return f"{op.replace('_', ' ')} a threshold {value_text(threshold)}"
    words = NEEDED.get(op, op.replace("_", " "))
    return f"{words} {value_text(threshold)}".strip()


def _moved(change) -> str:
    if change.distance is None:
        return ""
    before, after = change.from_, change.to
    if isinstance(before, R.Day):
        return f" ({value_text(change.distance)}s {'later' if after.value > before.value else 'earlier'})"
    return f" ({value_text(change.distance)} {'more' if after.value > before.value else 'less'})"


def what_would_qualify_text(w, most: int = FULL_LIST_UP_TO) -> str:
    """The block `ampc explain --what-would-qualify` adds: per candidate line, the changes and whether
    re-deciding the product with them made it qualify; an unreachable line names what stands in the way."""
    head = "  what would qualify (the smallest change of the product's own facts, each re-decided):"
    if w.note == "qualified":
        return f"{head}\n    it qualifies already (line {w.line})"
    if w.note == "kind_not_given":
        return f"{head}\n    the kind of component is not given: no candidate line can be named until it is"
    if w.note in ("error", "no_candidate"):
        return f"{head}\n    " + ("the row could not be read" if w.note == "error" else
                                  "no class rule of this kind is in force on the product's dates")
    out = [head]
    for c in w.candidates[:most]:
        if not c.reachable:
            out.append(f"    {c.line:<3} {c.label}: unreachable{': ' + c.note if c.note else ''}")
            for b in c.blocked_by:
                what = f"{FIXED[b.role]}, " if b.role in FIXED else ""
                out.append(f"          {b.rule} {b.path}: {b.fact} {value_text(b.actual)}, needed "
                           f"{_needed(b.op, b.threshold)} ({what}{BLOCKED[b.why]})")
                if b.clause:
                    out.append(f"              \"{b.clause}\"")
            prefix = "besides: "
        else:
            count = f"{len(c.changes)} fact{'s' if len(c.changes) != 1 else ''}"
            state = (f"verified: re-decided, it qualifies on {c.line}" if c.verified else
                     f"NOT verified: {c.note}" + (f" (re-decided: {c.after}"
                                                  f"{' line ' + c.after_line if c.after_line else ''})"
                                                  if c.after else ""))
            out.append(f"    {c.line:<3} {c.label}: change {count} ({state})")
            prefix = ""
        for ch in c.changes:
            computed = f"; computed from {', '.join(ch.computed_from)}" if ch.computed_from else ""
            out.append(f"          {prefix}{ch.fact} {value_text(ch.from_)} -> {value_text(ch.to)}{_moved(ch)}, "
                       f"to be {_needed(ch.op, ch.threshold)}  [{ch.rule} {ch.path}{computed}]")
            if ch.clause:
                out.append(f"              \"{ch.clause}\"")
            if ch.not_stated:
                out.append(f"              (the law states no value of {ch.not_stated} for the date: this value "
                           "meets every one it could take)")
    if len(w.candidates) > most:
        out.append(f"    ({len(w.candidates) - most} other candidate line(s) need more changes; "
                   "--format json lists them)")
    return "\n".join(out)
