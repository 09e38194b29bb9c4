"""Two rule sets over one catalog: every product whose outcome, line or credit changes, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Row, read_catalog
from .credit import unit_credit
from .decide import Decider
from .errors import AmpcError, InputError, Problem, did_you_mean
from .loader import default_root, edition, load_ruleset
from .model import RuleSet
from .record import Decision
from .run import as_of_for


def resolve(spec: str) -> tuple[RuleSet, str]:
    """A rule set from an edition name of the bundled rules, a date (the law as enacted by it), or a
    directory holding rules/ and definitions/."""
    path = Path(spec)
    if path.is_dir():
        return load_ruleset(path), f"{spec} (directory)"
    bundled = load_ruleset(default_root())
    if spec in bundled.editions:
        label, day = bundled.editions[spec]
        return (edition(bundled, day) if day else bundled), f"{spec}: {label}"
    try:
        day = dt.date.fromisoformat(spec)
    except ValueError:
        raise InputError(Problem(spec, "is neither a directory, nor an edition, nor a date"
                                 f"{did_you_mean(spec, bundled.editions)}",
                                 f"use a directory with rules/ and definitions/, an edition "
                                 f"({', '.join(bundled.editions)}), or a date YYYY-MM-DD")) from None
    return edition(bundled, day), f"the bundled rules as enacted by {day}"


@dataclass
class Side:
    outcome: str
    line: str | None
    credit: Any
    credit_text: str
    decided_by: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "line": self.line, "credit": None if self.credit is None else str(self.credit),
                "credit_text": self.credit_text, "decided_by": list(self.decided_by), "reason": self.reason}


@dataclass
class Change:
    product: str
    what: tuple[str, ...]
    old: Side
    new: Side


@dataclass
class DiffReport:
    old_label: str
    new_label: str
    compared: int
    changes: list[Change] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {"compared": self.compared, "changed": len(self.changes)}
        for change in self.changes:
            for what in change.what:
                counts[what] = counts.get(what, 0) + 1
        return counts


def _side(ruleset: RuleSet, decider: Decider, row: Row, as_of: dt.date | None) -> Side:
    date = as_of_for(row, as_of)
    when = decider.when_for(row.facts, date)
    decision: Decision = decider.decide(row.product, row.facts, when, row.description, row.number)
    credit, text = unit_credit(ruleset, decision, row.facts, when)
    return Side(decision.outcome, decision.line, credit, text, decision.decided_by, decision.reason)


def diff(old: RuleSet, new: RuleSet, catalogs: list[Path], as_of: dt.date | None = None,
         labels: tuple[str, str] = ("old", "new")) -> DiffReport:
    old_rows = [r for c in catalogs for r in read_catalog(c, old)]
    new_rows = {r.product: r for c in catalogs for r in read_catalog(c, new)}
    report = DiffReport(labels[0], labels[1], 0)
    with Decider(old) as old_decider, Decider(new) as new_decider:
        for row in old_rows:
            other = new_rows.get(row.product)
            problem = row.problem or (other.problem if other else None)
            if problem or other is None:
                report.errors.append(problem or Problem(row.where, "not readable under the new rules", ""))
                continue
            try:
                a = _side(old, old_decider, row, as_of)
                b = _side(new, new_decider, other, as_of)
            except AmpcError as exc:
                report.errors.append(Problem(row.where, str(exc), "see the message"))
                continue
            report.compared += 1
            what = tuple(name for name, x, y in (("outcome", a.outcome, b.outcome), ("line", a.line, b.line),
                                                 ("credit", a.credit, b.credit)) if x != y)
            if what:
                report.changes.append(Change(row.product, what, a, b))
    return report
