"""The credit: a year's sales, decided product by product, summed into Form 7207 lines, exactly.

Column (d) of each line adds up the base of every qualifying sale (units x capacity, area or mass
per unit; units x the turbine's rated capacity; the vessel's sales price; the costs incurred).
Column (e) is column (c) x column (d), times the phase-out percentage of the sale's year. Money
is exact decimal arithmetic; it is rounded only for display: cents half up, and whole dollars half
up on each line and on the total of the exact amounts (not the sum of rounded lines).

Everything here is typed data: an amount holds the parts of its arithmetic (units, the per-unit
base, the cap where it applies, the rate and the phase-out with the parameters and dates they were
read at), a rejected sale holds its decision record. Nothing here writes a sentence or formats a
number: engine/worksheet.py renders the worksheet, and its JSON form is `WorksheetReport` below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.io.catalog import Row, column_problem, normalize, read_rows
from ampc.records import record as R
from ampc.rules.model import CreditLine, RuleSet, When
from ampc.rules.units import registry

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


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(value: Decimal) -> Decimal:
    return value.quantize(DOLLAR, rounding=ROUND_HALF_UP)


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
    the product is less than its rated value (a battery's capacity-to-power ratio, 45X(b)(4))."""

    fact: str  # the fact capped (rated_capacity)
    rated: R.Quantity  # the product's value of it
    counted: R.Quantity  # the cap: ratio x other, in the fact's unit
    ratio_param: str
    ratio: R.Quantity
    ratio_since: dt.date
    other_fact: str  # max_discharge
    other: R.Quantity
    cite: str = ""  # the ratio parameter's reference to the Code, from its YAML


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


@dataclass
class LineTotal:
    credit: CreditLine
    amounts: list[Amount] = field(default_factory=list)

    @property
    def aggregate(self) -> Decimal:
        return sum((a.base.amount.value for a in self.amounts), Decimal(0))

    @property
    def unit(self) -> str:
        return self.amounts[0].base.amount.unit if self.amounts else ""

    @property
    def total(self) -> Decimal:
        return sum((a.credit for a in self.amounts), Decimal(0))

    @property
    def phase_outs(self) -> list[Decimal]:
        """The percentages other than 100 applied on this line, in order."""
        return sorted({a.phase_out.percent for a in self.amounts if a.phase_out and a.phase_out.percent != 100})


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


class RejectedTotal(_Frozen):
    """The rejected sales of a worksheet whose products meet one line (or none), and the base they hold."""

    line: str | None  # None: their products meet no line
    sales: int
    bases: tuple[R.Quantity, ...] = ()  # one per unit


@dataclass
class Worksheet:
    facility: str
    tax_year: int | None
    lines: dict[str, LineTotal] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    part_iv_fact: str = ""  # the fact with role part_iv_line: the Part IV line a mineral's costs go on

    @property
    def amounts(self) -> list[Amount]:
        return [a for total in self.lines.values() for a in total.amounts]

    @property
    def vessels(self) -> list[Amount]:
        return self.lines[VESSEL_LINE].amounts if VESSEL_LINE in self.lines else []

    def part_iv(self) -> dict[str, Decimal]:
        """Part IV: costs per line 1 to 73 (the line each mineral's decision concludes)."""
        out: dict[str, Decimal] = {}
        total = self.lines.get(PART_IV_FEEDS)
        for amount in total.amounts if total else []:
            value = amount.record.derived.get(self.part_iv_fact)
            key = value.value if isinstance(value, R.Text) else "?"
            out[key] = out.get(key, Decimal(0)) + amount.base.amount.value
        return dict(sorted(out.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 999))

    def rejected_totals(self) -> list[RejectedTotal]:
        """How many rejected sales, and the base they held, by the line their product meets."""
        held: dict[str | None, list[Rejected]] = {}
        for r in self.rejected:
            held.setdefault(r.record.classified_line, []).append(r)
        out = []
        for line in sorted(held, key=lambda x: (x is None, x or "")):
            bases: dict[str, Decimal] = {}
            for r in held[line]:
                if r.base is not None:
                    bases[r.base.unit] = bases.get(r.base.unit, Decimal(0)) + r.base.value
            out.append(RejectedTotal(line, len(held[line]), tuple(R.quantity(v, u) for u, v in bases.items())))
        return out

    @property
    def total(self) -> Decimal:
        return sum((t.total for t in self.lines.values()), Decimal(0))


