"""Two rule sets over one catalog: every product whose outcome, line or credit changes, and why: the
rules whose result moved and the clauses whose verdict changed, read from the two typed decision
records; with a sales ledger, the credit at stake, each sale computed under both rule sets."""

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


class ClauseMove(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A clause whose verdict differs between the two decisions, as each record holds it (with its
    actual value and threshold); None: that side did not evaluate it (the rule is not in force there,
    not in that rule set, or its conditions were rewritten)."""

    path: str
    fact: str
    op: str
    clause: str
    old: R.Clause | None
    new: R.Clause | None


class RuleMove(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rule whose result or some clause's verdict differs for one product (result None: the rule
    was not considered on that side)."""

    rule: str
    line: str
    label: str
    old: R.RuleResultWord | None
    new: R.RuleResultWord | None
    clauses: tuple[ClauseMove, ...] = ()


@dataclass
class Change:
    product: str
    what: tuple[str, ...]
    old: Side
    new: Side
    moves: tuple[RuleMove, ...] = ()  # the explanation diff: rule by rule, clause by clause


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


def _side(ruleset: RuleSet, decider: Decider, row: Row,
          as_of: dt.date | None) -> tuple[Side, R.Decision] | R.ErrorRecord:
    record = decide_row(row, decider, as_of)
    if isinstance(record, R.ErrorRecord):
        return record
    dates = record.dates
    when = When(dates.sale, dates.production, dates.taxable_year_begins)
    return Side(record.outcome, record.line, record.decided_by, record.reason,
                unit_credit(ruleset, record, row, when)), record


def _clause_key(c: R.Clause) -> tuple[str, str, str]:
    return c.path, c.fact, c.op


def _verdicts_moved(a: R.Considered, b: R.Considered) -> tuple[ClauseMove, ...]:
    """The clauses of one rule, matched by place, fact and operator, whose verdict differs (or that
    one side alone evaluated)."""
    was = {_clause_key(c): c for c in a.clauses}
    now = {_clause_key(c): c for c in b.clauses}
    out = []
    for key in [*now, *(k for k in was if k not in now)]:
        x, y = was.get(key), now.get(key)
        if x is None or y is None or x.verdict != y.verdict:
            out.append(ClauseMove(*key, (y or x).clause, x, y))  # type: ignore[union-attr]
    return tuple(out)


def moves(old: R.Decision, new: R.Decision) -> tuple[RuleMove, ...]:
    """The rules whose result differs between two decisions on one product, or that hold a clause
    whose verdict differs, in the order the new record considers them (those only the old considers
    after). Of a rule considered on one side only, the clauses that gave it its result are listed; of
    a rule one side did not reach (an earlier stage decided), none: it evaluated no clause there."""
    before = {c.rule: c for c in old.considered}
    after = {c.rule: c for c in new.considered}
    out = []
    for rid in [*after, *(r for r in before if r not in after)]:
        a, b = before.get(rid), after.get(rid)
        if a is None or b is None:
            shown = a or b
            assert shown is not None
            clauses = tuple(ClauseMove(c.path, c.fact, c.op, c.clause, c if a else None, c if b else None)
                            for c in shown.decisive())
        else:
            reached = "not_reached" not in (a.result, b.result)
            clauses = _verdicts_moved(a, b) if reached else ()
            if a.result == b.result and not clauses:
                continue
        shown = b or a
        assert shown is not None
        out.append(RuleMove(rid, shown.line, shown.label or "", a.result if a else None, b.result if b else None,
                            clauses))
    return tuple(out)


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
            one = _side(old, old_decider, row, as_of)
            two = _side(new, new_decider, other, as_of)
            if isinstance(one, R.ErrorRecord) or isinstance(two, R.ErrorRecord):
                failed = one if isinstance(one, R.ErrorRecord) else two
                assert isinstance(failed, R.ErrorRecord)
                report.errors.append(Problem(row.where, failed.error.message, failed.error.fix, failed.error.key))
                continue
            (a, was), (b, now) = one, two
            report.compared += 1
            what = tuple(name for name, x, y in (("outcome", a.outcome, b.outcome), ("line", a.line, b.line),
                                                 ("credit", a.figure, b.figure)) if x != y)
            if what:
                report.changes.append(Change(row.product, what, a, b, moves(was, now)))
    return report


# ---------------------------------------------------------------------------------------------------
# the credit at stake over a sales ledger

class ProductStake(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One product's credit over the ledger's sales under each rule set (USD, exact, before the
    form's rounding), and the change."""

    product: str
    old: R.Quantity
    new: R.Quantity
    change: R.Quantity


class Stake(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The credit at stake: the change in credit of every product whose credit over the ledger
    differs, the totals, and the sales each side could not count (undetermined, or not computed)."""

    ledger: str
    products: tuple[ProductStake, ...]
    old: R.Quantity
    new: R.Quantity
    change: R.Quantity
    not_counted_old: int = 0
    not_counted_new: int = 0


def _credit_by_product(ruleset: RuleSet, catalogs: list[Path], sales: Path,
                       as_of: dt.date | None) -> tuple[dict[str, Decimal], int]:
    from ampc.credit.compute import compute
    from ampc.credit.ledger import load
    from ampc.credit.model import PRODUCT
    catalog, ledger = load(catalogs, sales, ruleset)
    run = compute(catalog, ledger, ruleset, as_of=as_of)
    out: dict[str, Decimal] = {}
    for sheet in run.worksheets:
        for amount in sheet.amounts:
            product = amount.row.roles[PRODUCT]
            out[product] = out.get(product, Decimal(0)) + amount.credit
    return out, len(run.errors) + sum(len(sheet.pending) for sheet in run.worksheets)


def stake(old: RuleSet, new: RuleSet, catalogs: list[Path], sales: Path, as_of: dt.date | None = None) -> Stake:
    """Every sale of the ledger computed under each rule set (each on its own dates, as `ampc credit`
    computes it, or at `as_of`): the difference in credit, product by product, and in total."""
    from ampc.credit.model import USD
    was, not_old = _credit_by_product(old, catalogs, sales, as_of)
    now, not_new = _credit_by_product(new, catalogs, sales, as_of)
    zero = Decimal(0)
    products = tuple(ProductStake(p, R.quantity(was.get(p, zero), USD), R.quantity(now.get(p, zero), USD),
                                  R.quantity(now.get(p, zero) - was.get(p, zero), USD))
                     for p in [*now, *(p for p in was if p not in now)] if now.get(p, zero) != was.get(p, zero))
    old_total, new_total = sum(was.values(), zero), sum(now.values(), zero)
    return Stake(str(sales), products, R.quantity(old_total, USD), R.quantity(new_total, USD),
                 R.quantity(new_total - old_total, USD), not_old, not_new)
