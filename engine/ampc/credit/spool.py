"""The per-sale detail of a credit run in bounded memory. Each list a worksheet keeps sale by sale
(a line's amounts, the rejected and the undetermined sales, the sales outside the taxable year,
the rows that could not be computed) is a `Detail`: its entries stay in memory while the run holds
fewer than BUDGET of them in all; from then on the run "spills": every list is written, in the
order its sales were read, to one temporary file, and read back in that order when a renderer (or
anyone) iterates it. A small ledger never touches the disk and keeps its objects as computed.

What is written of a sale is what the worksheet reads: the ledger row's place, number and values by
role (not its raw cells and typed facts), and the decision `trimmed`: its outcome, reason, dates,
lines, missing facts, derived facts, flags and rule-set id, with the considered rules its reason
and flags name (the whole record of a product is `ampc explain`'s). A decision is written once
however many sales it decided (while WRITTEN are kept), and read back once for many (READ kept)."""

from __future__ import annotations

import bisect
import io
import itertools
import pickle
import tempfile
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import msgspec

from ampc.io.catalog import Row
from ampc.records import record as R

BUDGET = 1024  # per-sale entries held in memory, all lists of a run together, before the run spills
WRITTEN = 65_536  # decisions whose place in the file is kept while the run is computed (compute.DECISIONS)
READ = 16_384  # decisions kept when read back, for the next sales they decided
T = TypeVar("T")
_KEYS = itertools.count()
_OPEN: weakref.WeakValueDictionary[int, Spool] = weakref.WeakValueDictionary()  # the spools in use, by key


def trimmed(record: R.Record) -> R.Record:
    """The decision as the worksheet reads it: without the facts and inputs it was decided on and
    the considered rules that neither its reason nor its flags name. An error record is kept whole."""
    if not isinstance(record, R.Decision):
        return record
    r = record.reason
    named = {*r.rules, r.winner, *(x for f in record.flags for x in (*f.rules, f.winner))}
    return msgspec.structs.replace(record, considered=tuple(c for c in record.considered if c.rule in named),
                                   facts={}, inputs=R.Inputs())


def _row(where: str, number: int, product: str, roles: dict, file: str, problem: Any, description: str,
         as_of: Any) -> Row:
    return Row(where, number, product, description, as_of, problem=problem, file=file, roles=roles)


def _decision(spool: int, place: tuple[int, int]) -> R.Decision:
    """A decision an entry refers to, read back from its spool (pickle calls this as it loads the entry)."""
    return _OPEN[spool]._record(place)


class _Writer(pickle.Pickler):
    """Pickles entries with each decision by reference (written once) and each row as it is read back."""

    def __init__(self, file: io.BytesIO, spool: Spool):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._spool = spool
        self.dispatch_table = {R.Decision: self._decision, Row: self._row}  # looked up by type, the rest as usual

    def _decision(self, obj: R.Decision) -> Any:
        return _decision, (self._spool._key, self._spool._ref(obj))

    def _row(self, obj: Row) -> Any:
        return _row, (obj.where, obj.number, obj.product, obj.roles, obj.file, obj.problem, obj.description, obj.as_of)


