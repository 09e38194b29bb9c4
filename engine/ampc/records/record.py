"""The typed decision record: the only thing the deciding core hands out, defined once.

Every value is data: a quantity is an exact decimal and its canonical unit, a date is a date, a
fact not given is `NotGiven`, a threshold the law does not state for the date is `NotStatedByLaw`.
Nothing here is formatted for a person; renderers (ampc.io.report, ampc.credit.worksheet, the docs)
read these structs. The JSON form and its JSON Schema come from the same classes (msgspec), and
encoding is deterministic: fields in declaration order, mapping keys sorted, decimals as strings.

Over 400 lines because the record is defined once: its structs, the typed values they hold and
their one encoder stay together so that the JSON Schema, the encoder and the classes cannot drift.
"""

from __future__ import annotations

import datetime as dt
import platform
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, Union

import msgspec

SCHEMA_VERSION = "1"
RECORD_SCHEMA_ID = "https://ampc.invalid/schema/record-1.json"

QUALIFIED, REJECTED, UNDETERMINED, ERROR = "qualified", "rejected", "undetermined", "error"
Outcome = Literal["qualified", "rejected", "undetermined"]
Verdict = Literal["true", "false", "unknown"]
RuleResultWord = Literal["holds", "fails", "undetermined", "not_reached"]


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


# ---------------------------------------------------------------------------------------------------
# values: a tagged union on "type": quantity (an exact decimal and its unit), bool, text, set, date, ...

class Quantity(_Frozen, tag="quantity", tag_field="type"):
    """An exact decimal in the fact's canonical unit (a plain decimal string in JSON, no exponent)."""

    value: Decimal
    unit: str


class Boolean(_Frozen, tag="bool", tag_field="type"):
    value: bool


class Text(_Frozen, tag="text", tag_field="type"):
    """An allowed value of an enumerated fact, or free text (folded: compared without case)."""

    value: str


class Members(_Frozen, tag="set", tag_field="type"):
    """The members of a set-valued fact, sorted."""

    values: tuple[str, ...]


class Day(_Frozen, tag="date", tag_field="type"):
    value: dt.date


class NotGiven(_Frozen, tag="not_given", tag_field="type"):
    """The fact is not stated for this product: missing is not false."""


class NotStatedByLaw(_Frozen, tag="not_stated_by_law", tag_field="type"):
    """The parameter has no value in force on the date it is read at: the law states none."""

    param: str
    date: dt.date


Scalar = Union[Quantity, Boolean, Text, Day]  # noqa: UP007 (a runtime alias)


class OneOf(_Frozen, tag="one_of", tag_field="type"):
    """A threshold that is a list of allowed values (120 V or 240 V; single or three phase)."""

    values: tuple[Scalar, ...]


Value = Union[Quantity, Boolean, Text, Members, Day, NotGiven, NotStatedByLaw, OneOf]  # noqa: UP007

# A compact record's clause writes its threshold and actual value bare, their type read from the
# clause's fact in the rule set and a quantity's unit once for the clause: a decimal string, true
# or false, an allowed value, a date (YYYY-MM-DD), a list (the members of a set; a threshold's
# allowed values), left out for a fact not given; a threshold the law does not state stays typed.
Bare = Union[str, bool, tuple[Union[str, bool], ...]]  # noqa: UP007


def plain_decimal(value: Decimal | int) -> Decimal:
    """The same number written plainly: no exponent and no trailing zeros (exact, no rounding)."""
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def quantity(value: Decimal | int, unit: str) -> Quantity:
    return Quantity(plain_decimal(value), unit)


def typed_facts(facts: dict[str, Any], vocabulary: dict) -> dict[str, Value]:
    """Facts as the record holds them: sorted, typed, in each fact's canonical unit; not given left out."""
    return {k: typed(v, vocabulary[k].unit) for k, v in sorted(facts.items()) if v is not None}


TYPED_KEPT = 16_384  # typed values kept (a record's thresholds and most of its values repeat)
_typed: dict[tuple, Value] = {}


def typed(value: Any, unit: str = "") -> Value:
    """A normalized fact value (Decimal, bool, str, frozenset, date, tuple, None) as a typed Value.
    Typed values are immutable: one made before for the same value and unit is handed out again."""
    kind = value.__class__  # 1 == 1.0 == True and 0 == -0, each written as it is: keyed by class and digits
    key = (kind, repr(value) if kind is Decimal or kind is tuple else value, unit)
    out = _typed.get(key)
    if out is None:
        if len(_typed) >= TYPED_KEPT:
            _typed.clear()
        out = _typed[key] = _typed_anew(value, unit)
    return out


