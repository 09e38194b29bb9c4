"""Validate: each parsed file against the JSON Schema of its kind; every error a problem at file:line, with key and fix.

jsonschema reports what failed and where in the data (the instance path). The YAML was read into
Located mappings, so the path leads to the line of the mapping or of its key. The words of each
problem come from the schema: the `title` of the thing the path is in ("rule '{id}'", "a condition
of {of}") and the `description` of the key that is missing or wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from ampc.errors import Problem, did_you_mean, written
from ampc.rules import schema as S
from ampc.rules.parse import Doc
from ampc.rules.yamlio import Located, line_of

_MISSING = object()
# the subschemas that apply at one place, each with its $ref resolver and whether a $ref led to it
_Parts = list[tuple[dict, Any, bool]]
_WORDS = {"object": "a mapping of keys to values", "array": "a list", "string": "text", "number": "a number",
          "boolean": "true or false", "null": "empty"}
DATE_FIX = "write the date as YYYY-MM-DD, e.g. 2023-01-01"


def check(docs: Iterable[Doc]) -> list[Problem]:
    """Every shape problem of every file, in file order and, within a file, by line."""
    return [p for doc in docs for p in check_doc(doc)]


def check_doc(doc: Doc) -> list[Problem]:
    walker = _Walker(doc)
    found: dict[Problem, tuple[int, int]] = {}
    for n, error in enumerate(S.validator(doc.kind).iter_errors(doc.data)):
        for line, problem in _problems(walker, error):
            found.setdefault(problem, (line, n))  # a problem two errors lead to is listed once
    return sorted(found, key=found.__getitem__)


class _Walker:
    """Follows an instance path through the data and the schema, to the lines and words of a problem."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.root = S.registry().resolver(base_uri=S.file_name(doc.kind))

    def chain(self, path: list) -> list[tuple[_Parts, Any, Any]]:
        """For each place along the path, from the file down: the subschemas there, the data, its key."""
        node = self.doc.data
        parts = _parts(S.schema(self.doc.kind), self.root, node)
        out = [(parts, node, None)]
        for key in path:
            child = _get(node, key)
            parts = [p for part, res, _ in parts for p in _child(part, res, node, key, child)]
            node = child
            out.append((parts, node, key))
        return out


def _get(node: Any, key: Any) -> Any:
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        return _MISSING


def _parts(schema: Any, resolver: Any, instance: Any) -> _Parts:
    """The schema and each subschema that applies to the instance at the same place: its $ref target
    (first, so that the schema's own title wins), allOf, and the branch of if/then/else taken."""
    if not isinstance(schema, dict):
        return []
    out: _Parts = []
    if "$ref" in schema:
        target = resolver.lookup(schema["$ref"])
        out += [(part, res, True) for part, res, _ in _parts(target.contents, target.resolver, instance)]
    out.append((schema, resolver, False))
    for sub in schema.get("allOf", ()):
        out += _parts(sub, resolver, instance)
    if "if" in schema and instance is not _MISSING:
        holds = Draft202012Validator(schema["if"], format_checker=S.FORMATS).is_valid(instance)
        out += _parts(schema.get("then" if holds else "else"), resolver, instance)
    return out


def _child(schema: dict, resolver: Any, parent: Any, key: Any, child: Any) -> _Parts:
    if isinstance(parent, list):
        sub = schema.get("items")
    elif key in schema.get("properties", {}):
        sub = schema["properties"][key]
    else:
        sub = schema.get("additionalProperties")
    return _parts(sub, resolver, child)


def _description(parts: _Parts) -> str:
    """What the schema says of the place: its own words first, then those of the $ref it names."""
    ordered = [p for p, _, via_ref in parts if not via_ref] + [p for p, _, via_ref in parts if via_ref]
    return next((p["description"] for p in ordered if isinstance(p.get("description"), str)), "")


def _title(parts: _Parts) -> str:
    """The name of the thing at the place: a branch taken over the schema's own, its own over its $ref's."""
    return next((p["title"] for p, _, _ in reversed(parts) if isinstance(p.get("title"), str)), "")


