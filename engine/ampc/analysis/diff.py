"""Two rule sets over one catalog: every product whose outcome, line or credit changes, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec

from ampc.credit.unit import UnitCredit, unit_credit
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.errors import InputError, Problem, did_you_mean
from ampc.io.catalog import Row, read_catalog
from ampc.records import record as R
from ampc.rules.loader import default_root, edition, load_ruleset
from ampc.rules.model import RuleSet, When


def resolve(spec: str) -> tuple[RuleSet, str]:
    """A rule set from an edition name of the bundled rules, a date (the law as enacted by it), or a
    directory holding rules/ and definitions/."""
    path = Path(spec)
    if path.is_dir():
        return load_ruleset(path), f"{spec} (directory)"
    bundled = load_ruleset(default_root())
    name = bundled.edition_named(spec)
    if name:
        ed = bundled.editions[name]
        return (edition(bundled, ed.enacted_by) if ed.enacted_by else bundled), f"{name}: {ed.label}"
    try:
        day = dt.date.fromisoformat(spec)
    except ValueError:
        raise InputError(Problem(spec, "is neither a directory, nor an edition, nor a date"
                                 f"{did_you_mean(spec, bundled.editions)}",
                                 f"use a directory with rules/ and definitions/, an edition "
                                 f"({', '.join(bundled.editions)}), or a date YYYY-MM-DD")) from None
    return edition(bundled, day), f"the bundled rules as enacted by {day}"


class Side(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A product as one rule set decides it: the outcome, the line, the rules that decided, and what
    one unit earns (None: it does not qualify, or not yet)."""

    outcome: R.Outcome
    line: str | None
    decided_by: tuple[str, ...]
    reason: R.Reason
    credit: UnitCredit | None

    @property
    def figure(self) -> Decimal | None:
        """The credit compared: per unit, else the rate after the phase-out; 0 where the product
        earns nothing; None where it is undetermined or cannot be figured."""
        if self.credit is not None:
            return self.credit.figure
        return None if self.outcome == R.UNDETERMINED else Decimal(0)


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


def _side(ruleset: RuleSet, decider: Decider, row: Row, as_of: dt.date | None) -> Side | R.ErrorRecord:
    record = decide_row(row, decider, as_of)
    if isinstance(record, R.ErrorRecord):
        return record
    dates = record.dates
    when = When(dates.sale, dates.production, dates.taxable_year_begins)
    return Side(record.outcome, record.line, record.decided_by, record.reason,
                unit_credit(ruleset, record, row, when))


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
            a = _side(old, old_decider, row, as_of)
            b = _side(new, new_decider, other, as_of)
            if isinstance(a, R.ErrorRecord) or isinstance(b, R.ErrorRecord):
                failed = a if isinstance(a, R.ErrorRecord) else b
                report.errors.append(Problem(row.where, failed.error.message, failed.error.fix, failed.error.key))
                continue
            report.compared += 1
            what = tuple(name for name, x, y in (("outcome", a.outcome, b.outcome), ("line", a.line, b.line),
                                                 ("credit", a.figure, b.figure)) if x != y)
            if what:
                report.changes.append(Change(row.product, what, a, b))
    return report
