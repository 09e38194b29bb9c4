"""The one pipeline from rows to records: every row read yields a decision or an error record, in
input order. The CLI, the credit, the docs' examples, `ampc verify` and the tests all decide here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ampc.decide.decider import Decider
from ampc.errors import EngineError
from ampc.io import rowcheck
from ampc.io.catalog import Row, iter_catalog, mapping_rows, prepare
from ampc.io.columns import Columns
from ampc.records import record as R
from ampc.rules.model import RuleSet, When


def as_of_for(row: Row, override: dt.date | None, sale_date: str = "sale_date") -> tuple[dt.date, str]:
    """The date of sale the law is read at, and where it came from: --as-of if given, else the
    row's as_of, else its sale date (the fact with role sale_date), else today."""
    if override:
        return override, "option"
    if row.as_of:
        return row.as_of, "row"
    if row.facts.get(sale_date):
        return row.facts[sale_date], "sale_date"
    return dt.date.today(), "today"


def plain_input(value: Any) -> Any:
    """A value as read, as plain data for the record (YAML's located mappings become dicts)."""
    if type(value) is str:  # a CSV cell: most values
        return value
    if isinstance(value, dict):
        return {str(k): plain_input(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_input(v) for v in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def inputs_of(row: Row) -> R.Inputs:
    return R.Inputs({k: v if v.__class__ is str else plain_input(v) for k, v in row.raw.items()}, dict(row.units),
                    row.as_of)


def source_of(row: Row) -> R.Source:
    return R.Source(row.file, row.number, row.where)


def error_record(row: Row, decider: Decider, as_of: dt.date | None, problem: R.Problem) -> R.ErrorRecord:
    return R.ErrorRecord(product=row.product, error=problem, ruleset=decider.ident, software=R.software(),
                         description=row.description, source=source_of(row), inputs=inputs_of(row), as_of=as_of)


def decide_row(row: Row, decider: Decider, as_of: dt.date | None = None, *,
               when: When | None = None, facts: dict[str, Any] | None = None) -> R.Record:
    """One row to its record: an error record if it could not be read, else the decision. The
    credit passes the dates of a sale (`when`) and the sale's facts that the rules read (`facts`:
    its sale and production dates), which override the catalog's."""
    if row.pending and row.problem is None:  # its values read where it is decided (catalog.iter_catalog)
        rowcheck.normalize(row, decider.ruleset.facts, decider.ruleset)
    if row.problem is not None:
        p = row.problem
        return error_record(row, decider, as_of or row.as_of, R.Problem(p.where, p.message, p.fix, p.key))
    if when is not None:
        date, sale_from = when, "ledger"
    else:
        date, sale_from = as_of_for(row, as_of, decider.ruleset.role("sale_date"))
    given = dict(row.facts, **facts) if facts else row.facts
    try:
        return decider.decide(row.product, given, date, row.description, source_of(row), inputs_of(row),
                              sale_from)
    except EngineError as exc:
        day = date.sale if isinstance(date, When) else date
        return error_record(row, decider, day, R.Problem(
            row.where, str(exc), "see the message; an engine disagreement is a bug to report"))


def decide_rows(rows: Iterable[Row], decider: Decider, as_of: dt.date | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[R.Record]:
    for count, row in enumerate(rows, start=1):
        yield decide_row(row, decider, as_of)
        if progress:
            progress(count)


def read(catalogs: Iterable[Path | str], ruleset: RuleSet, columns: Columns | None = None) -> list[Row]:
    """The rows of every catalog file, each checked and normalized (raises InputError for a file
    that cannot be used at all)."""
    return list(stream(catalogs, ruleset, columns))


def stream(catalogs: Iterable[Path | str], ruleset: RuleSet, columns: Columns | None = None,
           normalized: bool = True) -> Iterator[Row]:
    """The rows of every catalog file, one at a time, in order (each file checked when reached);
    `columns` reads the headers (io.columns), strict about unknown columns when not given. With
    `normalized` False their values are read where they are decided (decide_row)."""
    for path in catalogs:
        yield from iter_catalog(path, ruleset, columns, normalized=normalized)


def rows_of(items: list[dict], label: str, ruleset: RuleSet) -> list[Row]:
    """Rows from mappings already in memory (a test case, a docs example), read as a YAML catalog is."""
    return prepare(mapping_rows(items, label), ruleset)


def decide_mappings(items: list[dict], label: str, decider: Decider,
                    as_of: dt.date | None = None) -> list[R.Record]:
    """Mappings of product facts (as a YAML catalog writes them) to records, through the same steps."""
    return list(decide_rows(rows_of(items, label, decider.ruleset), decider, as_of))


def has_errors(records: Iterable[R.Record]) -> bool:
    return any(isinstance(d, R.ErrorRecord) for d in records)