def _typed_anew(value: Any, unit: str) -> Value:
    if value is None:
        return NotGiven()
    if isinstance(value, bool):
        return Boolean(value)
    if isinstance(value, (Decimal, int)):
        return quantity(value, unit)
    if isinstance(value, dt.date):
        return Day(value)
    if isinstance(value, frozenset):
        return Members(tuple(sorted(value)))
    if isinstance(value, tuple):
        return OneOf(tuple(typed(v, unit) for v in value))  # type: ignore[misc]
    if isinstance(value, str):
        return Text(value)
    raise TypeError(f"no typed value for {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------
# the parts of a decision

class Clause(_Frozen, omit_defaults=True, kw_only=True):
    """One condition of one rule: the actual value against the threshold, and the verdict. A compact
    record leaves out what the rule set restores from the rule and the clause's path: the rule id
    (the rule considered that holds the clause names it), the fact, the operator, the parameter, the
    date its value is in force from, and whether the fact is derived; and it writes the threshold and
    the actual value bare (`Bare`), with their unit."""

    rule: str = ""
    fact: str = ""
    op: str = ""  # at_least | more_than | at_most | less_than | is | one_of
    threshold: Value | Bare  # the literal or the parameter's value in the fact's unit, or NotStatedByLaw
    actual: Value | Bare | None = None  # NotGiven where the product does not state it (compact: None)
    unit: str = ""  # compact: the unit of the bare threshold and actual (the fact's canonical unit)
    verdict: Verdict
    param: str | None = None  # the parameter the threshold comes from
    param_from: dt.date | None = None  # the edition: the date from which that value is in force
    clause: str = ""  # the words of the statute's clause, from the rule
    path: str = "all"  # where in the condition tree: "all[2]", "all[3]/any[1]"
    derived: bool = False  # the fact is concluded by an earlier stage (the kind of component)
    decisive: bool = False  # this clause gave the rule its result (a failed clause; the alternative met)


class InForce(_Frozen):
    """The period the rule's edition is in force, on the date it is keyed to."""

    keyed_on: Literal["sale", "production", "taxable_year"]
    start: dt.date
    end: dt.date | None = None


class Considered(_Frozen, omit_defaults=True, kw_only=True):
    """One rule as considered for this product. In a compact record (`detail: compact`) the rule's
    stage and line, its own words (label, text, cite, source, in_force) and the clauses that neither
    failed nor decided are left out: the rule set the record names by its hash holds them (`expand`
    puts them back)."""

    rule: str
    stage: str = ""
    line: str = ""
    result: RuleResultWord
    label: str | None = None
    cite: dict[str, str] | None = None
    text: str | None = None
    source: str | None = None  # rules file and line
    in_force: InForce | None = None
    clauses: tuple[Clause, ...] = ()
    missing: tuple[str, ...] = ()  # the facts, not given, that would settle it
    relevant: bool = True  # False: a candidate that failed on the kind it names (tin is not aluminum)

    def decisive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.decisive)


ReasonKind = Literal[
    "qualified",  # decided_by[0] is the class rule; every requirement holds
    "kind_not_given",  # the fact naming the kind of component is missing
    "not_identified",  # the identify stage's rules all fail
    "identity_undetermined",  # the identify stage turns on facts not given
    "no_rule_in_force",  # no class rule for this kind is in force on the date
    "line_undetermined",  # no class holds; some turn on facts not given
    "no_line",  # every class rule fails
    "no_precedence",  # several classes hold and no declared order decides
    "precedence_pending",  # a class holds, one ranked before it turns on facts not given
    "requirement_fails",  # the product meets a line but a qualification rule fails
    "requirement_undetermined",  # a qualification rule turns on facts not given
    "requirement_not_stated",  # a qualification rule turns on a threshold the law does not state
    "no_line_applies",  # the stages ran and no line was chosen
]


class Reason(_Frozen):
    """Why the outcome is what it is, as data: the kind of reason and the rules it names."""

    kind: ReasonKind
    rules: tuple[str, ...] = ()
    family: str | None = None  # the kind of component, where the reason turns on it
    winner: str | None = None  # precedence_pending: the class that holds


# not_stated: a threshold the law does not state for the date leaves the decision undetermined;
# not_stated_settled: it does not, because every value the threshold could take gives the same result
FlagKind = Literal["overlap", "undeclared_overlap", "interpretation", "not_stated", "not_stated_settled"]


class Flag(_Frozen):
    """Something a reviewer must look at: an overlap decided by precedence, an open reading, a
    threshold the law does not state for the date."""

    kind: FlagKind
    rules: tuple[str, ...]
    review: str = ""  # the open reading it turns on: an id of definitions/interpretations.yaml
    note: str = ""  # the reading chosen (a rule's notes, a precedence's reason)
    precedence: str | None = None  # overlap: the declared order that decided
    winner: str | None = None  # overlap: the rule that applies
    param: str | None = None  # not_stated(_settled): the parameter
    date: dt.date | None = None  # not_stated(_settled): the date it is read at


