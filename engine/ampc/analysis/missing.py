"""Triage of missing facts over a catalog (`ampc classify --missing`): which facts, if supplied,
would settle the most undetermined products, the sets of facts products need together, and, with a
sales ledger, the credit at stake. Fed each record as classify writes it, in input order: memory
grows with the distinct facts and fact sets seen (and the rows read ahead of their records), not
with the products; with a ledger, the ledger's sales are held, by product."""

from __future__ import annotations

import csv
import textwrap
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from decimal import Decimal, localcontext
from pathlib import Path

import msgspec
from tabulate import tabulate

from ampc.credit.compute import PRECISION, Calculator
from ampc.credit.ledger import iter_ledger
from ampc.credit.model import PRODUCT, REQUIRED, UNITS, cents, dollars
from ampc.credit.sheet import Money
from ampc.credit.worksheet import money
from ampc.decide.decider import Decider
from ampc.errors import InputError, Problem
from ampc.io.catalog import Row
from ampc.io.columns import Columns
from ampc.records import record as R
from ampc.rules.model import Cmp, Cond, Not, RuleSet

EXAMPLES = 3  # product ids kept per fact and per set, the first in catalog order
SETS_SHOWN = 10  # fact sets in the table; the JSON and CSV hold every one
FORMATS = {".json": "json", ".csv": "csv"}


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class LineCount(_Frozen):
    line: str
    products: int  # products of the group that may meet the line (one may meet several)


class AtStake(_Frozen):
    """The credit a group's sales in the ledger would earn if its products qualified: each product on
    each line it may meet, at each sale's rate and phase-out. `low` sums each product's smallest line,
    `high` its largest (equal where every product may meet one line). `unfigured`: sold products whose
    credit cannot be figured (the base needs a fact not given, no line is known, no amount is encoded);
    they are in neither sum, which are None where no sold product's credit can be figured."""

    sold: int  # products of the group with sales in the ledger
    sales: int  # the ledger rows of those products
    low: Money | None
    high: Money | None
    unfigured: int = 0


class Group(_Frozen):
    """Undetermined products counted together, their possible lines, examples and credit at stake."""

    products: int
    # of those, products whose record stops before a stage that reads a fact the row does not give
    # (or whose kind is not given): once the facts missing are supplied, that stage may ask for more
    may_need_more: int = 0
    lines: tuple[LineCount, ...] = ()
    no_line: int = 0  # products with no possible line yet (the kind of component not given, ...)
    examples: tuple[str, ...] = ()
    credit: AtStake | None = None  # None: no ledger given


class FactCount(_Frozen):
    """One missing fact. `listed`: the undetermined products that list it among their missing facts;
    `alone`: those for which it is the only one, which supplying it settles (qualified or rejected),
    save `alone.may_need_more` of them, whose later stages may then ask for a fact of their own."""

    fact: str
    label: str
    unit: str
    listed: Group
    alone: Group


class FactSet(_Frozen):
    """Two or more facts that products are missing together: each needs all of them to be settled."""

    facts: tuple[str, ...]
    need: Group


class LedgerUse(_Frozen):
    file: str
    sales: int  # rows read
    skipped: int  # rows not used: unreadable, or without a product, facility, date or whole units


class Triage(_Frozen):
    """The triage of a classify run. Each undetermined product is in exactly one of: some fact's
    `alone`, one `sets` entry, or `without_missing`."""

    records: int
    errors: int
    undetermined: int
    without_missing: int  # undetermined products listing no missing fact (a threshold not stated on the date)
    facts: tuple[FactCount, ...]  # ranked: most settled alone, then most listed, then by name
    sets: tuple[FactSet, ...]  # ranked: most products, then fewest facts, then by name
    ledger: LedgerUse | None = None


# ---------------------------------------------------------------------------------------------------
# the sales ledger, by product

