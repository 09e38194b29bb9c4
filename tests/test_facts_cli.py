"""`ampc facts`: the fact vocabulary by kind of component, readable in a terminal of 100 columns, and
as JSON, YAML and Markdown that carry every declared field of every fact."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main
from ampc.rules.loader import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
FACT_FILES = sorted((ROOT / "definitions" / "facts").glob("*.yaml"))


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(ROOT)


def facts_output(*args: str) -> str:
    result = CliRunner().invoke(main, ["facts", *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def fact_lines(text: str, names) -> list[str]:
    """The first word of each line that begins a fact in the text format (not indented, a fact's name)."""
    return [line.split()[0] for line in text.splitlines() if line[:1].strip() and line.split()[0] in names]


@pytest.mark.parametrize("args, width", [((), 100), (("--width", "60"), 60)])
def test_no_line_of_the_text_is_wider_than_the_terminal(args, width):
    text = facts_output(*args)
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide[:3]
    assert max(len(line) for line in text.splitlines()) > width - 10, "the text fills the width it has"


def test_every_fact_appears_once_in_the_text(ruleset):
    text = facts_output()
    found = fact_lines(text, ruleset.facts)
    assert sorted(found) == sorted(ruleset.facts), set(ruleset.facts) ^ set(found)


def test_the_text_groups_the_facts_under_a_heading_per_kind(ruleset):
    lines = facts_output().splitlines()
    headings = [lines[i - 1] for i, line in enumerate(lines) if line and set(line) == {"="}]
    assert "Inverters (Part II, line 3)" in headings and "Batteries (Part II, line 5)" in headings, headings
    assert len(headings) == len(FACT_FILES)

    def group_of(name: str) -> str:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}  "))
        return next(lines[i - 1] for i in range(at, 0, -1) if lines[i] and set(lines[i]) == {"="})
    assert group_of("ac_capacity") == "Inverters (Part II, line 3)"
    assert group_of("rated_capacity") == "Batteries (Part II, line 5)"
    assert group_of("component") == "Common to every product"


def test_the_text_shows_type_unit_values_and_meaning(ruleset):
    text = facts_output()
    block = text[text.index("\nac_capacity  "):].split("\n\n")[0]
    assert "quantity in W" in block and "AC capacity." in block
    phase = text[text.index("\nphase  "):].split("\n\n")[0]
    assert all(v in phase for v in ruleset.facts["phase"].values)
    purity = text[text.index("\nsilicon_purity  "):].split("\n\n")[0]
    assert "always with its unit" in purity
    assert "Decimal(" not in text and "FactDef(" not in text and "()" not in text.replace("(s)", "")


def _same(declared, given) -> bool:
    """A field of a FactDef and the plain data it was written out as: the same value."""
    if isinstance(declared, Decimal):
        return isinstance(given, str) and Decimal(given) == declared
    if isinstance(declared, (tuple, list)):
        return isinstance(given, list) and len(given) == len(declared) and all(map(_same, declared, given))
    if isinstance(declared, dict):
        return (isinstance(given, dict) and list(given) == [str(k) for k in declared]
                and all(_same(v, given[str(k)]) for k, v in declared.items()))
    return type(given) is type(declared) and given == declared


@pytest.mark.parametrize("fmt, load", [("json", json.loads), ("yaml", yaml.safe_load)])
def test_json_and_yaml_round_trip_every_fact(ruleset, fmt, load):
    entries = load(facts_output("--format", fmt))
    assert isinstance(entries, list)
    names = [e["name"] for e in entries]
    assert sorted(names) == sorted(ruleset.facts) and len(set(names)) == len(names)
    declared = [f.name for f in dataclasses.fields(next(iter(ruleset.facts.values()))) if f.name != "words"]
    for entry in entries:
        fact = ruleset.facts[entry["name"]]
        for field in declared:
            assert field in entry, (fact.name, field)
            assert _same(getattr(fact, field), entry[field]), (fact.name, field, entry[field])
        # the group is the file that defines the fact, and the line is where it is defined
        path, line = entry["defined_at"].rsplit(":", 1)
        assert Path(path).stem == entry["group"] and entry["group_title"]
        assert (ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1] == f"  {fact.name}:"


def test_json_is_grouped_by_kind_in_the_order_of_the_form():
    entries = json.loads(facts_output("--format", "json"))
    order = list(dict.fromkeys(e["group"] for e in entries))
    assert sorted(order) == sorted(p.stem for p in FACT_FILES)
    assert [e["group"] for e in entries] == sorted((e["group"] for e in entries), key=order.index), "contiguous"
    assert order[0] == "common" and order.index("solar") < order.index("wind") < order.index("inverters")


def test_json_carries_the_words_people_write_for_a_value(ruleset):
    phase = ruleset.facts["phase"]
    if not any(getattr(phase, "value_aliases", {}).values()):
        pytest.skip("the rule set declares no words for the values of phase")
    entry = next(e for e in json.loads(facts_output("--format", "json")) if e["name"] == "phase")
    assert entry["value_aliases"] == {v: list(w) for v, w in phase.value_aliases.items()}
    assert "words" not in entry, "the loader's own index is not a declared field"


def test_markdown_has_a_heading_and_a_table_per_kind(ruleset):
    text = facts_output("--format", "markdown")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert len(headings) == len(FACT_FILES) and "Inverters (Part II, line 3)" in headings, headings
    rows = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert sorted(rows) == sorted(ruleset.facts)
    for section in text.split("\n## ")[1:]:
        assert "| fact | type | unit | values | meaning |" in section


def test_an_unknown_format_is_refused():
    result = CliRunner().invoke(main, ["facts", "--format", "table2"])
    assert result.exit_code == 2 and "'table2' is not one of" in result.output
