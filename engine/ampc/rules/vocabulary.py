"""The words of the fact vocabulary: an enum's values with the words a catalog writes for them,
and the column headers declared for each fact; both checked so that a cell or a header names one
thing only (compared as ampc.rules.words folds them)."""

from __future__ import annotations

from typing import Any

from ampc.errors import Problem
from ampc.rules.model import FactDef
from ampc.rules.words import fold, header_key
from ampc.rules.yamlio import Checker


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def values_of(c: Checker, spec: dict, what: str, ftype: str) -> dict:
    """An enum's or a set's values, their words and aliases, and the folded spelling of each
    (words.fold) -> its value; the column headers people write for the fact. Two values that a
    catalog could write the same way are an error: a cell must name one value."""
    out: dict[str, Any] = {"aliases": tuple(str(a) for a in as_list(spec.get("aliases")))}
    if ftype not in ("enum", "set"):
        return out
    values, labels, aliases, index = [], {}, {}, {}
    for entry in as_list(spec.get("values")):
        item = entry if isinstance(entry, dict) else {"value": entry}
        value = str(item.get("value"))
        values.append(value)
        if item.get("label"):
            labels[value] = text(item["label"])
        aliases[value] = tuple(str(a) for a in as_list(item.get("aliases")))
        for word in (value, *aliases[value]):
            key = fold(word)
            if not key:
                c.add(item, "aliases" if word != value else "value",
                      f"{what}: '{word}' has no letter or digit, so no cell could name it", "spell it in words")
            elif index.get(key, value) != value:
                c.add(item, "aliases" if word != value else "value",
                      f"{what}: '{word}' names both {index[key]} and {value}",
                      "give the word to one value only (case, spacing and punctuation are ignored)")
            index.setdefault(key, value)
    out.update(values=tuple(values), value_labels=labels, value_aliases=aliases, words=index)
    return out


def check_headers(facts: dict[str, FactDef], where: dict[str, str], problems: list[Problem]) -> None:
    """A column header a catalog may write names one fact: no alias may be another fact's name or alias."""
    owner: dict[str, str] = {}
    for name, fact in facts.items():
        for word in (name, *fact.aliases):
            key = header_key(word)
            if owner.setdefault(key, name) != name:
                problems.append(Problem(where.get(name, "definitions/facts/"),
                                          f"fact '{name}': the column header '{word}' also names '{owner[key]}'",
                                          "give the alias to one fact only (case, spacing and punctuation "
                                          "are ignored)", "aliases"))