@dataclass
class CreditRun:
    worksheets: list[Worksheet]
    errors: list[R.Problem]
    outside_year: list[Row]
    tax_year: int | None
    ruleset: R.RuleSetId
    as_of: dt.date | None = None  # the date the law was read at for every sale (--as-of), if given


# ---------------------------------------------------------------------------------------------------
# the law's numbers for a line, on the dates of a sale

class _Missing(Exception):
    """A sale whose amount cannot be figured: what is missing and the fix."""

    def __init__(self, message: str, fix: str, key: str = ""):
        super().__init__(message)
        self.message, self.fix, self.key = message, fix, key


def _gap(line: str, silent: R.NotStatedByLaw) -> _Missing:
    return _Missing(f"line {line}: the parameter '{silent.param}' has no value on {silent.date.isoformat()}",
                    "a gap in the rule set: report it")


def rate_of(ruleset: RuleSet, credit: CreditLine, when: When) -> Rate | R.NotStatedByLaw:
    """Column (c) of the line on the sale's dates, or the law's silence on that date."""
    param = ruleset.params[credit.rate]
    entry = param.entry(when)
    if entry is None or entry.value is None:
        return R.NotStatedByLaw(param.id, when.date_for(param.keyed_on))
    return Rate(param.id, R.quantity(entry.value, param.unit), entry.start)


def phase_out_of(ruleset: RuleSet, credit: CreditLine, when: When) -> PhaseOutShare | R.NotStatedByLaw | None:
    """The phase-out percentage the sale's dates fall in, if a schedule applies to them."""
    schedule = next((p for p in credit.phase_out if p.applies(when)), None)
    if schedule is None:
        return None
    param = ruleset.params[schedule.param]
    entry = param.entry(when)
    day = when.date_for(param.keyed_on)
    if entry is None or entry.value is None:
        return R.NotStatedByLaw(param.id, day)
    return PhaseOutShare(param.id, R.plain_decimal(entry.value), param.keyed_on, day, entry.start)  # type: ignore[arg-type]


def _usd(rate: R.Quantity, base: R.Quantity) -> Decimal:
    reg = registry()
    return Decimal((reg.Quantity(rate.value, rate.unit) * reg.Quantity(base.value, base.unit)).to(USD).magnitude)


def _ledger_value(ruleset: RuleSet, credit: CreditLine, sale: dict[str, Any], column: str) -> R.Quantity:
    """A base the sale itself gives (costs, sales price, the turbine's capacity), or why it is missing."""
    value = sale.get(column)
    if value is None:
        raise _Missing(f"line {credit.line} needs the {ruleset.ledger[column].label.lower()} "
                       f"('{column}') of the sale", f"add a '{column}' column with a value for this row", column)
    return R.quantity(value, ruleset.ledger[column].unit)


def figure_base(ruleset: RuleSet, credit: CreditLine, product: Row, sale: dict[str, Any],
                units: Decimal | None, when: When) -> Base:
    """The column (d) amount of a sale of `units` of the product (raises _Missing with the fix)."""
    spec = credit.base
    if "column" in spec:
        return Base("column", spec["column"], _ledger_value(ruleset, credit, sale, spec["column"]))
    if units is None:
        column = ruleset.column(UNITS)
        raise _Missing("the number of units sold is not given", f"add a '{column}' column", column)
    if "units_times_column" in spec:
        per = _ledger_value(ruleset, credit, sale, spec["units_times_column"])
        return Base("units_times_column", spec["units_times_column"], R.quantity(units * per.value, per.unit),
                    units, per)
    fact_name = spec["units_times_fact"]
    fact = ruleset.facts[fact_name]
    value = product.facts.get(fact_name)
    if value is None:
        raise _Missing(f"line {credit.line} multiplies the units sold by the product's {fact.label.lower()} "
                       f"('{fact_name}'), which the catalog does not give for {product.product}",
                       f"add '{fact_name}' to the product in the catalog", fact_name)
    rated = R.quantity(value, fact.unit)
    cap = _cap(ruleset, credit, product, rated, fact_name, when) if spec.get("capped_by") else None
    per = cap.counted if cap else rated
    return Base("units_times_fact", fact_name, R.quantity(units * per.value, per.unit), units, per, cap)


