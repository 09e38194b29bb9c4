"""The credit: a year's sales, decided product by product, summed into Form 7207 lines, exactly.

Column (d) of each line adds up the base of every qualifying sale (units x capacity, area or mass
per unit; units x the turbine's rated capacity; the vessel's sales price; the costs incurred).
Column (e) is column (c) x column (d), times the phase-out percentage of the sale's year. Money
is exact decimal arithmetic; it is rounded only for display: cents half up, and whole dollars half
up on each line and on the total of the exact amounts (not the sum of rounded lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .catalog import Row, check_columns, normalize, read_rows
from .decide import Decider
from .errors import EngineError, InputError, Problem, did_you_mean
from .model import CreditLine, RuleSet, When
from .record import QUALIFIED, Decision
from .units import registry

CENT = Decimal("0.01")
DOLLAR = Decimal("1")
PART_II_ORDER = ("1a", "1b", "1c", "1d", "1e", "1f", "1g", "2a", "2b", "2c", "2d", "2e", "2f",
                 "3a", "3b", "3c", "3d", "3e", "3f", "4a", "5a", "5b", "5c", "6a", "6b")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(value: Decimal) -> Decimal:
    return value.quantize(DOLLAR, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Amount:
    """One qualifying sale's contribution to one line, with its arithmetic."""

    row: Row
    decision: Decision
    line: str
    units: Decimal
    base: Decimal  # this sale's column (d) amount, in base_unit
    base_unit: str
    rate: Decimal
    rate_unit: str
    phase_out: Decimal | None  # percent, or None where no phase-out applies
    credit: Decimal  # USD, exact
    arithmetic: str
    notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass
