"""Each rule cites the text in force for its decision (issue 13, item 6): Pub. L. 119-21 inserted
metallurgical coal as 45X(c)(6)(R) and relettered the old (R) neodymium to (Z) other minerals as (S)
to (AA), for taxable years beginning after July 4, 2025. A decision in a taxable year beginning
2024-01-01 cites the old letter, one beginning 2026-01-01 the new, in the full record, in the compact
record expanded from the rule set, and in `ampc explain`. A letter the act did not move cites the
same both times; coal and the 2025 battery modules, in force only under the amended text, cite it."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main
from ampc.records import record as R
from ampc.records.detail import compact, expand
from ampc.rules.loader import edition
from ampc.rules.model import When
from caselib import decide_case

# a US producer, selling to an unrelated person, free of foreign influence and material assistance
COMMON = {
    "produced_in": "United States", "sold_in_trade_or_business": True, "sold_to_related_person": False,
    "related_person_election": False, "integrated_into_component_sold_to_unrelated": False,
    "facility_48c_credit_taken": False, "taxpayer_is_specified_foreign_entity": False,
    "specified_foreign_entity_can_appoint_covered_officer": False,
    "largest_specified_foreign_entity_ownership": "0 %", "specified_foreign_entities_ownership": "0 %",
    "specified_foreign_entities_debt_share": "0 %", "effective_control_payment_to_specified_foreign_entity": False,
    "total_direct_material_costs": "1000 USD", "pfe_direct_material_costs": "0 USD",
    "binding_contract_direct_material_costs": "0 USD", "binding_contract_pfe_direct_material_costs": "0 USD",
}
PRODUCTS = {
    "neodymium": ("mineral.neodymium.purified",
                  {"component": "critical_mineral", "mineral": "neodymium", "process": "purified",
                   "purity": "99.95 %"}),
    "zinc": ("mineral.zinc.purified",
             {"component": "critical_mineral", "mineral": "zinc", "process": "purified", "purity": "99.5 %"}),
    "aluminum": ("mineral.aluminum.purified",
                 {"component": "critical_mineral", "mineral": "aluminum", "process": "purified",
                  "purity": "99.95 %"}),
    "coal": ("coal.metallurgical", {"component": "metallurgical_coal", "suitable_for_steel_production": True}),
    "module": ("battery.module.with_cells.2025",
               {"component": "battery_module", "uses_battery_cells": True, "battery_cell_count": 16,
                "cells_configured_for_end_use": True, "comprises_essential_equipment": True,
                "for_hydrogen_fuel_cell_vehicle": False, "rated_capacity": "10 kWh", "max_discharge": "5 kW"}),
}
# a calendar-year taxpayer's sale in a taxable year beginning 2024-01-01, and one beginning 2026-01-01
YEARS = {2024: {"taxable_year_begins": "2024-01-01", "production_date": "2024-03-01", "sale_date": "2024-06-01"},
         2026: {"taxable_year_begins": "2026-01-01", "production_date": "2026-03-01", "sale_date": "2026-06-01"}}
# the rule and the IRC citation its record carries, by the taxable year
CITED = [
    ("neodymium", 2024, "45X(c)(6)(R)"), ("neodymium", 2026, "45X(c)(6)(S)"),  # the letter moves
    ("zinc", 2024, "45X(c)(6)(Z)(xxiv)"), ("zinc", 2026, "45X(c)(6)(AA)(xxiv)"),  # an other mineral
    ("aluminum", 2024, "45X(c)(6)(A)"), ("aluminum", 2026, "45X(c)(6)(A)"),  # the letter stays
    ("coal", 2026, "45X(c)(6)(R)"), ("module", 2026, "45X(c)(5)(B)(iii)(I)(aa), (II), (III); 45X(b)(4)"),
]


def _case(product: str, year: int) -> dict:
    facts = {**COMMON, **PRODUCTS[product][1], **YEARS[year]}
    return {"name": f"{product}-{year}", "as_of": YEARS[year]["sale_date"], "facts": facts, "file": "citations"}


@pytest.mark.parametrize("product, year, irc", CITED, ids=[f"{p}-{y}" for p, y, _ in CITED])
def test_the_record_cites_the_text_in_force_for_its_taxable_year(decider, ruleset, product, year, irc):
    record = decide_case(decider, _case(product, year))
    assert isinstance(record, R.Decision) and record.dates.taxable_year_begins == dt.date(year, 1, 1)
    rule = PRODUCTS[product][0]
    assert record.considered_rule(rule).result == "holds", record.outcome
    assert record.considered_rule(rule).cite["irc"] == irc
    restored = expand(compact(record), ruleset)  # the compact record puts back the same citation
    assert restored.considered_rule(rule).cite == record.considered_rule(rule).cite
    assert R.encode(restored) == R.encode(_full_words_compact_clauses(record))  # every rule's, byte for byte


def _full_words_compact_clauses(record: R.Decision) -> R.Decision:
    """The full record with only the clauses a compact record keeps (expand leaves the rest out)."""
    kept = {(c.rule, x.path) for c in compact(record).considered for x in c.clauses}
    return msgspec.structs.replace(record, detail="compact", considered=tuple(
        msgspec.structs.replace(c, clauses=tuple(x for x in c.clauses if (c.rule, x.path) in kept))
        for c in record.considered))


def test_the_amended_citation_comes_from_the_act_and_the_old_edition_keeps_the_old_letter(ruleset):
    rule = ruleset.rule("mineral.neodymium.purified")
    [amendment] = rule.cite_as_amended
    assert (amendment.after, amendment.enacted, amendment.cite) == (
        dt.date(2025, 7, 4), dt.date(2025, 7, 4), {"irc": "45X(c)(6)(S)"})
    assert "Pub. L. 119-21" in amendment.by
    assert rule.citation(dt.date(2026, 1, 5)).count("IRC 45X(c)(6)(S)") == 1
    # a taxable year beginning on July 4, 2025 is not one beginning after it; July 5 is
    on, after = (When(dt.date(2025, 8, 1), dt.date(2025, 8, 1), dt.date(2025, 7, d)) for d in (4, 5))
    assert (rule.cite_for(on)["irc"], rule.cite_for(after)["irc"]) == ("45X(c)(6)(R)", "45X(c)(6)(S)")
    old = edition(ruleset, dt.date(2024, 1, 31))
    assert old.rule("mineral.neodymium.purified").cite_for(after)["irc"] == "45X(c)(6)(R)"
    assert ruleset.rule("coal.produced_by_2029").cite["irc"] == "45X(b)(3)(E)"


def test_ampc_explain_cites_each_letter_for_its_year(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    items = [{"product": f"{p}-{y}", "as_of": YEARS[y]["sale_date"], **_case(p, y)["facts"]}
             for p, y in (("neodymium", 2024), ("neodymium", 2026), ("zinc", 2026), ("coal", 2026))]
    catalog.write_text(yaml.safe_dump(items), encoding="utf-8")
    out = {}
    for item in items:
        result = CliRunner().invoke(main, ["explain", str(catalog), "--product", item["product"]])
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        out[item["product"]] = result.output
    assert "IRC 45X(c)(6)(R);" in out["neodymium-2024"] and "45X(c)(6)(S)" not in out["neodymium-2024"]
    assert "IRC 45X(c)(6)(S);" in out["neodymium-2026"]
    assert "IRC 45X(c)(6)(AA)(xxiv);" in out["zinc-2026"] and "(Z)(xxiv)" not in out["zinc-2026"]
    assert "IRC 45X(c)(6)(R);" in out["coal-2026"] and "IRC 45X(b)(3)(E);" in out["coal-2026"]


def test_the_rule_page_shows_both_citations_with_their_periods(ruleset):
    from ampc.docs.rules_page import citations
    [irc] = [c for c in citations(ruleset.rule("mineral.zinc.purified")) if c.startswith("IRC")]
    assert "[45X(c)(6)(Z)(xxiv)]" in irc and "(taxable years beginning on or before 2025-07-04)" in irc
    assert "[45X(c)(6)(AA)(xxiv)]" in irc and "as amended by Pub. L. 119-21" in irc
    assert "after 2025-07-04" in irc.partition("(AA)")[2]
    [irc] = [c for c in citations(ruleset.rule("mineral.aluminum.purified")) if c.startswith("IRC")]
    assert "amended" not in irc and "[45X(c)(6)(A)]" in irc


def test_a_files_defaults_give_cite_as_amended_to_each_rule_continued_over_the_citation_base():
    from ampc.rules.expand import expand
    from ampc.rules.yamlio import load_yaml
    text = """\