def _cap(ruleset: RuleSet, credit: CreditLine, product: Row, rated: R.Quantity, fact_name: str,
         when: When) -> Cap | None:
    capped = credit.base["capped_by"]
    other_name = capped["fact"]
    other_fact = ruleset.facts[other_name]
    other = product.facts.get(other_name)
    if other is None:
        raise _Missing(f"line {credit.line}: the capacity counted is capped by the "
                       f"{other_fact.label.lower()} ('{other_name}'), which is not given",
                       f"add '{other_name}' to the product in the catalog", other_name)
    param = ruleset.params[capped["ratio"]["param"]]
    entry = param.entry(when)
    if entry is None or entry.value is None:
        raise _gap(credit.line, R.NotStatedByLaw(param.id, when.date_for(param.keyed_on)))
    ratio = R.quantity(entry.value, param.unit)
    reg = registry()
    limit = Decimal((reg.Quantity(other, other_fact.unit) * reg.Quantity(ratio.value, ratio.unit))
                    .to(rated.unit).magnitude)
    if rated.value <= limit:
        return None
    cite = next((str(r["title"]) for r in param.references if str(r.get("title", "")).startswith("IRC")), "")
    return Cap(fact_name, rated, R.quantity(limit, rated.unit), param.id, ratio, entry.start, other_name,
               R.quantity(other, other_fact.unit), cite)


# ---------------------------------------------------------------------------------------------------
# the ledger, sale by sale

def read_ledger(path: Path | str, ruleset: RuleSet) -> list[Row]:
    """The sales, each normalized against the ledger's columns; a bad row carries its problem."""
    rows = read_rows(Path(path), "sales ledger")
    for row in rows:
        if row.problem is None:
            row.raw = {ruleset.column(PRODUCT): row.product, **row.raw}
            problem = column_problem(row, ruleset.ledger)
            if problem is not None and problem.key not in ruleset.ledger:  # the catalog's fix names `ampc facts`
                problem = Problem(problem.where, problem.message, "rename it to a column of the sales ledger "
                                  f"({', '.join(ruleset.ledger)}), or remove it", problem.key)
            row.problem = problem
        if row.problem is None:
            normalize(row, ruleset.ledger, ruleset)
            for key, column in ruleset.ledger.items():  # labels keep their spelling; only rules fold case
                if column.type == "text" and row.problem is None and row.raw.get(key) not in (None, ""):
                    row.facts[key] = " ".join(str(row.raw[key]).split())
        row.roles = {role: row.facts.get(column) for role, column in ruleset.ledger_roles.items()}
    return rows


