"""The credit's typed data: the roles the ledger is read by, the parts of one sale's arithmetic
(rate, phase-out, cap, base), and the worksheet a run fills in. Nothing here formats a number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Any, Literal

import msgspec

from ampc.credit.spool import Joined
from ampc.io.catalog import Row
from ampc.records import record as R
from ampc.rules.model import CreditLine, RuleSet

# ---------------------------------------------------------------------------------------------------
# What the credit reads a ledger column for is its role, declared in definitions/ledger.yaml
# (`role: facility`); a sale's values by role are `Row.roles`. The catalog facts a sale's dates
# override are the facts with roles sale_date and production_date (definitions/facts/).
FACILITY = "facility"  # one worksheet per facility
PRODUCT = "product"  # the product id, as in the catalog
UNITS = "units"  # the number of units sold
SALE_DATE = "sale_date"  # the date of sale
PRODUCTION_DATE = "production_date"  # the date of production
CLAIMED_LINE = "claimed_line"  # the line the sale was booked to
VESSEL_ROLES = {"name": "vessel_name", "purpose": "vessel_purpose",  # Part III, columns 1 to 5
                "official_number": "vessel_number", "status": "vessel_status"}
SALE_FACTS = (SALE_DATE, PRODUCTION_DATE)  # the sale's dates that override the catalog's facts
REQUIRED = ((FACILITY, "name the facility that produced it (one worksheet per facility)"),
            (PRODUCT, "give the product id as in the catalog"),
            (SALE_DATE, "give the date of sale as YYYY-MM-DD"))
# Form 7207 lines:
VESSEL_LINE = "2a"  # Part II line fed by Part III (the vessels' sales prices)
PART_IV_FEEDS = "6a"  # Part II line fed by Part IV line 74 (the minerals' costs)


def amount_columns(ruleset: RuleSet) -> list[str]:
    """The amounts a sale gives (costs, sales price, a turbine's capacity): never negative."""
    units = ruleset.column(UNITS)
    return [name for name, col in ruleset.ledger.items() if col.type == "quantity" and name != units]


CENT = Decimal("0.01")
DOLLAR = Decimal("1")
USD = "USD"

KeyedOn = Literal["sale", "production", "taxable_year"]


# Every amount a ledger can give is bounded (definitions/ledger.yaml and the facts' ranges), but a
# total over many rows is not: rounding to the cent keeps every digit of the whole dollars.
_WIDE = Context(prec=100, Emax=MAX_EMAX, Emin=MIN_EMIN)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)


def dollars(value: Decimal) -> Decimal:
    return value.quantize(DOLLAR, rounding=ROUND_HALF_UP, context=_WIDE)


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


# ---------------------------------------------------------------------------------------------------
# the parts of one sale's arithmetic

class Rate(_Frozen):
    """Column (c): the rate, the parameter it is read from, and the date its value is in force from."""

    param: str
    value: R.Quantity  # 0.04 USD/W; 10 percent (of the base in USD)
    since: dt.date


class PhaseOutShare(_Frozen):
    """The phase-out applied: the percentage parameter, its value, and the date it is read at (the
    sale's, the production's or the taxable year's, as the parameter is keyed)."""

    param: str
    percent: Decimal
    keyed_on: KeyedOn
    date: dt.date
    since: dt.date  # the date that percentage is in force from


class Cap(_Frozen):
    """A cap on the per-unit value counted, where it binds: the ratio parameter times another fact of
    the product is less than its rated value (a battery's capacity-to-power ratio, 45X(b)(4)); or,
    where the product gives its own ratio instead of that fact, that ratio is above the parameter."""

    fact: str  # the fact capped (rated_capacity)
    rated: R.Quantity  # the product's value of it
    counted: R.Quantity  # the cap: ratio x other (from_ratio: rated x ratio / other), in the fact's unit
    ratio_param: str
    ratio: R.Quantity
    ratio_since: dt.date
    other_fact: str  # max_discharge (from_ratio: capacity_to_power_ratio)
    other: R.Quantity
    cite: str = ""  # the ratio parameter's reference to the Code, from its YAML
    from_ratio: bool = False  # other is the product's ratio of rated to the cap's fact, given instead of it


BaseHow = Literal["column", "units_times_column", "units_times_fact"]


class Base(_Frozen):
    """One sale's column (d) amount and how it is figured: an amount the sale gives (costs, a vessel's
    sales price), or the units sold times a value per unit that the sale gives (the turbine's rated
    capacity) or the product has (its capacity, area or mass, capped where the law caps it)."""

    how: BaseHow
    source: str  # the ledger column or the product's fact read
    amount: R.Quantity  # this sale's column (d) amount
    units: Decimal | None = None  # the units sold (not for a "column" base)
    per_unit: R.Quantity | None = None  # the value counted per unit (the cap's, where it binds)
    cap: Cap | None = None


