"""Deciding a catalog as a stream: rows are read one at a time, decided in chunks (in this process,
in worker processes, or on the workers of a Dask distributed cluster, each worker loading and
compiling the rules once), and each record's JSON bytes come back in input order, the same bytes
whatever the number or kind of workers."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_row
from ampc.errors import AmpcError, InputError, Problem
from ampc.io.catalog import Row
from ampc.records import record as R
from ampc.records.detail import compact
from ampc.rules.loader import default_root, load_ruleset
from ampc.rules.model import RuleSet

SMALL = 2000  # with the default number of workers, a catalog of fewer rows is decided in-process
CHUNK = 256  # rows a worker decides at a time: large enough to amortize the hand-over, small enough to stream

# In a worker process: its one Decider, keyed by (rules root, edition, sha256, detail) so that a chunk
# of another rule set, or for records of the other detail, never meets it. durable-rules keeps
# process-global state, so the lock lets one thread of the process decide at a time (a Dask worker
# started with more threads stays correct).
_worker: dict[tuple, Decider] = {}
_lock = threading.Lock()


def decide_chunk(root: str, known_on: dt.date | None, sha256: str, rows: list[Row], as_of: dt.date | None,
                 detail: str) -> list[tuple[bytes, bool]]:
    """The unit of work of a worker process or a Dask worker: one chunk of rows decided against the
    rule set with this sha256, which the process loads and compiles on its first chunk and keeps."""
    with _lock:
        key = (root, known_on, sha256, detail)
        if key not in _worker:
            for old in _worker.values():
                old.close()
            _worker.clear()
            _worker[key] = Decider(_load(root, known_on, sha256), detail=detail)
        decider = _worker[key]
        return [_encoded(decide_row(row, decider, as_of), detail) for row in rows]


def _load(root: str, known_on: dt.date | None, sha256: str) -> RuleSet:
    """The rule set at root, else the one bundled with this worker's ampc (a cluster's machines
    install it at their own paths), whichever has the sha256 the catalog is decided against."""
    found = []
    for candidate in dict.fromkeys((root, str(default_root()))):
        try:
            ruleset = load_ruleset(candidate, known_on)
        except AmpcError:
            continue
        if ruleset.sha256 == sha256:
            return ruleset
        found.append(f"{candidate} (sha256 {ruleset.sha256[:12]})")
    raise InputError(Problem(f"worker rules {root}", f"this worker has no rule set with sha256 {sha256[:12]}"
                             + (f"; it has {', '.join(found)}" if found else ""),
                             "install the same ampc and rules on every worker, or give --rules a directory "
                             "every worker reads at the same path"))


def _encoded(record: R.Record, detail: str = "full") -> tuple[bytes, bool]:
    return R.encode(compact(record) if detail == "compact" else record), isinstance(record, R.ErrorRecord)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _in_order(submit: Callable[[list[Row]], Callable[[], list]], chunks: Iterator[list[Row]],
              window: int) -> Iterator[tuple[bytes, bool]]:
    """Each chunk submitted, its results yielded in input order, at most `window` chunks ahead of the
    writer (memory stays flat). `submit` hands a chunk to a worker and returns how to wait for it."""
    pending: deque = deque()
    for rows_chunk in chunks:
        pending.append(submit(rows_chunk))
        if len(pending) >= window:
            yield from pending.popleft()()
    while pending:
        yield from pending.popleft()()


def _client(scheduler: Any) -> tuple[Any, bool]:
    """A dask.distributed Client of the scheduler at this address (ours to close), or the Client given."""
    if not isinstance(scheduler, str):
        return scheduler, False
    where = f"--scheduler {scheduler}"
    try:
        from distributed import Client
        from distributed.comm import get_address_host_port
    except ImportError:
        raise InputError(Problem(where, "deciding on a Dask cluster needs dask.distributed, not installed here",
                                 "pip install 'ampc[cluster]'"))
    try:
        get_address_host_port(scheduler)  # a malformed address fails here; a Client made of it hangs on exit
        return Client(scheduler, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(Problem(where, f"cannot reach a Dask scheduler there ({exc})",
                                 "check the address (tcp://HOST:8786) and that `dask scheduler` runs there with "
                                 "workers (`dask worker ADDRESS --nthreads 1`); or leave out --scheduler"))


def _on_cluster(work: Callable, chunks: Iterator[list[Row]], scheduler: Any) -> Iterator[tuple[bytes, bool]]:
    """The chunks decided on the cluster's workers (a future left waiting is released with it)."""
    client, ours = _client(scheduler)
    try:
        yield from _in_order(lambda c: client.submit(work, c, pure=False).result, chunks,
                             2 * max(1, len(client.nthreads())))
    finally:
        if ours:
            client.close()


def decide_stream(rows: Iterable[Row], ruleset: RuleSet, as_of: dt.date | None = None, jobs: int = 1,
                  chunk: int = CHUNK, small: int = 0, detail: str = "full",
                  scheduler: Any = None) -> Iterator[tuple[bytes, bool]]:
    """(the record's JSON bytes, whether it is an error record) for every row, in input order.
    With `small`, a catalog of fewer rows is decided in this process (starting workers costs more).
    With `scheduler` (a Dask distributed scheduler's address, or a Client), the chunks are decided on
    that cluster's workers instead, whatever `jobs` and `small` say."""
    rows = iter(rows)
    work = functools.partial(decide_chunk, str(Path(ruleset.root).resolve()), ruleset.known_on, ruleset.sha256,
                             as_of=as_of, detail=detail)
    if scheduler is not None:
        yield from _on_cluster(work, _chunks(rows, chunk), scheduler)
        return
    if small and jobs > 1:
        head = list(itertools.islice(rows, small))
        if len(head) < small:
            jobs = 1
        rows = itertools.chain(head, rows)
    if jobs <= 1:
        with Decider(ruleset, detail=detail) as decider:
            for row in rows:
                yield _encoded(decide_row(row, decider, as_of), detail)
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine state inherited
    with context.Pool(jobs) as pool:
        yield from _in_order(lambda c: pool.apply_async(work, (c,)).get, _chunks(rows, chunk), 2 * jobs)