class Calculator:
    def __init__(self, ruleset: RuleSet, decider: Decider, as_of: dt.date | None = None):
        self.ruleset = ruleset
        self.decider = decider
        self.as_of = as_of  # read the law as of this date instead of each sale's date
        self._records: dict[tuple, R.Record] = {}

    def when(self, product: Row, sale: Row) -> When:
        """The sale's dates: sold on its sale date (or --as-of), produced on its production date if
        it gives one (else the catalog's), in the taxable year the catalog gives (else the calendar year)."""
        facts = dict(product.facts)
        if sale.roles.get(PRODUCTION_DATE):
            facts[self.ruleset.role(PRODUCTION_DATE)] = sale.roles[PRODUCTION_DATE]
        return self.decider.when_for(facts, self.as_of or sale.roles[SALE_DATE])

    def record(self, product: Row, sale: Row, when: When) -> R.Record:
        """The product's decision on the sale's dates, through the one pipeline (once per product and dates)."""
        facts = {self.ruleset.role(k): sale.roles[k] for k in SALE_FACTS if sale.roles.get(k) is not None}
        key = (product.product, when, tuple(sorted(facts.items())))
        if key not in self._records:
            self._records[key] = decide_row(product, self.decider, when=when, facts=facts)
        return self._records[key]

    def amount(self, product: Row, sale: Row, decision: R.Decision, when: When) -> Amount:
        line = decision.line or ""
        credit = self.ruleset.credits.get(line)
        if credit is None:
            raise _Missing(f"no credit amount is encoded for line {line}", "add it to rules/credit/amounts.yaml")
        column = self.ruleset.column(PRODUCTION_DATE)
        if credit.keyed_on == "production" and not (sale.roles.get(PRODUCTION_DATE) or
                                                    product.facts.get(self.ruleset.role(PRODUCTION_DATE))):
            raise _Missing(f"line {line} is figured as of the production date, which this sale does not give",
                           f"add a {column} column", column)
        base = figure_base(self.ruleset, credit, product, sale.facts, sale.roles.get(UNITS), when)
        rate = rate_of(self.ruleset, credit, when)
        if isinstance(rate, R.NotStatedByLaw):
            raise _gap(line, rate)
        phase = phase_out_of(self.ruleset, credit, when)
        if isinstance(phase, R.NotStatedByLaw):
            raise _gap(line, phase)
        before = _usd(rate.value, base.amount)
        exact = before if phase is None else before * phase.percent / 100
        booked = sale.roles.get(CLAIMED_LINE)
        claimed = Claimed(booked, line) if booked and booked.lower() != line.lower() else None
        return Amount(sale, decision, line, base, rate, before, phase, exact, claimed)

    def rejected_base(self, product: Row, sale: Row, decision: R.Decision, when: When) -> R.Quantity | None:
        """The base the rejected sale would have carried on the line its product meets, if any."""
        credit = self.ruleset.credits.get(decision.classified_line or "")
        if credit is None:
            return None
        try:
            return figure_base(self.ruleset, credit, product, sale.facts, sale.roles.get(UNITS), when).amount
        except _Missing:
            return None


def compute(catalog: list[Row], ledger: list[Row], ruleset: RuleSet, tax_year: int | None = None,
            as_of: dt.date | None = None) -> CreditRun:
    products = {row.product: row for row in catalog}
    errors: list[R.Problem] = []
    outside: list[Row] = []
    sheets: dict[str, Worksheet] = {}
    with Decider(ruleset) as decider:
        calc = Calculator(ruleset, decider, as_of)
        for sale in ledger:
            problem = _problem(sale.problem) if sale.problem else _check_sale(sale, products, ruleset)
            if problem:
                errors.append(problem)
                continue
            if tax_year is not None and sale.roles[SALE_DATE].year != tax_year:
                outside.append(sale)
                continue
            facility = sale.roles[FACILITY]
            sheet = sheets.setdefault(facility, Worksheet(facility, tax_year, {
                line: LineTotal(ruleset.credits[line]) for line in ruleset.line_order() if line in ruleset.credits},
                part_iv_fact=ruleset.role("part_iv_line")))
            product = products[sale.roles[PRODUCT]]
            when = calc.when(product, sale)
            record = calc.record(product, sale, when)
            if isinstance(record, R.ErrorRecord):
                errors.append(R.Problem(sale.where, record.error.message, record.error.fix, record.error.key))
                continue
            if record.outcome != R.QUALIFIED:
                sheet.rejected.append(Rejected(sale, record, calc.rejected_base(product, sale, record, when)))
                continue
            try:
                amount = calc.amount(product, sale, record, when)
            except _Missing as missing:
                errors.append(R.Problem(sale.where, missing.message, missing.fix, missing.key))
                continue
            sheet.lines.setdefault(amount.line, LineTotal(ruleset.credits[amount.line])).amounts.append(amount)
        ident = decider.ident
    return CreditRun(sorted(sheets.values(), key=lambda s: s.facility), errors, outside, tax_year, ident, as_of)


def _problem(p: Problem) -> R.Problem:
    return R.Problem(p.where, p.message, p.fix, p.key)


