"""The shape of every YAML file: allowed and required keys, operators, and their checks as problems."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ampc.errors import Problem, did_you_mean, written
from ampc.rules.yamlio import Located

FACT_TYPES = ("bool", "enum", "set", "quantity", "text", "date")
STAGE_KINDS = ("derive", "choose", "require")

FACT_KEYS = {"type", "label", "description", "unit", "values", "source", "derived", "bare_number", "computed",
             "role"}
# What the code reads a fact for, declared on the fact (`role: kind`), so a fact renamed in YAML needs
# no change in Python. Each role is held by exactly one fact of its vocabulary, of the type shown.
FACT_ROLES = {
    "kind": "enum",  # names the kind of component: a rule applies to the kinds its family names
    "line": "enum",  # the Form 7207 Part II line the classify stage concludes; its values in form order
    "part_iv_line": "enum",  # the Part IV line of a critical mineral
    "sale_date": "date",  # the date of sale the law is read at when no --as-of is given
    "production_date": "date",  # the date the component was produced
    "taxable_year_begins": "date",  # the first day of the taxpayer's taxable year
}
LEDGER_ROLES = {
    "facility": "text",  # one worksheet per facility
    "product": "text",  # the product id, as in the catalog
    "units": "quantity",  # the number of units sold
    "sale_date": "date",
    "production_date": "date",
    "claimed_line": "text",  # the line the sale was booked to
    "vessel_name": "text",  # Part III columns
    "vessel_purpose": "text",
    "vessel_number": "text",
    "vessel_status": "enum",  # new or retrofitted
}
FORMULAS = ("sum", "difference", "product", "ratio")
FACT_REQUIRED = {"type", "label", "description"}
PARAM_KEYS = {"label", "description", "unit", "values", "references", "keyed_on", "enacted"}
PARAM_REQUIRED = {"label", "description", "unit", "values", "references"}
RULE_KEYS = {"id", "stage", "family", "line", "label", "text", "cite", "in_force", "when", "then",
             "notes", "review", "enacted", "review_when"}
# `then` is required of derive and choose rules only (the loader checks it by stage)
RULE_REQUIRED = RULE_KEYS - {"notes", "review", "enacted", "then", "review_when"}
CITE_KEYS = {"instructions", "irc", "form", "regulations", "statute"}
CITE_REQUIRED = {"instructions", "irc"}
IN_FORCE_KEYS = {"from", "to", "keyed_on", "ended"}  # ended: the date the end (to) was enacted
KEYED_ON = ("sale", "production", "taxable_year")
PRECEDENCE_KEYS = {"id", "family", "order", "reason", "review"}
SECTION_KEYS = {"id", "title", "instructions"}
RULES_FILE_KEYS = {"section", "parameters", "precedence", "rules", "credits"}
CREDIT_KEYS = {"line", "column_a", "column_b", "rate", "base", "phase_out", "keyed_on", "cite", "notes", "part"}
CREDIT_REQUIRED = {"line", "column_a", "column_b", "rate", "base", "keyed_on", "cite"}
BASE_KINDS = {"units_times_fact", "units_times_column", "column"}
RULESET_KEYS = {"name", "version", "description", "stages", "editions"}
STAGE_KEYS = {"name", "kind", "label"}
REFERENCE_KEYS = {"title", "href"}

# Operators named after the legal wording; which fact types each applies to.
OPERATORS = {
    "is": ("bool", "enum", "text", "quantity"),
    "one_of": ("enum", "set", "text", "quantity"),
    "at_least": ("quantity", "date"),
    "more_than": ("quantity", "date"),
    "at_most": ("quantity", "date"),
    "less_than": ("quantity", "date"),
}
COND_KEYS = {"fact", "clause", *OPERATORS}
GROUP_KEYS = {"all", "any", "not"}


class Checker:
    """Collects problems for one file; every check names file:line, the key and the fix."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def at(self, node: Any, key: str | None = None) -> str:
        line = 0
        if isinstance(node, Located):
            line = node.line_of(key) if key else node.line
        elif hasattr(node, "line"):
            line = node.line
        return f"{self.path}:{line}" if line else self.path

    def add(self, node: Any, key: str | None, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.at(node, key), message, fix, key or ""))

    def mapping(self, node: Any, what: str, parent: Any = None, key: str | None = None) -> bool:
        if isinstance(node, dict):
            return True
        self.add(parent if parent is not None else node, key,
                 f"{what} must be a mapping of keys to values, not {type(node).__name__}",
                 f"write {what} as 'key: value' lines")
        return False

    def keys(self, node: dict, allowed: set, required: set, what: str) -> None:
        for key in node:
            if key not in allowed:
                self.add(node, key, f"unknown key '{key}' in {what}{did_you_mean(str(key), allowed)}",
                         f"allowed keys: {', '.join(sorted(allowed))}")
        for key in sorted(required - set(node)):
            self.add(node, None, f"{what} is missing '{key}'", f"add '{key}:' ({_HINTS.get(key, 'required')})")

    def text(self, node: dict, key: str, what: str) -> str:
        value = node.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(node, key, f"'{key}' of {what} must be non-empty text", f"write the {key} as text")
            return ""
        return value.strip()

    def date(self, node: dict, key: str, what: str) -> dt.date | None:
        value = node.get(key)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.add(node, key, f"'{key}' of {what} is not a date: {written(value)}",
                 "write the date as YYYY-MM-DD, e.g. 2023-01-01")
        return None


_HINTS = {
    "id": "a unique dotted name, e.g. inverter.utility",
    "stage": "identify, classify or qualify",
    "family": "the component family, e.g. inverter",
    "line": "the Form 7207 line, e.g. 3b",
    "label": "a short name as the form has it",
    "text": "the instruction text this rule encodes, quoted",
    "cite": "instructions: <revision, part and line>, irc: <paragraph>",
    "instructions": "e.g. 'Form 7207 instructions (Rev. 01-2024), Part II, line 3b'",
    "irc": "e.g. '45X(c)(2)(G)'",
    "in_force": "{from: 2023-01-01}",
    "when": "the conditions: all / any / not over {fact, operator, value}",
    "then": "the facts it concludes, e.g. {line: 3b}",
    "type": f"one of {', '.join(FACT_TYPES)}",
    "description": "one sentence in the instructions' words",
    "unit": "the canonical unit, e.g. W",
    "values": "the values by the date they take effect, e.g. {2023-01-01: 1000 kW}",
    "references": "a list of {title, href}",
    "order": "the rule ids, the one that wins first",
    "reason": "why this reading was chosen",
    "review": "where the open question is recorded",
    "name": "a name",
    "version": "a version, e.g. 2024.01",
    "stages": "the list of stages",
    "kind": f"one of {', '.join(STAGE_KINDS)}",
}
