"""The worksheet as CSV: one table holding what the XLSX holds (ampc.credit.rows), one row per entry,
its kind in `status`: Part I's entries; Part II's lines 1a to 8c; Part III's vessels and total; Part
IV's lines 1 to 74; every sale counted with its arithmetic; the rejected and undetermined sales; the
notes. Numbers are plain (no currency symbol, no grouping, no exponent; amounts in USD, a
percentage as its number of percent: phase_out_percent, and a rate whose rate_unit is percent),
dates ISO, Part I's yes/no as the form answers them. Written in pieces as the sales are read
(ampc.credit.output)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ampc.credit.model import CreditRun
from ampc.credit.rows import FIELDS, all_rows
from ampc.rules.model import RuleSet
from ampc.rules.units import plain

CHUNK = 1 << 16  # characters of CSV handed on at a time


def to_csv(run: CreditRun, ruleset: RuleSet) -> str:
    return "".join(csv_chunks(run, ruleset))


def csv_chunks(run: CreditRun, ruleset: RuleSet) -> Iterator[str]:
    """The worksheet as CSV, in pieces, the sales read as it goes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for entry in all_rows(run, ruleset):
        writer.writerow({k: cell(v) for k, v in entry.items()})
        if buffer.tell() >= CHUNK:
            yield _drained(buffer)
    yield _drained(buffer)


def cell(value: Any) -> str:
    """A typed value as a CSV cell: a Decimal plain, a date ISO, several numbers space-separated."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(cell(v) for v in value)
    return str(value)


def _drained(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