def _properties(parts: _Parts) -> list[str]:
    seen: dict[str, None] = {}
    for part, _, _ in parts:
        seen.update(dict.fromkeys(part.get("properties", {})))
    return list(seen)


def _what(chain: list, depth: int, absolute: bool = False) -> str:
    """The name of the thing at depth (or the nearest titled one above): "rule 'inverter.micro'".
    absolute: skip titles that are relative to their holder ("'cite' of {of}")."""
    for d in range(depth, -1, -1):
        title = _title(chain[d][0])
        if title and not (absolute and "{of}" in title):
            return _fill(title, chain[d][2], chain[d][1], lambda d=d: _what(chain, d - 1, True))
    return "the file"


def _fill(title: str, key: Any, node: Any, of: Callable[[], str]) -> str:
    noun = title.split(" '")[0]
    if not isinstance(node, dict) and re.search(r"\{(?!key\}|of\})\w+\}", title):
        return f"a {noun}"

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "key":
            return str(key)
        if name == "of":
            return of()
        field = node.get(name)
        if isinstance(field, (str, int, Decimal)) and not isinstance(field, bool) and str(field):
            return str(field)
        return f"({noun} at line {line_of(node)})"
    return re.sub(r"\{(\w+)\}", value, title)


def _subject(chain: list, path: list) -> str:
    """What a wrong value is: the titled thing itself, or "'label' of rule 'x'", "item 2 of 'order' of ..."."""
    depth = len(path)
    if not path or _title(chain[depth][0]):
        return _what(chain, depth)
    if isinstance(path[-1], int) and isinstance(chain[depth - 1][1], list):
        return f"item {path[-1] + 1} of {_subject(chain[:-1], path[:-1])}"
    return f"'{path[-1]}' of {_what(chain, depth - 1)}"


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return written(value)
    if isinstance(value, (int, Decimal, float)):
        return f"the number {written(value)}"
    if isinstance(value, dt.date):
        return f"the date {written(value)}"
    if value is None:
        return "empty"
    return "text"


@dataclass
class _Place:
    """Where a schema error is: the chain of places down to it, its data, key, line and file."""

    chain: list
    path: list
    file: str

    @property
    def parts(self) -> _Parts:
        return self.chain[-1][0]

    @property
    def node(self) -> Any:
        return self.chain[-1][1]

    @property
    def key(self) -> Any:
        return self.path[-1] if self.path else None

    @property
    def parent(self) -> Any:
        return self.chain[-2][1] if self.path else None

    @property
    def line(self) -> int:
        """The line of the value: of its key in the mapping that holds it, or its own."""
        if isinstance(self.parent, Located):
            return self.parent.line_of(self.key)
        return line_of(self.node) or line_of(self.parent)

    def what(self, depth: int | None = None) -> str:
        return _what(self.chain, len(self.path) if depth is None else depth)

    def subject(self) -> str:
        return _subject(self.chain, self.path)

    def problem(self, line: int, message: str, fix: str, key: Any = _MISSING) -> tuple[int, Problem]:
        key = self.key if key is _MISSING else key
        return line, Problem(f"{self.file}:{line}" if line else self.file, message, fix,
                             "" if key is None else str(key))


