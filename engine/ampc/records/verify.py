"""Verify records: decide every record again from its own inputs and dates, and compare.

A record is `identical` when deciding it again gives the same bytes; `same_decision` when only the
rule set's hash or the software differ and the decision itself (outcome, reason, every clause with
its values) is the same; `different` when the decision changed, with each change named: the
outcome, the line, a rule's result, a clause's threshold, actual value or verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.errors import InputError, Problem
from ampc.io.catalog import Row, prepare
from ampc.records import record as R
from ampc.records.detail import compact, retype
from ampc.rules.model import RuleSet, When

Status = str  # identical | same_decision | different


class Change(msgspec.Struct, frozen=True):
    """One thing that differs between the record and the decision made again."""

    what: str  # outcome | line | reason | rule | clause | flags | missing | error | facts | ...
    rule: str | None = None
    path: str | None = None  # the clause's place in the rule's condition tree
    field: str | None = None  # for a clause: threshold | actual | verdict
    recorded: Any = None
    now: Any = None


class Verified(msgspec.Struct, frozen=True):
    """The verdict on one record."""

    line: int  # the line of the records file
    product: str
    status: Status
    rules_differ: bool = False  # the record was decided under another rule set (hash)
    recorded_sha256: str = ""
    now_sha256: str = ""
    software_differs: bool = False
    changes: tuple[Change, ...] = ()


def read_records(path: Path) -> Iterator[tuple[int, R.Record | Problem]]:
    """The records of a JSON lines file (or a JSON array), each with its line; a line that is not a
    record is a Problem naming the line."""
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file", "give the JSONL file `ampc classify --format jsonl` wrote"))
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        lines = [(n, line.rstrip(",")) for n, line in enumerate(text.splitlines(), start=1)
                 if line.strip() not in ("[", "]", "")]
    else:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    for number, line in lines:
        try:
            yield number, R.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            yield number, Problem(f"{path}:{number}", f"not a decision record ({exc})",
                                  "give a file written by `ampc classify --format jsonl`")


def row_of(record: R.Record) -> Row:
    """The catalog row the record was decided from, rebuilt from the inputs it holds."""
    src, given = record.source, record.inputs
    return Row(src.where, src.row or 0, record.product, record.description, given.as_of,
               dict(given.values), dict(given.header_units), file=src.file)


def rows_again(records: list[R.Record], ruleset: RuleSet) -> list[Row]:
    """The rows rebuilt and read again, those of one catalog file together and in their order, so
    that what depends on the other rows (a product id given twice) is found again."""
    rows = [row_of(r) for r in records]
    by_file: dict[str, list[Row]] = {}
    for row in rows:
        by_file.setdefault(row.file, []).append(row)
    for group in by_file.values():
        prepare(group, ruleset)
    return rows


def decide_again(record: R.Record, row: Row, decider: Decider) -> R.Record:
    if isinstance(record, R.ErrorRecord):
        return decide_row(row, decider, record.as_of)
    dates = record.dates
    if dates.sale_from == "ledger":  # decided for a sale: the sale's dates, as the credit gave them
        when = When(dates.sale, dates.production, dates.taxable_year_begins)
        dated = (decider.ruleset.role("sale_date"), decider.ruleset.role("production_date"))
        facts = {k: v.value for k, v in record.facts.items() if k in dated and isinstance(v, R.Day)}
        return decide_row(row, decider, when=when, facts=facts)
    if dates.sale_from == "today":  # read at the day it was decided, which is not today any more
        again = decide_row(row, decider, dates.sale)
        if isinstance(again, R.Decision):
            again = msgspec.structs.replace(again, dates=msgspec.structs.replace(again.dates, sale_from="today"))
        return again
    return decide_row(row, decider, dates.sale if dates.sale_from == "option" else None)


def _as_data(value: Any) -> Any:
    return None if value is None else R.to_builtins(value)


def changes(old: R.Record, new: R.Record) -> list[Change]:
    """What differs, outcome first, then rule by rule and clause by clause."""
    out: list[Change] = []
    if type(old) is not type(new) or isinstance(old, R.ErrorRecord):
        if R.encode(old) != R.encode(new) or type(old) is not type(new):
            out.append(Change("error" if isinstance(old, R.ErrorRecord) else "outcome",
                              recorded=old.outcome if isinstance(old, R.Decision) else _as_data(old.error),
                              now=new.outcome if isinstance(new, R.Decision) else _as_data(new.error)))
        return out
    for name in ("outcome", "line", "classified_line", "possible_lines", "missing", "decided_by", "chain",
                 "derived", "description", "dates", "source", "inputs"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(Change(name, recorded=_as_data(a), now=_as_data(b)))
    if old.reason != new.reason:
        out.append(Change("reason", recorded=_as_data(old.reason), now=_as_data(new.reason)))
    if old.facts != new.facts:
        out.append(Change("facts", recorded=_as_data(old.facts), now=_as_data(new.facts)))
    before = {c.rule: c for c in old.considered}
    after = {c.rule: c for c in new.considered}
    for rid in list(before) + [r for r in after if r not in before]:
        a, b = before.get(rid), after.get(rid)
        if a is None or b is None:
            out.append(Change("rule", rid, recorded=a.result if a else None, now=b.result if b else None))
            continue
        if a.result != b.result:
            out.append(Change("rule", rid, recorded=a.result, now=b.result))
        clauses_a = {c.path: c for c in a.clauses}
        clauses_b = {c.path: c for c in b.clauses}
        for path in list(clauses_a) + [p for p in clauses_b if p not in clauses_a]:
            x, y = clauses_a.get(path), clauses_b.get(path)
            if x is None or y is None:
                out.append(Change("clause", rid, path, recorded=_as_data(x), now=_as_data(y)))
                continue
            for field in ("threshold", "actual", "verdict", "param_from"):
                if getattr(x, field) != getattr(y, field):
                    out.append(Change("clause", rid, path, field, _as_data(getattr(x, field)),
                                      _as_data(getattr(y, field))))
        rest_a = msgspec.structs.replace(a, clauses=(), result=b.result)
        rest_b = msgspec.structs.replace(b, clauses=())
        if rest_a != rest_b:
            out.append(Change("rule", rid, field="text, citation or period", recorded=None, now=None))
    if old.flags != new.flags:
        out.append(Change("flags", recorded=_as_data(old.flags), now=_as_data(new.flags)))
    return out


def verify(records: Iterable[tuple[int, R.Record]], ruleset: RuleSet) -> Iterator[Verified]:
    items = list(records)
    rows = rows_again([r for _, r in items], ruleset)
    with Decider(ruleset) as decider:
        for (number, record), row in zip(items, rows):
            again = decide_again(record, row, decider)
            if isinstance(record, R.Decision) and record.detail == "compact":
                again = compact(again)
            rules_differ = record.ruleset != again.ruleset
            software_differs = record.software != again.software
            aligned = msgspec.structs.replace(again, ruleset=record.ruleset, software=record.software)
            if R.encode(record) == R.encode(again):
                status, found = "identical", []
            elif R.encode(record) == R.encode(aligned):
                status, found = "same_decision", []
            else:
                status = "different"
                found = changes(retype(record, ruleset), retype(again, ruleset)) or [
                    Change("record", recorded=None, now=None)]
            yield Verified(number, record.product, status, rules_differ, record.ruleset.sha256,
                           again.ruleset.sha256, software_differs, tuple(found))


def is_records_file(path: Path) -> bool:
    """A JSON lines file whose first line is a decision record (not a catalog row)."""
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        return False
    with path.open(encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "")
    return first.lstrip().startswith('{"record":')


def recorded(files: Iterable[Path], products: Iterable[str], ruleset: RuleSet) -> list[R.Record]:
    """The recorded decisions on the products, in the order asked, with the rules' words put back
    (raises InputError for a product no file holds, Unresolved for a record of other rules)."""
    from ampc.records.detail import expand
    files = list(files)
    wanted = list(products)
    found: dict[str, R.Record] = {}
    for path in files:
        for _, item in read_records(path):
            if isinstance(item, (R.Decision, R.ErrorRecord)) and item.product in wanted:
                found.setdefault(item.product, item)
    for pid in wanted:
        if pid not in found:
            raise InputError(Problem(", ".join(map(str, files)), f"holds no record of '{pid}'",
                                     "give a product id the records hold"))
    return [expand(found[pid], ruleset) for pid in wanted]
