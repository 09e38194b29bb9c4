"""The fact vocabulary as `ampc facts` prints it: the facts grouped by the file of definitions/facts/
that defines them (one file per kind of component), as text wrapped to a width, JSON, YAML or Markdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ampc.rules.model import FactDef, RuleSet, Section
from ampc.rules.units import plain
from ampc.rules.yamlio import line_of, load_yaml

FORMATS = ("text", "json", "yaml", "markdown")
WIDTH = 100  # the text's width where the terminal's is not known
INDENT = "    "
# The loader's own index of the words it reads for a value (folded word -> value): not declared.
_NOT_DECLARED = ("words",)
# Headings of the files that hold no component kind's line; the others are named by their Part II line.
_TITLES = {
    "common": "Common to every product",
    "credit_bases": "Credit bases (Part II, column (d))",
    "qualification": "Qualification: production and sale (Special Rules, qualified sales)",
    "material_assistance": "Material assistance cost ratio (Special Rules, prohibited foreign entities)",
    "taxpayer": "Taxpayer (Special Rules, prohibited foreign entities)",
}
NOTE = ("A quantity takes a unit: '125 kW', {value: 125, unit: kW}, or a column header 'ac_capacity [kW]'; "
        "a bare number is read in the unit shown, except where a fact says it needs its unit. "
        "A derived fact is concluded by the rules, never read from a catalog.")


@dataclass(frozen=True)
class Group:
    """The facts one file of definitions/facts/ defines, in the file's order, each with its file:line."""

    kind: str  # the file's name without .yaml: inverters
    title: str  # Inverters (Part II, line 3)
    file: str  # definitions/facts/inverters.yaml
    facts: tuple[tuple[FactDef, str], ...]


def groups(ruleset: RuleSet) -> list[Group]:
    """Every fact of the rule set once, in the group of the file that defines it."""
    root = Path(ruleset.root)
    found: list[tuple[tuple, Group]] = []
    seen: set[str] = set()
    for path in sorted((root / "definitions" / "facts").glob("*.y*ml")):
        rel = path.relative_to(root).as_posix()
        data, _ = load_yaml(path, rel)
        declared = data.get("facts") if isinstance(data, dict) else None
        if not isinstance(declared, dict):
            continue
        facts = []
        for name in declared:
            fact = ruleset.facts.get(str(name))
            if fact is not None and fact.name not in seen:
                seen.add(fact.name)
                line = line_of(declared, name)
                facts.append((fact, f"{rel}:{line}" if line else rel))
        if facts:
            order, title = _heading(path.stem, ruleset.sections)
            found.append((order, Group(path.stem, title, rel, tuple(facts))))
    rest = tuple((f, "") for name, f in ruleset.facts.items() if name not in seen)
    if rest:
        found.append(((3, 0, ""), Group("other", "Other facts", "", rest)))
    return [g for _, g in sorted(found, key=lambda item: item[0])]


def _heading(stem: str, sections: tuple[Section, ...]) -> tuple[tuple, str]:
    """The group's place (common first, then the component kinds in the form's line order, then the
    rest) and its heading: "Inverters (Part II, line 3)", from the rules file of the same name."""
    words = stem.replace("_", " ").capitalize()
    for n, section in enumerate(sections):
        named = re.match(r"line_[0-9]+[a-z]?_(.+)$", Path(section.file).stem)  # line_03_inverters
        if named and named.group(1) == stem:
            part, _, line = section.id.partition(".")
            if part.startswith("part_") and line.startswith("line_"):
                where = f"Part {part.removeprefix('part_').upper()}, line {line.removeprefix('line_').lstrip('0')}"
            else:
                where = section.title
            return (1, n, stem), f"{words} ({where})"
    return (0 if stem == "common" else 2, 0, stem), _TITLES.get(stem, words)