def _problems(walker: _Walker, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    path = list(error.path)
    place = _Place(walker.chain(path), path, walker.doc.path)
    if "propertyNames" in error.absolute_schema_path:
        yield _bad_key(place, error)
    else:
        yield from _MESSAGES.get(error.validator, _other)(place, error)


def _required(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    node = place.node
    for missing in error.validator_value:
        if isinstance(node, dict) and missing not in node:
            hint = _description([p for part, res, _ in place.parts for p in _child(part, res, node, missing, _MISSING)])
            yield place.problem(line_of(node), f"{place.what()} is missing '{missing}'",
                                f"add '{missing}:' ({hint or 'required'})", missing)


def _unknown_keys(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    allowed = _properties(place.parts)
    for extra in place.node:
        if extra not in allowed:
            yield place.problem(line_of(place.node, extra), f"unknown key '{extra}' in {place.what()}"
                                f"{did_you_mean(str(extra), allowed)}", f"allowed keys: {', '.join(sorted(allowed))}",
                                extra)


def _type(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    types = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
    expected = " or ".join(_WORDS[t] for t in types)
    subject = place.subject()
    if types == ["object"] and _title(place.parts):
        fix = f"write {subject} as 'key: value' lines"
    else:
        desc = _description(place.parts)
        fix = f"write {expected}" + (f": {desc}" if desc else "")
    yield place.problem(place.line, f"{subject} must be {expected}, not {_kind_of(place.node)}", fix)


def _enum(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    owner, key = len(place.path) - 1, place.key
    if isinstance(key, int) and isinstance(place.parent, list):  # an item of a list: name the list
        owner, key = owner - 1, place.path[-2]
    choices = [str(c) for c in error.validator_value]
    yield place.problem(place.line, f"{place.what(owner)} has unknown {key} {written(place.node)}"
                        f"{did_you_mean(str(place.node), choices)}", f"use one of {', '.join(choices)}")


def _format(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    yield place.problem(place.line, f"{place.subject()} is not a date: {written(place.node)}", DATE_FIX)


def _pattern(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    if error.validator_value != r"\S":
        yield from _other(place, error)
        return
    yield place.problem(place.line, f"{place.subject()} must be non-empty text", f"write the {place.key} as text")


def _not(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    """A key that does not apply here (`not: {}`), e.g. a unit on a fact that is not a quantity."""
    why = error.schema.get("description") if isinstance(error.schema, dict) else ""
    yield place.problem(place.line, f"{place.what(len(place.path) - 1)} cannot have '{place.key}'"
                        + (f": {why}" if why else ""), f"remove '{place.key}:'")


def _exactly_one(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    """oneOf over {required: [k]}, or min/maxProperties 1 over closed properties: one of these keys."""
    node = place.node
    if not isinstance(node, dict):
        return  # the type error says it
    if error.validator == "oneOf":
        choices = [str(s["required"][0]) for s in error.validator_value if len(s.get("required", ())) == 1]
    else:
        choices = _properties(place.parts)
    present = [str(k) for k in node if k in choices]
    if error.validator != "oneOf" and len(present) == 1:
        return  # the others are unknown keys, reported as such
    yield place.problem(line_of(node), f"{place.what()} needs exactly one of {', '.join(choices)}, found "
                        f"{len(present)}" + (f": {', '.join(present)}" if present else ""),
                        f"write one of {', '.join(choices)}")


def _min_items(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    count, desc = error.validator_value, _description(place.parts)
    yield place.problem(place.line, f"{place.subject()} needs at least {count} item{'s' if count > 1 else ''}",
                        f"list {desc}" if desc else f"list at least {count}")


def _other(place: _Place, error: ValidationError) -> Iterator[tuple[int, Problem]]:
    """A keyword the schemas do not use today; never jsonschema's message, which shows Python values."""
    yield place.problem(place.line, f"{place.subject()} is not valid here",
                        _description(place.parts) or "see the file's schema in ampc/rules/schemas/")


# Each JSON Schema keyword that can fail, and the problem it makes (as jsonschema dispatches keywords).
_MESSAGES = {
    "required": _required, "additionalProperties": _unknown_keys, "type": _type, "enum": _enum,
    "format": _format, "pattern": _pattern, "not": _not, "oneOf": _exactly_one, "minProperties": _exactly_one,
    "maxProperties": _exactly_one, "minItems": _min_items,
}


def _bad_key(place: _Place, error: ValidationError) -> tuple[int, Problem]:
    """A key that a propertyNames schema refuses: a date that is not one, a fact name not allowed."""
    bad = error.instance
    names = [p for part, res, _ in place.parts if "propertyNames" in part
             for p in _parts(part["propertyNames"], res, bad)]
    fix = f"use {_description(names)}" if _description(names) else "rename it"
    if error.validator == "format":
        return place.problem(line_of(place.node, bad), f"{place.what()}: {written(bad)} is not a date", fix, bad)
    return place.problem(line_of(place.node, bad), f"{_title(names) or 'the key'} {written(bad)} is not allowed",
                         fix, bad)