class Sales:
    """The ledger `ampc credit` reads, held by product, and what a product's sales would earn on the
    lines it may meet (as the credit figures an undetermined sale: Calculator.at_stake)."""

    def __init__(self, path: Path, ruleset: RuleSet, as_of=None, columns: Columns | None = None):
        if not ruleset.ledger:
            raise InputError(Problem("definitions/ledger.yaml", "no ledger vocabulary",
                                     "restore definitions/ledger.yaml"))
        self.path, self.read, self.skipped = path, 0, 0
        self.by_product: dict[str, list[Row]] = {}
        for sale in iter_ledger(path, ruleset, columns):
            self.read += 1
            if not _usable(sale):
                self.skipped += 1
                continue
            sale.raw, sale.units = {}, {}  # the credit reads a sale's facts and roles only
            self.by_product.setdefault(sale.roles[PRODUCT], []).append(sale)
        self.calc = Calculator(ruleset, Decider(ruleset), as_of)

    def stake(self, product: Row, record: R.Decision) -> tuple[int, Decimal | None, Decimal | None] | None:
        """(sales, smallest, largest) over the product's possible lines; None where it has no sale;
        the amounts None where a line cannot be figured. Exact in a context of PRECISION digits."""
        sales = self.by_product.get(record.product)
        if not sales:
            return None
        totals: dict[str, Decimal | None] = {}
        for sale in sales:
            for s in self.calc.at_stake(product, sale, record, self.calc.when(product, sale)):
                before = totals.get(s.line, Decimal(0))
                totals[s.line] = None if s.credit is None or before is None else before + s.credit
        if not totals or None in totals.values():
            return len(sales), None, None
        figured = [v for v in totals.values() if v is not None]
        return len(sales), min(figured), max(figured)


def _usable(sale: Row) -> bool:
    """A sale the credit would compute: readable, with its product, facility and date, whole units."""
    if sale.problem is not None or any(sale.roles.get(role) is None for role, _ in REQUIRED):
        return False
    units = sale.roles.get(UNITS)
    return units is None or (units >= 0 and units == units.to_integral_value())


# ---------------------------------------------------------------------------------------------------
# the accumulator