class LineTotal:
    credit: CreditLine
    amounts: list[Amount] = field(default_factory=list)

    @property
    def aggregate(self) -> Decimal:
        return sum((a.base for a in self.amounts), Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((a.credit for a in self.amounts), Decimal(0))

    @property
    def phase_outs(self) -> list[Decimal]:
        return sorted({a.phase_out for a in self.amounts if a.phase_out is not None and a.phase_out != 100})


@dataclass(frozen=True)
class Rejected:
    row: Row
    reason: str
    outcome: str
    decision: Decision | None = None
    base: str = ""


@dataclass
class Worksheet:
    facility: str
    tax_year: int | None
    lines: dict[str, LineTotal] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def amounts(self) -> list[Amount]:
        return [a for total in self.lines.values() for a in total.amounts]

    @property
    def vessels(self) -> list[Amount]:
        return self.lines["2a"].amounts if "2a" in self.lines else []

    def part_iv(self) -> dict[str, Decimal]:
        """Part IV: costs per line 1 to 73 (from each mineral's decision)."""
        out: dict[str, Decimal] = {}
        for amount in self.lines.get("6a", LineTotal(None)).amounts:  # type: ignore[arg-type]
            key = amount.decision.derived.get("part_iv_line", "?")
            out[key] = out.get(key, Decimal(0)) + amount.base
        return dict(sorted(out.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 999))

    @property
    def total(self) -> Decimal:
        return sum((t.total for t in self.lines.values()), Decimal(0))


@dataclass
class CreditRun:
    worksheets: list[Worksheet]
    errors: list[Problem]
    outside_year: list[Row]
    tax_year: int | None


def read_ledger(path, ruleset: RuleSet) -> list[Row]:
    rows = read_rows(path, "sales ledger")
    for row in rows:
        if row.problem is None:
            row.raw = {"product": row.product, **row.raw}
            check_columns(row, ruleset.ledger, path)
            normalize(row, ruleset.ledger, ruleset)
            for key, column in ruleset.ledger.items():  # labels keep their spelling; only rules fold case
                if column.type == "text" and row.problem is None and row.raw.get(key) not in (None, ""):
                    row.facts[key] = " ".join(str(row.raw[key]).split())
    return rows


class Calculator:
    def __init__(self, ruleset: RuleSet, decider: Decider, as_of: dt.date | None = None):
        self.ruleset = ruleset
        self.decider = decider
        self.as_of = as_of  # read the law as of this date instead of each sale's date
        self._decisions: dict[tuple, Decision] = {}
        self.reg = registry()

    def decision(self, product: Row, sale: Row) -> Decision:
        facts = dict(product.facts)
        for key in ("sale_date", "production_date"):
            if sale.facts.get(key) is not None and key in self.ruleset.facts:
                facts[key] = sale.facts[key]
        when = self.decider.when_for(facts, self.as_of or sale.facts["sale_date"])
        key = (product.product, when)
        if key not in self._decisions:
            self._decisions[key] = self.decider.decide(product.product, facts, when, product.description,
                                                       product.number)
        return self._decisions[key]

    def when(self, product: Row, sale: Row) -> When:
        facts = {**product.facts, **{k: v for k, v in sale.facts.items() if k in ("production_date",) and v}}
        return self.decider.when_for(facts, self.as_of or sale.facts["sale_date"])

    def param(self, pid: str, when: When) -> Decimal:
        param = self.ruleset.params[pid]
        value = param.at(when)
        if value is None:
            raise EngineError(f"parameter '{pid}' has no value on {when.date_for(param.keyed_on)}")
        return value

    def amount(self, product: Row, sale: Row, decision: Decision) -> Amount:
        line = decision.line or ""
        credit = self.ruleset.credits.get(line)
        if credit is None:
            raise _Missing(f"no credit amount is encoded for line {line}", "add it to rules/credit/amounts.yaml")
        units = sale.facts.get("units")
        when = self.when(product, sale)
        if credit.keyed_on == "production" and not (sale.facts.get("production_date") or
                                                    product.facts.get("production_date")):
            raise _Missing(f"line {line} is figured as of the production date, which this sale does not give",
                           "add a production_date column")
        base, unit, notes, per_text = self.base(credit, product, sale, units, when)
        rate_param = self.ruleset.params[credit.rate]
        rate = self.param(credit.rate, when)
        schedule = next((p for p in credit.phase_out if p.applies(when)), None)
        phase = self.param(schedule.param, when) if schedule else None
        money = (self.reg.Quantity(rate, rate_param.unit) * self.reg.Quantity(base, unit)).to("USD").magnitude
        value = Decimal(money)
        arithmetic = f"{per_text} = {_num(base)} {unit}; x {_num(rate)} {rate_param.unit} = ${_num(value)}"
        if phase is not None:
            exact = value * phase / 100
            if phase != 100:
                keyed = self.ruleset.params[schedule.param].keyed_on
                year = when.date_for(keyed).year
                word = {"sale": "sold", "production": "produced"}.get(keyed, "taxable year")
                arithmetic += f"; x {_num(phase)} % phase-out ({word} {year}) = ${_num(exact)}"
            value = exact
        flags = []
        claimed = sale.facts.get("claimed_line")
        if claimed and claimed.lower() != line.lower():
            flags.append(f"booked to line {claimed}, but the product meets line {line}: entered on {line}")
        return Amount(sale, decision, line, units or Decimal(0), base, unit, rate, rate_param.unit, phase, value,
                      arithmetic, tuple(notes), tuple(flags))

    def ledger_value(self, credit: CreditLine, sale: Row, column: str) -> tuple[Decimal, str]:
        """A base the sale itself gives (costs, sales price, the turbine's capacity), or why it is missing."""
        value = sale.facts.get(column)
        if value is None:
            raise _Missing(f"line {credit.line} needs the {self.ruleset.ledger[column].label.lower()} "
                           f"('{column}') of the sale", f"add a '{column}' column with a value for this row")
        return value, self.ruleset.ledger[column].unit

    def base(self, credit: CreditLine, product: Row, sale: Row, units: Decimal | None, when: When
             ) -> tuple[Decimal, str, list[str], str]:
        spec = credit.base
        notes: list[str] = []
        if "column" in spec:
            value, unit = self.ledger_value(credit, sale, spec["column"])
            return value, unit, notes, f"{spec['column']} {_num(value)}"
        if units is None:
            raise _Missing("the number of units sold is not given", "add a 'units' column")
        if "units_times_column" in spec:
            per, unit = self.ledger_value(credit, sale, spec["units_times_column"])
            return units * per, unit, notes, f"{_num(units)} units x {_num(per)} {unit}"
        fact_name = spec["units_times_fact"]
        fact = self.ruleset.facts[fact_name]
        per = product.facts.get(fact_name)
        if per is None:
            raise _Missing(f"line {credit.line} multiplies the units sold by the product's {fact.label.lower()} "
                           f"('{fact_name}'), which the catalog does not give for {product.product}",
                           f"add '{fact_name}' to the product in the catalog")
        capped = spec.get("capped_by")
        counted = per
        if capped:
            other_fact = self.ruleset.facts[capped["fact"]]
            other = product.facts.get(capped["fact"])
            ratio_id = capped["ratio"]["param"]
            if other is None:
                raise _Missing(f"line {credit.line}: the capacity counted is capped by the "
                               f"{other_fact.label.lower()} ('{capped['fact']}'), which is not given",
                               f"add '{capped['fact']}' to the product in the catalog")
            ratio = self.param(ratio_id, when)
            ratio_unit = self.ruleset.params[ratio_id].unit
            cap = Decimal((self.reg.Quantity(other, other_fact.unit) * self.reg.Quantity(ratio, ratio_unit))
                          .to(fact.unit).magnitude)
            if per > cap:
                counted = cap
                notes.append(f"capacity counted {_num(cap)} {fact.unit} = {_num(ratio)} {ratio_unit} x "
                             f"{_num(other)} {other_fact.unit} (45X(b)(4) cap), not the rated {_num(per)} "
                             f"{fact.unit}: {credit.notes}")
        return units * counted, fact.unit, notes, f"{_num(units)} units x {_num(counted)} {fact.unit}"


class _Missing(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


def compute(catalog: list[Row], ledger: list[Row], ruleset: RuleSet, tax_year: int | None = None,
            as_of: dt.date | None = None) -> CreditRun:
    products = {row.product: row for row in catalog}
    errors: list[Problem] = []
    outside: list[Row] = []
    sheets: dict[str, Worksheet] = {}
    with Decider(ruleset) as decider:
        calc = Calculator(ruleset, decider, as_of)
        for sale in ledger:
            problem = sale.problem or _check_sale(sale, products)
            if problem:
                errors.append(problem)
                continue
            if tax_year is not None and sale.facts["sale_date"].year != tax_year:
                outside.append(sale)
                continue
            facility = sale.facts["facility"]
            sheet = sheets.setdefault(facility, Worksheet(facility, tax_year, {
                line: LineTotal(ruleset.credits[line]) for line in PART_II_ORDER if line in ruleset.credits}))
            product = products[sale.facts["product"]]
            try:
                decision = calc.decision(product, sale)
            except EngineError as exc:
                errors.append(Problem(sale.where, str(exc), "an engine error is a bug to report"))
                continue
            if decision.outcome != QUALIFIED:
                sheet.rejected.append(Rejected(sale, decision.reason, decision.outcome, decision,
                                               _base_text(calc, sale, product, decision)))
                continue
            try:
                amount = calc.amount(product, sale, decision)
            except _Missing as missing:
                errors.append(Problem(sale.where, missing.message, missing.fix))
                continue
            sheet.lines[amount.line].amounts.append(amount)
    return CreditRun(sorted(sheets.values(), key=lambda s: s.facility), errors, outside, tax_year)


def _base_text(calc: Calculator, sale: Row, product: Row, decision: Decision) -> str:
    """The base the rejected sale would have carried on the line its product meets, if any."""
    line = decision.classified_line
    credit = calc.ruleset.credits.get(line or "")
    if not credit:
        return ""
    try:
        base, unit, _, _ = calc.base(credit, product, sale, sale.facts.get("units"), calc.when(product, sale))
    except _Missing:
        return ""
    return f"{_num(base)} {unit}"


def _check_sale(sale: Row, products: dict[str, Row]) -> Problem | None:
    facts = sale.facts
    for column, fix in (("facility", "name the facility that produced it (one worksheet per facility)"),
                        ("product", "give the product id as in the catalog"),
                        ("sale_date", "give the date of sale as YYYY-MM-DD")):
        if facts.get(column) is None:
            return Problem(sale.where, f"'{column}' is missing", fix, column)
    if facts["product"] not in products:
        return Problem(sale.where, f"unknown product '{facts['product']}'{did_you_mean(facts['product'], products)}",
                       "use a product id from the catalog, or add the product to it", "product")
    product = products[facts["product"]]
    if product.problem is not None:
        return Problem(sale.where, f"product '{product.product}' cannot be read from the catalog "
                       f"({product.problem.where}: {product.problem.message})", product.problem.fix, "product")
    units = facts.get("units")
    if units is not None and (units < 0 or units != units.to_integral_value()):
        return Problem(sale.where, f"units {units} is not a whole number of units sold",
                       "give the number of units sold, 0 or more (a return is not a negative sale)", "units")
    for column in ("sales_price", "costs", "turbine_capacity"):
        if facts.get(column) is not None and facts[column] < 0:
            return Problem(sale.where, f"'{column}' is negative", f"give the {column} as a positive amount", column)
    return None


def _num(value: Any) -> str:
    from .units import grouped
    return grouped(Decimal(value)) if isinstance(value, (Decimal, int)) else str(value)


def load(catalog_paths, sales_path, ruleset: RuleSet) -> tuple[list[Row], list[Row]]:
    from .catalog import read_catalog
    catalog: list[Row] = []
    for path in catalog_paths:
        catalog.extend(read_catalog(path, ruleset))
    if not ruleset.ledger:
        raise InputError(Problem("definitions/ledger.yaml", "no ledger vocabulary", "restore definitions/ledger.yaml"))
    return catalog, read_ledger(sales_path, ruleset)



def unit_credit(ruleset: RuleSet, decision: Decision, facts: dict, when: When) -> tuple[Decimal | None, str]:
    """What one unit earns on its line (for a base the catalog gives), or the rate where the base
    comes from the sale (costs, sales price, the turbine's capacity): for comparing two editions."""
    if decision.outcome == "undetermined":
        return None, "undetermined"
    if decision.outcome != QUALIFIED or not decision.line:
        return Decimal(0), "no credit"
    credit = ruleset.credits.get(decision.line)
    if credit is None:
        return None, f"no credit amount encoded for line {decision.line}"
    param = ruleset.params[credit.rate]
    rate = param.at(when)
    schedule = next((p for p in credit.phase_out if p.applies(when)), None)
    phase = ruleset.params[schedule.param].at(when) if schedule else None
    share = Decimal(1) if phase is None else phase / 100
    phase_text = "" if phase in (None, 100) else f" x {_num(phase)} % phase-out"
    fact_name = credit.base.get("units_times_fact")
    if rate is None:
        return None, f"no rate for line {decision.line} on {when.date_for(param.keyed_on)}"
    if fact_name and facts.get(fact_name) is not None:
        fact = ruleset.facts[fact_name]
        per = facts[fact_name]
        capped = credit.base.get("capped_by")
        if capped and facts.get(capped["fact"]) is not None:
            ratio = ruleset.params[capped["ratio"]["param"]]
            reg = registry()
            cap = Decimal((reg.Quantity(facts[capped["fact"]], ruleset.facts[capped["fact"]].unit)
                           * reg.Quantity(ratio.at(when), ratio.unit)).to(fact.unit).magnitude)
            per = min(per, cap)
        reg = registry()
        money = Decimal((reg.Quantity(rate, param.unit) * reg.Quantity(per, fact.unit)).to("USD").magnitude) * share
        text = f"${_num(cents(money))} per unit ({_num(per)} {fact.unit} x {_num(rate)} {param.unit}{phase_text})"
        return money, text
    if param.unit == "percent":
        column = credit.base.get("column", "")
        what = ruleset.ledger[column].label.lower() if column in ruleset.ledger else "base"
        return rate * share, f"{_num(rate)} % of {what}{phase_text}"
    return rate * share, f"{_num(rate)} {param.unit}{phase_text}"
