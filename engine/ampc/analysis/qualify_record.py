"""What would qualify, as data: the typed result of ampc.analysis.qualify that the renderers read
(ampc.io.qualify_text.what_would_qualify_text, JSON beside each record), and its JSON Schema
(`ampc schema what-would-qualify`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from ampc.records import record as R


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Change(_Frozen, kw_only=True):
    """One fact to change: from its value to the nearest one the clause allows, and how far that is."""

    fact: str
    op: str  # the clause's operator as it must hold (a clause under `not` flipped: less_than, is_not, none_of)
    threshold: R.Value
    from_: R.Value = msgspec.field(name="from")
    to: R.Value
    distance: R.Value | None = None  # a quantity in the fact's unit, or days; None: not given before
    rule: str
    clause: str = ""
    path: str = "all"
    computed_from: tuple[str, ...] = ()  # a computed fact: the facts it is computed from
    # the law states no threshold for the date (this parameter): the value meets every one it could take
    not_stated: str | None = None


class Blocker(_Frozen, kw_only=True):
    """A clause no change of the product's own facts can meet: it turns on a date the law is read
    at or the kind (fixed), on a fact an earlier stage concludes (derived), or on a threshold the
    law does not state for the date (not_stated)."""

    rule: str
    fact: str
    op: str
    threshold: R.Value
    actual: R.Value
    why: Literal["fixed", "derived", "not_stated"]
    role: str = ""  # fixed: the role of the fact (sale_date, production_date, taxable_year_begins, kind)
    clause: str = ""
    path: str = "all"


class Candidate(_Frozen, kw_only=True):
    line: str
    rule: str
    label: str
    reachable: bool
    changes: tuple[Change, ...] = ()
    blocked_by: tuple[Blocker, ...] = ()
    verified: bool = False  # re-decided with the changes, it qualifies on this line
    after: str | None = None  # the outcome re-decided with the changes (None: not re-decided)
    after_line: str | None = None
    note: str = ""


class WhatWouldQualify(_Frozen, kw_only=True):
    product: str
    outcome: str
    line: str | None = None
    family: str | None = None
    candidates: tuple[Candidate, ...] = ()
    note: Literal["", "qualified", "kind_not_given", "error", "no_candidate"] = ""


def schema() -> dict:
    out = msgspec.json.schema(WhatWouldQualify)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out


def to_json(records: list[R.Record], results: list[WhatWouldQualify]) -> str:
    """A JSON array, one {"record": ..., "what_would_qualify": ...} per line: the record's own bytes
    are those of `ampc explain --format json`, the result beside it."""
    items = [f'{{"record":{R.encode(d).decode()},"what_would_qualify":{R.encode(w).decode()}}}'
             for d, w in zip(records, results)]
    return "[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n"