section: {id: test.x, title: A test file}
defaults:
  line: "3"
  cite: {instructions: "Form 7207 instructions (Rev. 01-2024), Part II, line {line}", irc: 45X(c)(2)}
  cite_as_amended: {taxable_years_beginning_after: 2025-07-04, enacted: 2025-07-04, by: Pub. L. 1, irc: (Q)}
rules:
  - {id: t.a, cite: {irc: (A)}}
  - {id: t.b, cite: {irc: (B)}, cite_as_amended: [{taxable_years_beginning_after: 2026-01-01,
                                                   enacted: 2025-12-01, by: Pub. L. 2, irc: 45X(z)}]}
"""
    data, problems = load_yaml("rules/zz.yaml", "rules/zz.yaml", text=text)
    assert not problems
    data, problems = expand(data, "rules/zz.yaml")
    assert not problems
    a, b = data["rules"]
    assert dict(a["cite_as_amended"]) == {"taxable_years_beginning_after": dt.date(2025, 7, 4),
                                          "enacted": dt.date(2025, 7, 4), "by": "Pub. L. 1", "irc": "45X(c)(2)(Q)"}
    [own] = b["cite_as_amended"]  # the rule's own, whole, not the default's
    assert (own["by"], own["irc"]) == ("Pub. L. 2", "45X(z)")