def _check_sale(sale: Row, products: dict[str, Row], ruleset: RuleSet) -> R.Problem | None:
    facts, roles = sale.facts, sale.roles
    for role, fix in REQUIRED:
        if roles.get(role) is None:
            column = ruleset.column(role)
            return R.Problem(sale.where, f"'{column}' is missing", fix, column)
    product_column = ruleset.column(PRODUCT)
    pid = roles[PRODUCT]
    if pid not in products:
        return R.Problem(sale.where, f"unknown product '{pid}'{did_you_mean(pid, products)}",
                         "use a product id from the catalog, or add the product to it", product_column)
    product = products[pid]
    if product.problem is not None:
        return R.Problem(sale.where, f"product '{product.product}' cannot be read from the catalog "
                         f"({product.problem.where}: {product.problem.message})", product.problem.fix,
                         product_column)
    units = roles.get(UNITS)
    if units is not None and (units < 0 or units != units.to_integral_value()):
        column = ruleset.column(UNITS)
        return R.Problem(sale.where, f"{column} {written(units)} is not a whole number of units sold",
                         "give the number of units sold, 0 or more (a return is not a negative sale)", column)
    for column in amount_columns(ruleset):
        if facts.get(column) is not None and facts[column] < 0:
            return R.Problem(sale.where, f"'{column}' is negative", f"give the {column} as a positive amount",
                             column)
    return None


def load(catalog_paths, sales_path, ruleset: RuleSet) -> tuple[list[Row], list[Row]]:
    from ampc.io.catalog import read_catalog
    catalog: list[Row] = []
    for path in catalog_paths:
        catalog.extend(read_catalog(path, ruleset))
    if not ruleset.ledger:
        raise InputError(Problem("definitions/ledger.yaml", "no ledger vocabulary", "restore definitions/ledger.yaml"))
    return catalog, read_ledger(sales_path, ruleset)


# ---------------------------------------------------------------------------------------------------
# one unit's credit, for comparing two rule sets (engine/diff.py)

class UnitCredit(_Frozen):
    """What one unit of a qualified product earns on its line: the rate and phase-out on its dates,
    and, where the catalog gives the base, the base of one unit and the credit in USD. Where the base
    comes from the sale (costs, a vessel's sales price, the turbine's capacity), `base_column` names it."""

    line: str
    encoded: bool = True  # False: no credit amount is encoded for the line
    rate: Rate | None = None
    phase_out: PhaseOutShare | None = None
    not_stated: R.NotStatedByLaw | None = None  # the rate or phase-out has no value on the date
    base: Base | None = None  # one unit's base, where the catalog gives it
    credit: R.Quantity | None = None  # USD per unit, after the phase-out, where the base is known
    base_column: str | None = None  # the sale's ledger column the base comes from, where it does

    @property
    def figure(self) -> Decimal | None:
        """The number compared between two rule sets: the credit per unit, else the rate after the
        phase-out; None where it cannot be figured."""
        if self.credit is not None:
            return self.credit.value
        if self.rate is None:
            return None
        share = Decimal(1) if self.phase_out is None else self.phase_out.percent / 100
        return self.rate.value.value * share


def unit_credit(ruleset: RuleSet, decision: R.Decision, product: Row, when: When) -> UnitCredit | None:
    """One unit's credit on the decision's line (None: the product does not qualify, or not yet)."""
    if decision.outcome != R.QUALIFIED or not decision.line:
        return None
    credit = ruleset.credits.get(decision.line)
    if credit is None:
        return UnitCredit(decision.line, encoded=False)
    rate = rate_of(ruleset, credit, when)
    phase = phase_out_of(ruleset, credit, when)
    if isinstance(rate, R.NotStatedByLaw) or isinstance(phase, R.NotStatedByLaw):
        missing = rate if isinstance(rate, R.NotStatedByLaw) else phase
        return UnitCredit(decision.line, rate=rate if isinstance(rate, Rate) else None, not_stated=missing)
    column = credit.base.get("column") or credit.base.get("units_times_column")
    if column:
        return UnitCredit(decision.line, rate=rate, phase_out=phase, base_column=column)
    try:
        base = figure_base(ruleset, credit, product, {}, Decimal(1), when)
    except _Missing:
        return UnitCredit(decision.line, rate=rate, phase_out=phase)
    money = _usd(rate.value, base.amount)
    if phase is not None:
        money = money * phase.percent / 100
    return UnitCredit(decision.line, rate=rate, phase_out=phase, base=base, credit=R.quantity(money, USD))


