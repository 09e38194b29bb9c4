"""The worksheet's JSON form (`ampc credit --format json`, `ampc schema worksheet`): frozen structs
whose JSON Schema is generated from these classes; engine/ampc/credit/worksheet.py fills them in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec

from ampc.credit.model import (
    FACILITY,
    PRODUCT,
    SALE_DATE,
    Base,
    Claimed,
    PhaseOutShare,
    Rate,
    RejectedTotal,
    Stake,
    TaxYear,
    _Frozen,
)
from ampc.io.catalog import Row
from ampc.records import record as R


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
    review: str = ""  # the open reading it turns on (definitions/interpretations.yaml), if any


class RejectedSale(_Frozen):
    sale: Sale
    decision: DecisionRef
    base: R.Quantity | None = None  # what it would have carried on the line its product meets


class PendingSale(_Frozen):
    """An undetermined sale: the facts that would settle it, and what it would carry on each line."""

    sale: Sale
    decision: DecisionRef
    at_stake: tuple[Stake, ...] = ()


class Money(_Frozen):
    """An amount in USD: exact, to the cent (half up), and in whole dollars as filed (half up)."""

    exact: Decimal
    cents: Decimal
    whole_dollars: Decimal


class ColumnsEfile(_Frozen):
    """The IRS e-file (MeF) elements of a Part II line's columns (d) and (e) (rules/credit/amounts.yaml)."""

    column_d: str = ""
    column_e: str = ""


class PartIILine(_Frozen):
    line: str
    column_a: str  # the component, in the form's words
    column_b: str  # what column (d) measures, in the form's words
    rate: Rate | None  # column (c): as applied to the first sale, else the parameter's latest value
    sales: int
    aggregate: R.Quantity | None = None  # column (d)
    phase_outs: tuple[Decimal, ...] = ()  # the phase-out percentages applied, other than 100
    credit: Money | None = None  # column (e)
    efile: ColumnsEfile = msgspec.field(default_factory=ColumnsEfile)


class FormLine(_Frozen):
    """A line without columns (a) to (e): Part II lines 7, 8a, 8b, 8c, Part III's total of sales
    prices and Part IV line 74, with the form's label and e-file element (definitions/form_lines.yaml).
    amount None: the line is blank (line 7 is not computed; 8b and 8c are for estates and trusts)."""

    part: str
    line: str
    label: str
    efile: str
    amount: Money | None = None


class PartIField(_Frozen):
    """One Part I entry (definitions/facilities.yaml): the line, the form's label, the facilities file's
    field and its value as entered (text; a date YYYY-MM-DD; a TIN's nine digits; a coordinate
    +DD.DDDDDD / +DDD.DDDDDD; lines 5 and 6 yes = true). efile: the e-file element; where another
    field chooses it and is not given (line 3b without owner_kind), '' and the alternatives."""

    line: str
    label: str
    field: str
    efile: str
    value: str | bool | None = None
    efile_alternatives: tuple[str, ...] = ()


class PartI(_Frozen):
    """Part I, Facility Information. listed false: the facility is not in the facilities file, and
    its Part I is left blank."""

    facility: str
    listed: bool
    where: str = ""  # the facilities file and row
    fields: tuple[PartIField, ...] = ()


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
    efile: str = ""  # the IRS e-file element (definitions/form_lines.yaml)


class FacilityWorksheet(_Frozen):
    facility: str
    tax_year: TaxYear | None
    part_ii: tuple[PartIILine, ...]
    line_8a: Money
    part_iii: tuple[Vessel, ...] = ()
    part_iii_total: Decimal | None = None  # to Part II, line 2a, column (d)
    part_iv: tuple[PartIVLine, ...] = ()
    line_74: Decimal | None = None  # to Part II, line 6a, column (d)
    sales: tuple[SaleAmount, ...] = ()
    rejected: tuple[RejectedSale, ...] = ()
    undetermined: tuple[PendingSale, ...] = ()  # not on the form until the facts that settle them are given
    rejected_by_line: tuple[RejectedTotal, ...] = ()
    part_i: PartI | None = None  # None: no facilities file given (the facility id only)
    line_8b: Money | None = None  # estates and trusts: allocated to beneficiaries (--estate-or-trust-allocated)
    line_8c: Money | None = None  # estates and trusts: line 8a (to the cent) less line 8b
    form_lines: tuple[FormLine, ...] = ()  # lines 7, 8a, 8b, 8c, Part III total, Part IV line 74


class WorksheetReport(_Frozen):
    """The Form 7207 worksheets of one ledger: one per facility, with every sale counted or rejected,
    every row that could not be computed, and the rules and software that computed them."""

    ruleset: R.RuleSetId
    software: R.Software
    tax_year: TaxYear | None
    worksheets: tuple[FacilityWorksheet, ...]
    as_of: dt.date | None = None  # the date the law was read at for every sale (--as-of), if given
    outside_tax_year: tuple[Sale, ...] = ()
    errors: tuple[R.Problem, ...] = ()
    facilities_not_in_ledger: tuple[str, ...] = ()  # in the facilities file but named by no sale: ignored


def sale_of(row: Row) -> Sale:
    return Sale(row.where, row.number, row.roles[PRODUCT], row.roles[FACILITY], row.roles[SALE_DATE])
