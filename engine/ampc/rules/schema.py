"""The JSON Schema of every file kind (schemas/*.schema.json, Draft 2020-12) and the tables the code checks read."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

# The kinds of file and their schemas; common.schema.json holds what they share.
KINDS = ("ruleset", "rules", "facts", "ledger", "units", "glossary", "interpretations", "facilities", "form_lines")
TEST_KINDS = ("cases",)  # files beside a rule set, not of it: the YAML test cases (`ampc test`)
SHARED = "common"


def file_name(kind: str) -> str:
    return f"{kind}.schema.json"


@cache
def schema(kind: str) -> dict:
    """The JSON Schema of one kind of file (or of the shared definitions), as shipped."""
    text = resources.files("ampc.rules").joinpath("schemas", file_name(kind)).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def registry() -> Registry:
    """Every shipped schema under its file name, so that `common.schema.json#/$defs/date` resolves."""
    return Registry().with_resources(
        (file_name(kind), DRAFT202012.create_resource(schema(kind))) for kind in (*KINDS, *TEST_KINDS, SHARED))


def _is_date(value: Any) -> bool:
    """A YAML date, or its ISO text; an impossible one (2023-02-30) is text that does not parse."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
            return True
        except ValueError:
            return False
    return False


FORMATS = FormatChecker(formats=())
FORMATS.checks("date")(_is_date)


@cache
def validator(kind: str) -> Draft202012Validator:
    """The validator of one kind of file: Draft 2020-12, with the date format checked."""
    return Draft202012Validator(schema(kind), registry=registry(), format_checker=FORMATS)


def enum(kind: str, *pointer: str) -> tuple[str, ...]:
    """The allowed values the schema lists at a path of keys, e.g. enum('rules', '$defs', 'keyed_on')."""
    node: Any = schema(kind)
    for key in pointer:
        node = node[key]
    return tuple(node["enum"])


FACT_TYPES = enum(SHARED, "$defs", "fact", "properties", "type")
STAGE_KINDS = enum("ruleset", "$defs", "stage", "properties", "kind")
KEYED_ON = enum("rules", "$defs", "keyed_on")
GROUP_KEYS = tuple(schema("rules")["$defs"]["group"]["properties"])
FORMULAS = tuple(schema(SHARED)["$defs"]["formula"]["properties"])

# What the code reads a fact for, declared on the fact (`role: kind`), so a fact renamed in YAML needs
# no change in Python. Each role is held by exactly one fact of its vocabulary, of the type shown.
# The schemas list the same names (tests/test_validate.py checks that they agree).
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

# Operators named after the legal wording; which fact types each applies to (the schema lists the
# same operators as the keys of a comparison).
OPERATORS = {
    "is": ("bool", "enum", "text", "quantity"),
    "one_of": ("enum", "set", "text", "quantity"),
    "at_least": ("quantity", "date"),
    "more_than": ("quantity", "date"),
    "at_most": ("quantity", "date"),
    "less_than": ("quantity", "date"),
}