# ---------------------------------------------------------------------------------------------------
# the worksheet's JSON form (`ampc credit --format json`, `ampc schema worksheet`)

class Sale(_Frozen):
    """A ledger row: where it is, the product, the facility and the date of the sale."""

    where: str  # the file and row
    row: int
    product: str
    facility: str
    sale_date: dt.date


class DecisionRef(_Frozen):
    """The decision a sale was counted or rejected on (the full record: `ampc explain`)."""

    outcome: R.Outcome
    reason: R.Reason
    dates: R.Dates
    line: str | None = None
    classified_line: str | None = None  # the line whose definition the product meets
    decided_by: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # the facts that would settle an undetermined outcome
    why: str = ""  # the reason in words, as the worksheet's renderer writes it


class SaleAmount(_Frozen):
    """One qualifying sale's contribution to its line, with the parts of its arithmetic."""

    sale: Sale
    line: str
    base: Base
    rate: Rate
    before_phase_out: Decimal  # USD
    phase_out: PhaseOutShare | None
    credit: Decimal  # USD, exact
    decision: DecisionRef
    claimed: Claimed | None = None


class RejectedSale(_Frozen):
    sale: Sale
    decision: DecisionRef
    base: R.Quantity | None = None  # what it would have carried on the line its product meets


class Money(_Frozen):
    """An amount in USD: exact, to the cent (half up), and in whole dollars as filed (half up)."""

    exact: Decimal
    cents: Decimal
    whole_dollars: Decimal


class PartIILine(_Frozen):
    line: str
    column_a: str  # the component, in the form's words
    column_b: str  # what column (d) measures, in the form's words
    rate: Rate | None  # column (c): as applied to the first sale, else the parameter's latest value
    sales: int
    aggregate: R.Quantity | None = None  # column (d)
    phase_outs: tuple[Decimal, ...] = ()  # the phase-out percentages applied, other than 100
    credit: Money | None = None  # column (e)


class Vessel(_Frozen):
    """Part III: one related offshore wind vessel."""

    line: int
    sale: Sale
    sales_price: Decimal  # USD
    name: str | None = None
    purpose: str | None = None
    official_number: str | None = None
    status: str | None = None  # new | retrofitted


class PartIVLine(_Frozen):
    line: str
    label: str  # the mineral and its form, from the rule that puts it on this line
    costs: Decimal  # USD


class FacilityWorksheet(_Frozen):
    facility: str
    tax_year: int | None
    part_ii: tuple[PartIILine, ...]
    line_8a: Money
    part_iii: tuple[Vessel, ...] = ()
    part_iii_total: Decimal | None = None  # to Part II, line 2a, column (d)
    part_iv: tuple[PartIVLine, ...] = ()
    line_74: Decimal | None = None  # to Part II, line 6a, column (d)
    sales: tuple[SaleAmount, ...] = ()
    rejected: tuple[RejectedSale, ...] = ()
    rejected_by_line: tuple[RejectedTotal, ...] = ()


class WorksheetReport(_Frozen):
    """The Form 7207 worksheets of one ledger: one per facility, with every sale counted or rejected,
    every row that could not be computed, and the rules and software that computed them."""

    ruleset: R.RuleSetId
    software: R.Software
    tax_year: int | None
    worksheets: tuple[FacilityWorksheet, ...]
    as_of: dt.date | None = None  # the date the law was read at for every sale (--as-of), if given
    outside_tax_year: tuple[Sale, ...] = ()
    errors: tuple[R.Problem, ...] = ()


def sale_of(row: Row) -> Sale:
    return Sale(row.where, row.number, row.roles[PRODUCT], row.roles[FACILITY], row.roles[SALE_DATE])