class Claimed(_Frozen):
    """The sale was booked to another line than the one its product meets; it is entered on the line met."""

    claimed: str
    met: str


# ---------------------------------------------------------------------------------------------------
# the computation: typed, holding the ledger rows and the decision records

@dataclass(frozen=True)
class Amount:
    """One qualifying sale's contribution to one line, with the parts of its arithmetic."""

    row: Row
    record: R.Decision
    line: str
    base: Base
    rate: Rate
    before_phase_out: Decimal  # USD, exact: column (c) x this sale's column (d)
    phase_out: PhaseOutShare | None  # None where no phase-out schedule applies
    credit: Decimal  # USD, exact
    claimed: Claimed | None = None
    review: str = ""  # the open reading (an interpretation id) that this amount turns on


@dataclass
class LineTotal:
    """A line's sales (`amounts`, in ledger order) and its running sums: column (d), the exact
    column (e), the phase-outs applied. Sales are added with `add`."""

    credit: CreditLine
    amounts: Sequence[Amount] = field(default_factory=list)  # a list, or the run's spooled Detail
    aggregate: Decimal = Decimal(0)  # column (d): the bases added in ledger order, exact
    total: Decimal = Decimal(0)  # column (e): the credits added in ledger order, exact
    first: Amount | None = None  # the line's first sale: the unit of column (d), the rate of column (c)
    _phases: set[Decimal] = field(default_factory=set)

    def add(self, amount: Amount) -> None:
        self.amounts.append(amount)  # type: ignore[attr-defined]
        self.aggregate += amount.base.amount.value
        self.total += amount.credit
        if self.first is None:
            self.first = amount
        if amount.phase_out and amount.phase_out.percent != 100:
            self._phases.add(amount.phase_out.percent)

    @property
    def unit(self) -> str:
        return self.first.base.amount.unit if self.first else ""

    @property
    def phase_outs(self) -> list[Decimal]:
        """The percentages other than 100 applied on this line, in order."""
        return sorted(self._phases)


@dataclass(frozen=True)
class Rejected:
    """A sale whose product does not qualify (or not yet): its record, and the base it would have
    carried on the line its product meets, if it meets one and the base can be figured."""

    row: Row
    record: R.Decision
    base: R.Quantity | None = None

    @property
    def outcome(self) -> str:
        return self.record.outcome


