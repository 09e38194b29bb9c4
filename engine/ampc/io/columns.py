"""Column headers as people write them, read to the vocabulary's names.

A header matches a fact (or a ledger column) by its name, one of the aliases declared for it in
definitions/, or its label, without regard to case, spacing or punctuation: "AC Capacity",
"ac capacity" and "AC_CAPACITY" are ac_capacity. A unit may follow in brackets or parentheses
("AC Capacity (kW)", "ac_capacity [kW]"). A user's mapping (`--map FILE`) names any other header.

A column that matches nothing is reported once, with the closest names, and its cells are left
out: the row is still decided, and the facts the column might have given are missing, so a rule
that needs them is undetermined, never failed. In strict mode a cell under such a column is an
error for its row instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ampc.errors import InputError, Problem, written
from ampc.rules.model import FactDef
from ampc.rules.units import UnitError, check_unit
from ampc.rules.words import clean, header_key
from ampc.rules.yamlio import Located, load_yaml

# the columns of a catalog that are not facts, and the headers people write for them
RESERVED: dict[str, tuple[str, ...]] = {
    "product": ("product id", "product code", "product number", "item", "item number", "part number", "sku"),
    "description": ("product description", "item description"),
    "as_of": ("as of", "as of date", "law as of"),
}
_UNIT = re.compile(r"^(.*?)\s*[\[(]\s*([^\[\]()]+?)\s*[\])]\s*$")

Notify = Callable[[Problem], None]


class Columns:
    """How the headers of one kind of file are read: a catalog's against the facts, a ledger's
    against its columns. `notify` hears of each unknown column once per file."""

    def __init__(self, vocabulary: dict[str, FactDef], reserved: tuple[str, ...] = tuple(RESERVED), *,
                 mapping: dict[str, str] | None = None, strict: bool = False, notify: Notify | None = None):
        self.vocabulary, self.strict, self.notify = vocabulary, strict, notify
        self.names = [n for n, f in vocabulary.items() if not f.derived] + [r for r in reserved if r not in vocabulary]
        self.index: dict[str, str] = {}
        labels: dict[str, list[str]] = {}
        for name in self.names:
            fact = vocabulary.get(name)
            words = (*RESERVED.get(name, ()), *(fact.aliases if fact else ()))
            for word in (name, *words):
                self.index.setdefault(header_key(word), name)
            if fact and fact.label:
                labels.setdefault(header_key(fact.label), []).append(name)
        for key, owners in labels.items():  # a label is a header only where it names one column
            if len(owners) == 1:
                self.index.setdefault(key, owners[0])
        self.mapping = {header_key(k): v for k, v in (mapping or {}).items()}
        self._told: set[tuple[str, str]] = set()

    def resolve(self, header: Any) -> tuple[str | None, str]:
        """The name a header stands for and the unit it gives (''), or (None, '') when it names
        nothing known. A unit the header gives that is not a unit raises UnitError."""
        text = clean(str(header if header is not None else ""))
        found, unit = self._lookup(text), ""
        match = _UNIT.match(text)
        if match:
            # "purity [%]" is purity in percent, though its key without the brackets is the bare name;
            # a header whose whole text names another fact ("Capacity (AC)" as a label) keeps that fact
            named = self._lookup(match.group(1))
            if named and (not found or found == named):
                found, unit = named, match.group(2)
        if not found:
            return None, ""
        name, unit = _with_unit(found, unit)
        if unit:
            check_unit(unit)
        return name, unit

    def _lookup(self, text: str) -> str | None:
        key = header_key(text)
        return self.mapping.get(key) or self.index.get(key)

    def hint(self, header: Any) -> str:
        """' (did you mean X?)' for an unknown header, from the names and the words for them."""
        key = header_key(header)
        close = difflib.get_close_matches(key, list(self.index), n=1, cutoff=0.6)
        return f" (did you mean '{self.index[close[0]]}'?)" if close else ""

    def unknown(self, where: str, file: str, header: Any) -> Problem:
        """The problem of an unknown column; reported to `notify` once per file unless strict."""
        problem = Problem(where, f"unknown column or key {written(clean(str(header)))}{self.hint(header)}",
                          ("rename it to a fact from `ampc facts`, map it with --map, or remove it" if self.strict else
                           "its cells are left out (the facts it might give are missing); rename it to a fact "
                           "from `ampc facts` or map it with --map, or run with --strict to refuse it"),
                          str(header))
        if not self.strict and self.notify and (file, str(header)) not in self._told:
            self._told.add((file, str(header)))
            shown = where if not file or where.startswith(file) else f"{file} {where}"
            self.notify(Problem(shown, problem.message, problem.fix, problem.key))
        return problem


def target_name(target: str) -> str:
    """The name a mapping's target gives, without its unit."""
    match = _UNIT.match(target)
    return match.group(1) if match else target


def _with_unit(target: str, unit: str) -> tuple[str, str]:
    """A mapping's target may carry a unit itself ("ac_capacity [kW]")."""
    match = _UNIT.match(target)
    if match:
        if unit:
            raise UnitError(f"the header and the mapping both give a unit ({unit}, {match.group(2)})",
                            "give the unit in one place")
        return match.group(1), match.group(2)
    return target, unit


def read_mapping(path: Path, vocabulary: dict[str, FactDef], reserved: tuple[str, ...] = tuple(RESERVED)
                 ) -> dict[str, str]:
    """A header mapping file: `header as written: fact` (or `fact [unit]`), at the top level or under
    `columns:`. Each target must be a fact or column of the vocabulary."""
    data, problems = load_yaml(path, str(path))
    if problems:
        raise InputError(problems[0])
    if isinstance(data, dict) and set(data) == {"columns"}:
        data = data["columns"]
    if not isinstance(data, dict) or not data:
        raise InputError(Problem(str(path), "expected a mapping of headers to facts",
                                 "write one line per header: 'AC Capacity (kW)': ac_capacity"))
    known = [n for n, f in vocabulary.items() if not f.derived] + list(reserved)
    out = {}
    for header, target in data.items():
        line = data.line_of(header) if isinstance(data, Located) else 0
        where = f"{path}:{line}" if line else str(path)
        name = target_name(target) if isinstance(target, str) else target
        if not isinstance(name, str) or name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            raise InputError(Problem(where, f"{written(header)} maps to {written(target)}, which is not a fact"
                                     + (f" (did you mean '{close[0]}'?)" if close else ""),
                                     "map it to a fact name from `ampc facts`", str(header)))
        if isinstance(target, str) and _UNIT.match(target):
            try:
                check_unit(_UNIT.match(target).group(2))
            except UnitError as exc:
                raise InputError(Problem(where, exc.message, exc.fix, str(header)))
        out[str(header)] = str(target)
    return out