class Dates(_Frozen):
    """The dates the law was read at, and where the date of sale came from."""

    sale: dt.date
    production: dt.date
    taxable_year_begins: dt.date
    sale_from: Literal["option", "row", "sale_date", "today", "ledger"] = "option"


class Source(_Frozen):
    """Where the product was read: the file, the row (1-based, the header is row 1) or entry."""

    file: str = ""
    row: int | None = None
    where: str = ""


class Inputs(_Frozen):
    """The product's values exactly as read (before units and types), and any unit a column header
    gave; `ampc verify` decides again from these."""

    values: dict[str, Any] = {}
    header_units: dict[str, str] = {}
    as_of: dt.date | None = None  # the row's own as_of, if it gave one


class RuleSetId(_Frozen):
    """The rule set read (its name and the content hash of rules/ and definitions/), the edition it
    was loaded as, and the edition of the law that decided the product."""

    name: str
    sha256: str
    law_as_enacted_by: dt.date | None = None  # the edition loaded; None: every amendment encoded
    edition: str = ""  # the edition that decided: the earliest holding every rule and value applied


class Software(_Frozen):
    ampc: str
    python: str
    durable_rules: str


class Problem(_Frozen):
    """A row that cannot be read: where, which column or key, what is wrong, and the fix."""

    where: str
    message: str
    fix: str = ""
    key: str = ""


class Decision(_Frozen, tag="decision", tag_field="record"):
    """The decision on one product."""

    product: str
    outcome: Outcome
    reason: Reason
    dates: Dates
    ruleset: RuleSetId
    software: Software
    description: str = ""
    line: str | None = None
    classified_line: str | None = None  # the line whose definition it meets, qualified or not
    possible_lines: tuple[str, ...] = ()
    decided_by: tuple[str, ...] = ()  # the rules that settled the outcome
    chain: tuple[str, ...] = ()  # the rules the engine fired, in the stages reached
    missing: tuple[str, ...] = ()  # the facts that would settle an undetermined outcome
    flags: tuple[Flag, ...] = ()
    facts: dict[str, Value] = {}  # normalized, in canonical units, computed facts included
    derived: dict[str, Value] = {}  # what the rules concluded (is_inverter, part_iv_line, ...)
    considered: tuple[Considered, ...] = ()
    source: Source = Source()
    inputs: Inputs = Inputs()
    detail: Literal["full", "compact"] = "full"

    @property
    def error(self) -> None:
        return None

    def considered_rule(self, rule_id: str) -> Considered | None:
        return next((c for c in self.considered if c.rule == rule_id), None)


class ErrorRecord(_Frozen, tag="error", tag_field="record"):
    """A row that could not be decided: the problem names the row, the column and the fix."""

    product: str
    error: Problem
    ruleset: RuleSetId
    software: Software
    description: str = ""
    source: Source = Source()
    inputs: Inputs = Inputs()
    as_of: dt.date | None = None

    outcome = ERROR  # a class attribute, not a field: renderers treat both records alike

    @property
    def line(self) -> None:
        return None


Record = Union[Decision, ErrorRecord]  # noqa: UP007


# ---------------------------------------------------------------------------------------------------
# software versions, JSON and the schemas

@lru_cache(maxsize=1)
def software() -> Software:
    from importlib.metadata import PackageNotFoundError, version

    from ampc import __version__

    try:
        durable = version("durable-rules")
    except PackageNotFoundError:  # an uninstalled checkout
        durable = "unknown"
    return Software(__version__, platform.python_version(), durable)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, frozenset):
        return sorted(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="deterministic", decimal_format="string")
_DECODER = msgspec.json.Decoder(Record)


def to_builtins(record: Any) -> Any:
    """The record as plain JSON-able data (dicts, lists, strings), in the JSON's key order."""
    return msgspec.json.decode(encode(record))


def encode(record: Any) -> bytes:
    """The record's JSON bytes, the same for the same record on every run."""
    return _ENCODER.encode(record)


def decode(data: bytes | str) -> Record:
    """A record read back from its JSON (a decision or an error record)."""
    return _DECODER.decode(data)


def schema(kind: str) -> dict:
    """The JSON Schema of a record ('record', 'error'), of the worksheet ('worksheet') or of what
    would qualify a product ('what-would-qualify', `ampc explain --what-would-qualify`)."""
    if kind == "record":
        target: Any = Record
    elif kind == "error":
        target = ErrorRecord
    elif kind == "worksheet":
        from ampc.credit.sheet import WorksheetReport
        target = WorksheetReport
    elif kind == "what-would-qualify":
        from ampc.analysis.qualify_record import WhatWouldQualify
        target = WhatWouldQualify
    else:
        raise KeyError(kind)
    out = msgspec.json.schema(target)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out
