"""Values as people write them: places, yes/no, enum aliases; a value that names nothing is an
error for its row naming the fact, the value and the closest allowed values, never a rejection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main
from ampc.decide.pipeline import decide_mappings
from ampc.rules.loader import load_ruleset

ROOT = Path(__file__).resolve().parent.parent

# an inverter that qualifies on line 3b when produced in the United States
UTILITY = {"component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
           "dc_source": "solar_module", "suitable_for": "utility_scale", "phase": "three",
           "rated_output_voltage": "800 V", "ac_capacity": "500 kW", "connects_to_one_module": False,
           "used_with_certified_distributed_wind": False, "sold_in_trade_or_business": True,
           "sold_to_related_person": False, "related_person_election": False,
           "integrated_into_component_sold_to_unrelated": False, "facility_48c_credit_taken": False,
           "produced_in": "United States", "production_date": "2025-03-01", "sale_date": "2025-05-01"}


def decided(decider, **facts):
    record = decide_mappings([{"product": "P", **UTILITY, **facts}], "test", decider)[0]
    return record


def outcome(decider, place):
    record = decided(decider, produced_in=place)
    return record.outcome, record.line


@pytest.mark.parametrize("place", ["United States", "USA", "US", "U.S.", "U.S.A.", "united states of america",
                                   "America", "  UNITED   states ", "USA\u200b", "U\u00a0S", "\ufeffUSA"])
def test_every_spelling_of_the_united_states_is_the_united_states(decider, place):
    assert outcome(decider, place) == ("qualified", "3b")
    assert decided(decider, produced_in=place).facts["produced_in"].value == "united_states"


@pytest.mark.parametrize("place", ["Ohio", "OH", "oh", "Texas", "TX", "New York", "NY", "Georgia", "GA",
                                   "California", "CA", "Washington", "WA", "Wyoming", "WY"])
def test_a_state_by_name_or_postal_code_is_the_united_states(decider, place):
    assert outcome(decider, place) == ("qualified", "3b")


@pytest.mark.parametrize("place", ["District of Columbia", "DC", "D.C.", "Washington, D.C."])
def test_the_district_of_columbia_is_the_united_states(decider, place):
    assert outcome(decider, place) == ("qualified", "3b")


@pytest.mark.parametrize("place,value", [("Puerto Rico", "puerto_rico"), ("PR", "puerto_rico"),
                                         ("Guam", "guam"), ("GU", "guam"), ("USVI", "us_virgin_islands"),
                                         ("U.S. Virgin Islands", "us_virgin_islands"), ("VI", "us_virgin_islands"),
                                         ("American Samoa", "american_samoa"), ("AS", "american_samoa"),
                                         ("CNMI", "northern_mariana_islands"), ("MP", "northern_mariana_islands"),
                                         ("Wake Island", "us_minor_outlying_islands")])
def test_a_possession_by_name_or_code_qualifies(decider, place, value):
    record = decided(decider, produced_in=place)
    assert (record.outcome, record.line) == ("qualified", "3b")
    assert record.facts["produced_in"].value == value


@pytest.mark.parametrize("place", ["U.S. continental shelf", "Outer Continental Shelf", "OCS"])
def test_the_continental_shelf_qualifies(decider, place):
    assert outcome(decider, place) == ("qualified", "3b")


@pytest.mark.parametrize("place", ["Canada", "Mexico", "MEX", "China", "Germany", "DEU", "GEO",
                                   "Georgia (country)", "outside the United States", "British Virgin Islands",
                                   "Virgin Islands, British"])
def test_a_foreign_country_is_outside_the_united_states_and_rejected(decider, place):
    record = decided(decider, produced_in=place)
    assert record.outcome == "rejected"
    assert record.facts["produced_in"].value == "outside_united_states"
    failed = record.considered_rule("qualify.produced_in_united_states")
    assert failed.result == "fails"


@pytest.mark.parametrize("place", ["Untied States", "Amerika", "<b>US</b>", "Ohio River", "Virgin Islands",
                                   "continental shelf", "CAN ADA X", "-", "USA;Canada"])
def test_a_place_that_names_nothing_is_an_error_never_a_rejection(decider, place):
    record = decided(decider, produced_in=place)
    assert record.outcome == "error", (place, record.outcome)
    assert record.error.key == "produced_in"
    assert "is not a value of produced_in" in record.error.message
    assert "united_states" in record.error.fix


def test_the_error_names_the_closest_allowed_values(decider):
    record = decided(decider, produced_in="Untied States")
    assert "did you mean 'United States' (united_states)" in record.error.message


@pytest.mark.parametrize("word,value", [("yes", True), ("YES", True), ("y", True), ("true", True), ("True", True),
                                        ("1", True), (1, True), ("no", False), ("N", False), ("false", False),
                                        ("0", False), (0, False), (" no\u200b", False)])
def test_yes_no_words(decider, word, value):
    record = decided(decider, sold_to_related_person=word)
    assert record.facts["sold_to_related_person"].value is value


@pytest.mark.parametrize("word", ["maybe", "2", "yess", "nope", "-1", "t", "0.5"])
def test_anything_else_for_a_yes_no_fact_is_an_error(decider, word):
    record = decided(decider, sold_to_related_person=word)
    assert record.outcome == "error" and record.error.key == "sold_to_related_person"
    assert "is not yes or no" in record.error.message


@pytest.mark.parametrize("word", ["Three", "THREE", " three "])
def test_every_enum_compares_without_case_or_spacing(decider, word):
    assert decided(decider, phase=word).facts["phase"].value == "three"


@pytest.mark.parametrize("word", ["Utility Scale", "utility-scale", "UTILITY_SCALE"])
def test_an_enum_value_written_in_words_is_the_value(decider, word):
    record = decided(decider, suitable_for=word)
    assert record.outcome == "qualified" and record.line == "3b"


def test_an_unknown_enum_value_is_an_error_naming_the_closest(decider):
    record = decided(decider, phase="tree")
    assert record.outcome == "error" and "did you mean 'three'" in record.error.message


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_an_unknown_place_is_an_error_for_its_row_and_the_others_are_decided(tmp_path):
    rows = [{"product": "US-1", **UTILITY, "produced_in": "OH"},
            {"product": "BAD", **UTILITY, "produced_in": "Untied States"},
            {"product": "PR-1", **UTILITY, "produced_in": "PR"}]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(rows))
    result = run("classify", path, "--format", "jsonl", "-q")
    assert result.exit_code == 1
    records = {r["product"]: r for r in map(json.loads, result.output.splitlines())}
    assert (records["US-1"]["outcome"], records["US-1"]["line"]) == ("qualified", "3b")
    assert (records["PR-1"]["outcome"], records["PR-1"]["line"]) == ("qualified", "3b")
    assert records["BAD"]["record"] == "error"
    assert "united_states" in records["BAD"]["error"]["fix"]


def copy_rules(tmp_path) -> Path:
    for sub in ("rules", "definitions"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    return tmp_path


def test_a_word_given_to_two_values_is_a_validation_error(tmp_path):
    root = copy_rules(tmp_path)
    path = root / "definitions" / "facts" / "qualification.yaml"
    text = path.read_text()
    path.write_text(text.replace("[Guam, GU, GUM]", "[Guam, GU, GUM, PR]", 1))
    result = run("validate", root)
    assert result.exit_code == 1
    assert "qualification.yaml:" in result.output and "'PR' names both puerto_rico and guam" in result.output


def test_the_bundled_place_vocabulary_validates(tmp_path):
    ruleset = load_ruleset(ROOT)
    fact = ruleset.facts["produced_in"]
    assert "united_states" in fact.values and "outside_united_states" in fact.values
    assert fact.words["oh"] == "united_states" and fact.words["ca"] == "united_states"
    assert fact.words["can"] == "outside_united_states" and fact.words["canada"] == "outside_united_states"
