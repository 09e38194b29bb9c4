"""Batch runs: every catalog row yields a decision or an error record, in input order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

from .catalog import Row
from .decide import Decider
from .errors import EngineError
from .model import RuleSet
from .record import ERROR, Decision


def as_of_for(row: Row, override: dt.date | None) -> dt.date:
    """The date of sale the law is read at: --as-of if given, else the row's as_of, else its sale
    date, else today."""
    return override or row.as_of or row.facts.get("sale_date") or dt.date.today()


def error_record(row: Row, ruleset: RuleSet, as_of: dt.date, message: str, where: str, fix: str,
                 key: str = "") -> Decision:
    return Decision(product=row.product, outcome=ERROR, line=None, reason=message, as_of=as_of.isoformat(),
                    ruleset=ruleset.ident(), description=row.description, row=row.number,
                    error={"where": where, "key": key, "message": message, "fix": fix})


def decide_rows(rows: Iterable[Row], decider: Decider, as_of: dt.date | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[Decision]:
    for count, row in enumerate(rows, start=1):
        date = as_of_for(row, as_of)
        if row.problem is not None:
            p = row.problem
            yield error_record(row, decider.ruleset, date, p.message, p.where, p.fix, p.key)
        else:
            try:
                yield decider.decide(row.product, row.facts, date, row.description, row.number)
            except EngineError as exc:
                yield error_record(row, decider.ruleset, date, str(exc), row.where,
                                   "see the message; an engine disagreement is a bug to report")
        if progress:
            progress(count)


def has_errors(decisions: list[Decision]) -> bool:
    return any(d.outcome == ERROR for d in decisions)