def render(ruleset: RuleSet, fmt: str, width: int = WIDTH) -> str:
    """The vocabulary in one of FORMATS, ending with a newline."""
    found = groups(ruleset)
    if fmt == "json":
        return json.dumps(entries(found), indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(entries(found), sort_keys=False, allow_unicode=True, width=width)
    if fmt == "markdown":
        return markdown(found)
    return text(found, width)


# ---------------------------------------------------------------------------------------------------
# JSON and YAML: every declared field of every fact

def entries(found: list[Group]) -> list[dict]:
    """A list of facts, group by group: each fact's group, where it is defined and all its fields."""
    out = []
    for group in found:
        for fact, where in group.facts:
            entry: dict[str, Any] = {"name": fact.name, "group": group.kind, "group_title": group.title,
                                     "defined_at": where}
            for field in dataclasses.fields(fact):
                if field.name not in entry and field.name not in _NOT_DECLARED:
                    entry[field.name] = _builtin(getattr(fact, field.name))
            out.append(entry)
    return out


def _builtin(value: Any) -> Any:
    """A field as plain data: an exact number as its digits ("0.5"), a tuple as a list, a date as YYYY-MM-DD."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _builtin(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(_builtin(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_builtin(v) for v in value]
    return str(value)


# ---------------------------------------------------------------------------------------------------
# text: a heading per group, each fact on a line of its own with its meaning wrapped below it

def text(found: list[Group], width: int = WIDTH) -> str:
    lines: list[str] = []
    for group in found:
        title = textwrap.wrap(group.title, width) or [group.kind]
        lines += ["", *title, "=" * min(width, max(len(t) for t in title))]
        if group.file:
            lines += _wrap(f"(defined in {group.file})", width)
        for fact, _ in group.facts:
            lines += ["", *_fact_text(fact, width)]
    lines += ["", *_wrap(NOTE, width)]
    return "\n".join(lines[1:]) + "\n"


def _fact_text(fact: FactDef, width: int) -> list[str]:
    out = _wrap(f"{fact.name}  {_kind(fact)}", width, "", INDENT * 2)
    out += _wrap(" ".join(t for t in _meaning(fact) if t), width, INDENT, INDENT)
    headers = getattr(fact, "aliases", ())
    if headers:
        out += _wrap("column headers for it: " + ", ".join(f"'{h}'" for h in headers), width, INDENT, INDENT * 2)
    out += _values_text(fact, width)
    return out


def _meaning(fact: FactDef) -> tuple[str, str]:
    """The label as a sentence, and the description: ("AC capacity.", "The inverter's capacity ...")."""
    return fact.label + ("" if not fact.label or fact.label[-1] in ".:?!" else "."), fact.description


def _kind(fact: FactDef) -> str:
    """The fact's type in words: "quantity in W", "enum (one of the values)", with what marks it."""
    words = {"enum": "enum (one of its values)", "set": "set (any of its values)"}.get(fact.type, fact.type)
    if fact.type == "quantity":
        words = f"quantity in {fact.unit}" + ("" if fact.bare_number else ", always with its unit")
        if fact.minimum is not None or fact.maximum is not None:
            low = "" if fact.minimum is None else f"from {plain(fact.minimum)} {fact.unit}"
            high = "" if fact.maximum is None else f"to {plain(fact.maximum)} {fact.unit}"
            words += ", " + " ".join(w for w in (low, high) if w)
    if fact.computed is not None:
        given = getattr(fact, "given_instead_of", ())
        words += ", computed" + (f" (or given instead of {', '.join(given)})" if given else "")
    if fact.derived:
        words += ", derived"
    return words


def _values_text(fact: FactDef, width: int) -> list[str]:
    if not fact.values:
        return []
    labels: dict = getattr(fact, "value_labels", {}) or {}
    aliases: dict = getattr(fact, "value_aliases", {}) or {}
    if not any(labels.get(v) or aliases.get(v) for v in fact.values):
        return _wrap("values: " + ", ".join(fact.values), width, INDENT, INDENT * 2)
    out = _wrap("values:", width, INDENT)
    for value in fact.values:
        words = value + (f": {labels[value]}" if labels.get(value) else "")
        if aliases.get(value):
            words += f" (also written: {', '.join(aliases[value])})"
        out += _wrap(words, width, INDENT * 2, INDENT * 3)
    return out


def _wrap(words: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(words, width, initial_indent=first, subsequent_indent=rest or first,
                         break_on_hyphens=False) or [first.rstrip()]


# ---------------------------------------------------------------------------------------------------
# Markdown: a heading per group and a table of its facts

def markdown(found: list[Group]) -> str:
    lines = ["# Fact vocabulary"]
    for group in found:
        lines += ["", f"## {_md(group.title)}", ""]
        if group.file:
            lines += [f"Defined in `{group.file}`.", ""]
        lines += ["| fact | type | unit | values | meaning |", "|---|---|---|---|---|"]
        for fact, _ in group.facts:
            label, description = _meaning(fact)
            meaning = " ".join(t for t in (f"**{_md(label)}**" if label else "", _md(description)) if t)
            kind = fact.type + (" (derived)" if fact.derived else "") + (" (computed)" if fact.computed else "")
            lines.append(f"| `{fact.name}` | {kind} | {_md(fact.unit)} | {_md(', '.join(fact.values))} | {meaning} |")
    lines += ["", _md(NOTE)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text safe in Markdown prose and table cells: no emphasis, links, HTML, pipes or line breaks."""
    out = " ".join(str(text).split())
    for ch in ("\\", "*", "_", "[", "]", "`", "|"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;")