class TaxYear(_Frozen):
    """A taxable year: its first and last day (a calendar year, or a fiscal year)."""

    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def calendar(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
            and self.start.year == self.end.year

    @classmethod
    def parse(cls, text: str, last_month: int | None = None) -> TaxYear:
        """'2025' (the calendar year, or with last_month the fiscal year beginning in 2025), or a
        taxable year's first and last day, '2025-07-01..2026-06-30' (at most 53 weeks); ValueError
        with the fix otherwise."""
        text = text.strip()
        if text.isdigit() and len(text) == 4:
            return cls.beginning_in(int(text), last_month or 12)
        first, sep, last = text.partition("..")
        try:
            start, end = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
        except ValueError:
            start = end = None
        if not sep or start is None or end is None or not (start < end <= start + dt.timedelta(days=371)):
            raise ValueError(f"'{text}' is neither a year nor a taxable year's first and last day (fix: write "
                             "2025, or 2025-07-01..2026-06-30: at most 53 weeks, the last day after the first)")
        if last_month and end.month != last_month:
            raise ValueError(f"ends in month {end.month} but --year-end says {last_month} (fix: give one of "
                             "them, or make them agree)")
        return cls(start, end)

    @classmethod
    def of(cls, day: dt.date, last_month: int = 12) -> TaxYear:
        """The taxable year that ends with `last_month` and holds the day (12: the calendar year)."""
        end_year = day.year if day.month <= last_month else day.year + 1
        return cls.ending(end_year, last_month)

    @classmethod
    def beginning_in(cls, year: int, last_month: int = 12) -> TaxYear:
        """The taxable year that begins in `year` (as the IRS names a fiscal year), ending with last_month."""
        return cls.ending(year if last_month == 12 else year + 1, last_month)

    @classmethod
    def ending(cls, end_year: int, last_month: int) -> TaxYear:
        end = dt.date(end_year + (last_month == 12), 1 if last_month == 12 else last_month + 1, 1) - dt.timedelta(1)
        start = dt.date(end_year - (last_month != 12), (last_month % 12) + 1, 1)
        return cls(start, end)


class Stake(_Frozen):
    """What an undetermined sale would carry on a line it may meet: the base and the credit (USD,
    exact, after the phase-out), where they can be figured (None where they cannot)."""

    line: str
    base: R.Quantity | None = None
    credit: Decimal | None = None


@dataclass(frozen=True)
class Pending:
    """A sale whose product is undetermined: not on the form until the facts that would settle it
    are given; its record names them, and `at_stake` what it would earn on each line it may meet."""

    row: Row
    record: R.Decision
    at_stake: tuple[Stake, ...] = ()


class RejectedTotal(_Frozen):
    """The rejected sales of a worksheet whose products meet one line (or none), and the base they hold."""

    line: str | None  # None: their products meet no line
    sales: int
    bases: tuple[R.Quantity, ...] = ()  # one per unit


@dataclass
class Worksheet:
    """One facility's taxable year: its lines, its rejected and undetermined sales (in ledger order),
    and the running sums the form reads of them. Sales are added with `add`, `reject` and `defer`."""

    facility: str
    tax_year: TaxYear | None
    lines: dict[str, LineTotal] = field(default_factory=dict)
    rejected: Sequence[Rejected] = field(default_factory=list)  # a list, or the run's spooled Detail
    pending: Sequence[Pending] = field(default_factory=list)  # undetermined sales, listed apart
    part_iv_fact: str = ""  # the fact with role part_iv_line: the Part IV line a mineral's costs go on
    part_i: Any = None  # ampc.credit.filer.Facility: Part I from the facilities file (None: not given)
    allocated_to_beneficiaries: Decimal | None = None  # line 8b of an estate or trust (None: other filers)
    editions: set[str] = field(default_factory=set)  # the editions of the law that decided its sales
    at_stake: Decimal = Decimal(0)  # the most the undetermined sales would add (worksheet.pending_total)
    _part_iv: dict[str, Decimal] = field(default_factory=dict)  # costs by Part IV line, in ledger order
    _rejected: dict[str | None, tuple[int, dict[str, Decimal]]] = field(default_factory=dict)

    def add(self, total: LineTotal, amount: Amount) -> None:
        """A qualifying sale, on its line; a mineral's costs also on the Part IV line its decision concludes."""
        total.add(amount)
        self._decided(amount.record)
        if amount.line == PART_IV_FEEDS:
            value = amount.record.derived.get(self.part_iv_fact)
            key = value.value if isinstance(value, R.Text) else "?"
            self._part_iv[key] = self._part_iv.get(key, Decimal(0)) + amount.base.amount.value

    def reject(self, rejected: Rejected) -> None:
        self.rejected.append(rejected)  # type: ignore[attr-defined]
        self._decided(rejected.record)
        count, bases = self._rejected.get(rejected.record.classified_line, (0, {}))
        if rejected.base is not None:
            bases[rejected.base.unit] = bases.get(rejected.base.unit, Decimal(0)) + rejected.base.value
        self._rejected[rejected.record.classified_line] = (count + 1, bases)

    def defer(self, pending: Pending) -> None:
        """An undetermined sale: at stake, the credit of the line it may meet that earns most."""
        self.pending.append(pending)  # type: ignore[attr-defined]
        self._decided(pending.record)
        self.at_stake += max((s.credit for s in pending.at_stake if s.credit is not None), default=Decimal(0))

    def _decided(self, record: R.Decision) -> None:
        if record.ruleset.edition:
            self.editions.add(record.ruleset.edition)

    @property
    def amounts(self) -> Sequence[Amount]:
        """Every qualifying sale, line after line."""
        return Joined(total.amounts for total in self.lines.values())

    @property
    def vessels(self) -> Sequence[Amount]:
        return self.lines[VESSEL_LINE].amounts if VESSEL_LINE in self.lines else []

    def part_iv(self) -> dict[str, Decimal]:
        """Part IV: costs per line 1 to 73 (the line each mineral's decision concludes)."""
        return dict(sorted(self._part_iv.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 999))

    def rejected_totals(self) -> list[RejectedTotal]:
        """How many rejected sales, and the base they held, by the line their product meets."""
        return [RejectedTotal(line, count, tuple(R.quantity(v, u) for u, v in bases.items()))
                for line, (count, bases) in sorted(self._rejected.items(), key=lambda x: (x[0] is None, x[0] or ""))]

    @property
    def total(self) -> Decimal:
        return sum((t.total for t in self.lines.values()), Decimal(0))


@dataclass
class CreditRun:
    worksheets: list[Worksheet]
    errors: Sequence[R.Problem]  # in ledger order (a list, or the run's spooled Detail)
    outside_year: Sequence[Row]
    tax_year: TaxYear | None
    ruleset: R.RuleSetId
    as_of: dt.date | None = None  # the date the law was read at for every sale (--as-of), if given
    facilities_given: bool = False  # a facilities file was given (--facilities)
    facilities_not_in_ledger: tuple[str, ...] = ()  # in the facilities file, named by no sale
    rows: int = 0  # ledger rows read: counted + rejected + undetermined + outside the year + errors