class _Tally:
    __slots__ = ("products", "more", "lines", "no_line", "examples", "sold", "sales", "unfigured", "low", "high")

    def __init__(self) -> None:
        self.products = self.more = self.no_line = self.sold = self.sales = self.unfigured = 0
        self.lines: Counter[str] = Counter()
        self.examples: list[str] = []
        self.low = self.high = Decimal(0)

    def add(self, product: str, lines: tuple[str, ...], more: bool, stake) -> None:
        self.products += 1
        self.more += more
        self.lines.update(lines)
        self.no_line += not lines
        if len(self.examples) < EXAMPLES:
            self.examples.append(product)
        if stake is not None:
            sales, low, high = stake
            self.sold += 1
            self.sales += sales
            if low is None:
                self.unfigured += 1
            else:
                self.low += low
                self.high += high

    def group(self, order: dict[str, int], ledger: bool) -> Group:
        lines = tuple(LineCount(line, n) for line, n in sorted(self.lines.items(),
                                                              key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
        figured = self.sold > self.unfigured or not self.sold  # nothing sold: nothing at stake, $0
        credit = AtStake(self.sold, self.sales, _money(self.low) if figured else None,
                         _money(self.high) if figured else None, self.unfigured) if ledger else None
        return Group(self.products, self.more, lines, self.no_line, tuple(self.examples), credit)


def _money(value: Decimal) -> Money:
    return Money(R.plain_decimal(value), cents(value), dollars(value))


class Accumulator:
    """Counts per missing fact and per set of missing facts, fed one record at a time in input order.
    `watch` the catalog's rows as they are read: each record's row is kept until the record comes."""

    def __init__(self, ruleset: RuleSet, sales: Sales | None = None):
        self.ruleset, self.sales = ruleset, sales
        self.records = self.errors = self.undetermined = self.without_missing = 0
        self.listed: dict[str, _Tally] = {}
        self.alone: dict[str, _Tally] = {}
        self.sets: dict[tuple[str, ...], _Tally] = {}
        self._rows: deque[Row] = deque()  # the rows read ahead of their records (a bounded window)
        self._reads: dict[str, tuple[str, ...]] = {}  # rule id -> the facts a catalog gives that it reads

    def watch(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows, unchanged, each kept until its record is added."""
        for row in rows:
            self._rows.append(row)
            yield row

    def add(self, record: R.Record) -> None:
        self.records += 1
        row = self._rows.popleft() if self._rows else None
        if isinstance(record, R.ErrorRecord):
            self.errors += 1
            return
        if record.outcome != R.UNDETERMINED:
            return
        self.undetermined += 1
        missing = tuple(sorted(set(record.missing)))
        if not missing:
            self.without_missing += 1
            return
        lines = record.possible_lines or ((record.classified_line,) if record.classified_line else ())
        lines = tuple(dict.fromkeys(lines))
        more = self._may_need_more(record, row)
        with localcontext() as ctx:  # the credit's digits: every sum exact
            ctx.prec = PRECISION
            stake = self.sales.stake(row, record) if self.sales is not None and row is not None else None
            for fact in missing:
                self.listed.setdefault(fact, _Tally()).add(record.product, lines, more, stake)
            tally = self.alone.setdefault(missing[0], _Tally()) if len(missing) == 1 else \
                self.sets.setdefault(missing, _Tally())
            tally.add(record.product, lines, more, stake)

    def _may_need_more(self, record: R.Decision, row: Row | None) -> bool:
        """Whether a stage the record did not reach reads a fact the row does not give (the record
        lists only the facts missing at the stage it stopped at); a product of unknown kind may."""
        if record.reason.kind == "kind_not_given":
            return True
        for considered in record.considered:
            if considered.result == "not_reached":
                reads = self._reads.get(considered.rule)
                if reads is None:
                    reads = self._reads[considered.rule] = self._facts_read(self.ruleset.rule(considered.rule).when)
                if row is None or any(row.facts.get(f) is None for f in reads):
                    return True
        return False

    def _facts_read(self, cond: Cond) -> tuple[str, ...]:
        """The facts a condition reads that a catalog gives (those the rules conclude left out)."""
        if isinstance(cond, Cmp):
            fact = self.ruleset.facts.get(cond.fact)
            return () if fact is None or fact.derived else (cond.fact,)
        children = (cond.item,) if isinstance(cond, Not) else cond.items
        return tuple(dict.fromkeys(f for child in children for f in self._facts_read(child)))

    def result(self) -> Triage:
        order = {line: i for i, line in enumerate(self.ruleset.line_order())}
        ledger = self.sales is not None
        facts = []
        for name, tally in self.listed.items():
            fact = self.ruleset.facts.get(name)
            facts.append(FactCount(name, fact.label if fact else "", fact.unit if fact else "",
                                   tally.group(order, ledger), self.alone.get(name, _Tally()).group(order, ledger)))
        facts.sort(key=lambda f: (-f.alone.products, -f.listed.products, f.fact))
        sets = sorted((FactSet(k, t.group(order, ledger)) for k, t in self.sets.items()),
                      key=lambda s: (-s.need.products, len(s.facts), s.facts))
        use = LedgerUse(str(self.sales.path), self.sales.read, self.sales.skipped) if self.sales else None
        return Triage(self.records, self.errors, self.undetermined, self.without_missing, tuple(facts),
                      tuple(sets), use)


# ---------------------------------------------------------------------------------------------------
# renderers: a table for the terminal, JSON and CSV for a file

def _lines(group: Group) -> str:
    parts = [f"{c.line}: {c.products}" for c in group.lines]
    return ", ".join(parts + ([f"none yet: {group.no_line}"] if group.no_line else []))


def _examples(group: Group) -> str:
    return ", ".join(group.examples) + (", ..." if group.products > len(group.examples) else "")


def _credit(group: Group) -> str:
    stake = group.credit
    if stake is None or not group.products:
        return ""
    if stake.sold == 0:
        return "none sold"
    if stake.low is None or stake.high is None:
        return f"not figured ({stake.sold} sold)"
    low, high = money(stake.low.exact), money(stake.high.exact)
    amount = low if low == high else f"{low} .. {high}"
    return amount + (f" + {stake.unfigured} not figured" if stake.unfigured else "")


NOTES = (
    "settled alone: undetermined products whose only missing fact is this one; supplying it decides them "
    "(qualified or rejected), save those counted under 'may need more'. listed: every undetermined product "
    "missing it, alone or with other facts; one missing several counts under each fact's 'listed', under no "
    "'settled alone', and under its set of facts above.",
    "may need more: of those, products whose record stops before a later stage (the line, the qualification "
    "requirements) that reads a fact the catalog does not give either: once the missing facts are supplied, "
    "that stage may ask for it.",
)
CREDIT_NOTE = ("credit at stake: what the products' sales in the ledger would earn if they qualified, on each "
               "line they may meet, at each sale's rate and phase-out, as `ampc credit` figures it; a .. b where "
               "their lines' credits differ. not figured: sold products whose amount needs a fact not given or a "
               "line not known yet.")


def text(triage: Triage, width: int = 100) -> str:
    """The triage as a person reads it on the terminal: the facts, the fact sets, what the counts mean."""
    head = (f"missing facts: {triage.undetermined:,} undetermined of {triage.records:,} records"
            + (f" ({triage.errors:,} errors)" if triage.errors else ""))
    if not triage.undetermined:
        return head + ": no undetermined product, no missing fact to supply\n"
    ledger = triage.ledger is not None
    out = [head + (f"; credit at stake from {triage.ledger.file}" if triage.ledger else "")]
    if triage.facts:
        rows = [[f.fact, f.label + (f" [{f.unit}]" if f.unit else ""), f.alone.products, f.alone.may_need_more,
                 f.listed.products, _lines(f.listed), _examples(f.listed)] + ([_credit(f.alone)] if ledger else [])
                for f in triage.facts]
        out += ["", tabulate(rows, ["fact", "label [unit]", "settled alone", "may need more", "listed",
                                    "lines (listed)", "examples (listed)"]
                             + (["credit at stake (settled alone)"] if ledger else []),
                             colalign=("left", "left", *["right"] * 3, "left", "left", "right")[:7 + ledger])]
    if triage.sets:
        rows = [[" + ".join(s.facts), s.need.products, s.need.may_need_more, _lines(s.need), _examples(s.need)]
                + ([_credit(s.need)] if ledger else []) for s in triage.sets[:SETS_SHOWN]]
        out += ["", "products missing several facts, settled only by supplying them all:",
                tabulate(rows, ["facts needed together", "products", "may need more", "lines", "examples"]
                         + (["credit at stake"] if ledger else []),
                         colalign=("left", "right", "right", "left", "left", "right")[:5 + ledger])]
        if len(triage.sets) > SETS_SHOWN:
            out.append(f"and {len(triage.sets) - SETS_SHOWN} more sets (all in --missing-out FILE)")
    notes = list(NOTES)
    if triage.without_missing:
        notes.append(f"{triage.without_missing:,} undetermined products list no missing fact: they turn on a "
                     "threshold the law does not state on their date (their records name it).")
    if triage.ledger:
        skipped = triage.ledger.skipped
        notes.append(CREDIT_NOTE + f" {triage.ledger.sales:,} sales read"
                     + (f", {skipped:,} not usable (`ampc credit` lists why)." if skipped else "."))
    out += [""] + [textwrap.fill(note, width) for note in notes]
    return "\n".join(out) + "\n"


CSV_COLUMNS = ("kind", "facts", "label", "unit", "products", "may_need_more", "lines", "no_line", "examples", "sold",
               "sales", "credit_low_usd", "credit_high_usd", "unfigured")


def csv_rows(triage: Triage) -> Iterator[list[str]]:
    """One row per group: each fact's 'alone' and 'listed', then each set ('set'); amounts to the cent."""
    def row(kind: str, facts: str, label: str, unit: str, g: Group) -> list[str]:
        c = g.credit
        money_cells = [""] * 5 if c is None else [
            str(c.sold), str(c.sales), str(c.low.cents) if c.low else "", str(c.high.cents) if c.high else "",
            str(c.unfigured)]
        lines = "; ".join(f"{x.line}: {x.products}" for x in g.lines)
        return [kind, facts, label, unit, str(g.products), str(g.may_need_more), lines, str(g.no_line),
                " ".join(g.examples), *money_cells]
    yield list(CSV_COLUMNS)
    for f in triage.facts:
        yield row("alone", f.fact, f.label, f.unit, f.alone)
        yield row("listed", f.fact, f.label, f.unit, f.listed)
    for s in triage.sets:
        yield row("set", " ".join(s.facts), "", "", s.need)


def open_out(path: Path):
    """The --missing-out file opened, and its format from its extension, before anything is decided
    (raises ValueError for an extension that names neither, InputError naming the fix)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"--missing-out {path}: name a .json or a .csv file")
    try:
        return path.open("w", encoding="utf-8", newline=""), fmt
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot be written: {exc.strerror or exc}",
                                 "give --missing-out a file in a directory that exists and can be written")) from None


def write(triage: Triage, handle, fmt: str) -> None:
    """The triage to an open file: JSON (the Triage struct, indented) or CSV (csv_rows)."""
    if fmt == "json":
        handle.write(msgspec.json.format(R.encode(triage), indent=2).decode() + "\n")
    else:
        csv.writer(handle, lineterminator="\n").writerows(csv_rows(triage))
