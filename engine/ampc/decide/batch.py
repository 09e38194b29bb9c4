"""Deciding a catalog as a stream: rows are read one at a time, decided in chunks (in this process,
or in worker processes that each load and compile the rules once), and each record's JSON bytes
come back in input order, the same bytes whatever the number of workers."""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.io.catalog import Row
from ampc.records import record as R
from ampc.records.detail import compact
from ampc.rules.loader import load_ruleset
from ampc.rules.model import RuleSet

SMALL = 2000  # with the default number of workers, a catalog of fewer rows is decided in-process
CHUNK = 256  # rows a worker decides at a time: large enough to amortize the hand-over, small enough to stream

_worker: dict = {}  # in a worker process: its Decider (durable-rules keeps process-global state)


def _start(root: str, known_on: dt.date | None) -> None:
    ruleset = load_ruleset(root, known_on)
    _worker["decider"] = Decider(ruleset)


def _decide_chunk(task: tuple[list[Row], dt.date | None, str]) -> list[tuple[bytes, bool]]:
    rows, as_of, detail = task
    decider = _worker["decider"]
    return [_encoded(decide_row(row, decider, as_of), detail) for row in rows]


def _encoded(record: R.Record, detail: str = "full") -> tuple[bytes, bool]:
    return R.encode(compact(record) if detail == "compact" else record), isinstance(record, R.ErrorRecord)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def decide_stream(rows: Iterable[Row], ruleset: RuleSet, as_of: dt.date | None = None, jobs: int = 1,
                  chunk: int = CHUNK, small: int = 0, detail: str = "full") -> Iterator[tuple[bytes, bool]]:
    """(the record's JSON bytes, whether it is an error record) for every row, in input order.
    With `small`, a catalog of fewer rows is decided in this process (starting workers costs more)."""
    rows = iter(rows)
    if small and jobs > 1:
        head = list(itertools.islice(rows, small))
        if len(head) < small:
            jobs = 1
        rows = itertools.chain(head, rows)
    if jobs <= 1:
        with Decider(ruleset) as decider:
            for row in rows:
                yield _encoded(decide_row(row, decider, as_of), detail)
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine state inherited
    with context.Pool(jobs, initializer=_start, initargs=(str(Path(ruleset.root)), ruleset.known_on)) as pool:
        pending: deque = deque()  # at most a few chunks ahead of the writer: memory stays flat
        for rows_chunk in _chunks(rows, chunk):
            pending.append(pool.apply_async(_decide_chunk, ((rows_chunk, as_of, detail),)))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