class Spool:
    """The run's temporary file (made when the run spills) and the lists written to it."""

    def __init__(self, budget: int | None = None):
        self.budget = budget or BUDGET
        self._key = next(_KEYS)
        _OPEN[self._key] = self
        self.spilled = False
        self._file: Any = None
        self._lists: list[Detail] = []
        self._held = 0
        self._refs: OrderedDict[int, tuple[R.Decision, tuple[int, int]]] = OrderedDict()  # id -> record, place
        self._loaded: OrderedDict[tuple[int, int], R.Decision] = OrderedDict()

    def detail(self) -> Detail:
        """A new list of entries, kept in the order appended."""
        d: Detail = Detail(self)
        self._lists.append(d)
        return d

    def forget(self, record: Any) -> None:
        """The record will not be seen again (the decisions' cache dropped it): its place is not kept."""
        self._refs.pop(id(record), None)

    def seal(self) -> None:
        """The run is computed: a spilled run writes what it still holds, so that every entry reads back alike."""
        if self.spilled:
            for d in self._lists:
                d._flush()
            self._held = 0
        self._refs.clear()

    # -- the file ------------------------------------------------------------------------------------
    def _added(self) -> None:
        self._held += 1
        if self._held >= self.budget:
            self.spilled = True
            for d in self._lists:
                d._flush()
            self._held = 0

    def _write(self, data: bytes) -> tuple[int, int]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ampc-credit-")
        f = self._file
        f.seek(0, io.SEEK_END)
        offset = f.tell()
        f.write(data)
        return offset, len(data)

    def _read(self, place: tuple[int, int]) -> bytes:
        f = self._file
        f.seek(place[0])
        return zlib.decompress(f.read(place[1]))

    def _dump(self, entries: list) -> tuple[int, int]:
        buffer = io.BytesIO()
        _Writer(buffer, self).dump(entries)
        return self._write(zlib.compress(buffer.getvalue(), 1))

    def _load(self, place: tuple[int, int]) -> list:
        return pickle.loads(self._read(place))

    def _ref(self, record: R.Decision) -> tuple[int, int]:
        """Where the record is written: once while it is kept by identity (WRITTEN of them)."""
        held = self._refs.get(id(record))
        if held is not None and held[0] is record:
            self._refs.move_to_end(id(record))
            return held[1]
        place = self._write(zlib.compress(pickle.dumps(trimmed(record), pickle.HIGHEST_PROTOCOL), 1))
        self._refs[id(record)] = (record, place)
        if len(self._refs) > WRITTEN:
            self._refs.popitem(last=False)
        return place

    def _record(self, place: tuple[int, int]) -> R.Decision:
        record = self._loaded.get(place)
        if record is None:
            record = self._loaded[place] = pickle.loads(self._read(place))
            if len(self._loaded) > READ:
                self._loaded.popitem(last=False)
        else:
            self._loaded.move_to_end(place)
        return record


class Detail(Sequence[T]):
    """A list of per-sale entries: appended in order, iterated in order, counted, indexed."""

    def __init__(self, spool: Spool):
        self._spool = spool
        self._chunks: list[tuple[int, int]] = []  # the places of the chunks written, in order
        self._starts: list[int] = []  # the index of each chunk's first entry
        self._tail: list[T] = []  # the entries not written yet
        self._count = 0
        self._cached: tuple[int, list[T]] | None = None  # the chunk last read by index

    def append(self, entry: T) -> None:
        self._tail.append(entry)
        self._count += 1
        self._spool._added()

    def _flush(self) -> None:
        if self._tail:
            self._chunks.append(self._spool._dump(self._tail))
            self._starts.append(self._count - len(self._tail))
            self._tail = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        for place in self._chunks:
            yield from self._spool._load(place)
        yield from list(self._tail)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("detail index out of range")
        written = self._count - len(self._tail)
        if index >= written:
            return self._tail[index - written]
        n = bisect.bisect_right(self._starts, index) - 1
        if self._cached is None or self._cached[0] != n:
            self._cached = (n, self._spool._load(self._chunks[n]))
        return self._cached[1][index - self._starts[n]]

    def __repr__(self) -> str:
        return f"Detail({self._count} entries, {len(self._chunks)} chunks written)"


class Joined(Sequence[T]):
    """Several lists read as one, in order (a worksheet's amounts, line after line)."""

    def __init__(self, parts: Iterable[Sequence[T]]):
        self._parts = list(parts)

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def __iter__(self) -> Iterator[T]:
        for part in self._parts:
            yield from part

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        for part in self._parts:
            if index < len(part):
                return part[index]
            index -= len(part)
        raise IndexError("index out of range")
