"""The worksheet as a filer needs it: Part I from a facilities file (lines 1 to 6, with lines 5 and 6
stating product facts), lines 8b and 8c of an estate or trust, and the IRS e-file element of every
line, declared in YAML (definitions/facilities.yaml, definitions/form_lines.yaml, the `efile` of each
credit line in rules/credit/amounts.yaml)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "credit"
BASE = ["credit", "--catalog", str(EXAMPLE / "catalog.yaml"), "--sales", str(EXAMPLE / "sales.csv")]
FACILITIES = str(EXAMPLE / "facilities.yaml")
REFERENCE = ROOT.parent / "shared" / "reference" / "form7207-lines-rev-2025-12.md"


def run(*args: str):
    return CliRunner().invoke(main, [*BASE, *args])


def as_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def yaml_of(rel: str):
    return yaml.safe_load((ROOT / rel).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def with_part_i() -> dict:
    return as_json("--facilities", FACILITIES)


# --- Part I ------------------------------------------------------------------------------------

def test_part_i_in_json_has_the_entries_as_the_form_takes_them(with_part_i):
    plant_a, plant_b = with_part_i["worksheets"]
    p = plant_a["part_i"]
    assert p["facility"] == "PLANT-A" and p["listed"] is True
    by_line = {f["line"]: f for f in p["fields"]}
    assert by_line["1"]["value"] == "TR-2025-000123"
    assert by_line["2"]["value"] == "2023-05-01"
    by_field = {f["field"]: f for f in p["fields"]}
    assert by_field["address"]["line"] == by_field["facility_description"]["line"] == "3a"
    assert by_field["address"]["value"] == "1200 Industrial Parkway, Mesa, AZ 85215"
    assert by_field["facility_description"]["efile"] == "FacilityDesc"
    assert by_line["3b(i)"] == {"line": "3b(i)", "label": "If different than filer, enter (i) owner's name:",
                                "field": "owner_name", "efile": "FacilityOwnerBusinessName/BusinessNameLine1Txt",
                                "value": "Desert Panel Holdings LLC", "efile_alternatives": []}
    assert (by_line["3b(ii)"]["value"], by_line["3b(ii)"]["efile"]) == ("123456789", "FacilityOwnerEIN")
    # the form's boxes: a sign, two (latitude) or three (longitude) digits, a point and six digits
    assert by_line["4(i)"]["value"] == "+33.415184" and by_line["4(ii)"]["value"] == "-111.831474"
    assert by_line["5"]["value"] is False and by_line["6"]["value"] is False
    # PLANT-B's owner is the filer: line 3b blank, its element open between a person and a business
    owner = next(f for f in plant_b["part_i"]["fields"] if f["line"] == "3b(i)")
    assert owner["value"] is None and owner["efile"] == ""
    assert owner["efile_alternatives"] == ["FacilityOwnerPersonNm", "FacilityOwnerBusinessName/BusinessNameLine1Txt"]
    assert plant_b["part_i"]["fields"][-1]["value"] is False


def test_without_a_facilities_file_part_i_is_the_facility_id_only():
    data = as_json()
    assert [w["part_i"] for w in data["worksheets"]] == [None, None]
    text = run().output
    assert "Part I. Facility: PLANT-A (lines 1 to 6: give --facilities FILE)" in text


def test_part_i_in_csv_one_row_per_entry_with_its_value_and_element():
    result = run("--facilities", FACILITIES, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = [r for r in csv.DictReader(io.StringIO(result.output)) if r["status"] == "part_i"]
    plant_a = {r["line"]: r for r in rows if r["facility"] == "PLANT-A"}
    assert plant_a["6"]["value"] == "no" and plant_a["6"]["efile"] == "Section48CEligiblePropertyInd"
    assert plant_a["4(ii)"]["value"] == "-111.831474" and plant_a["4(ii)"]["efile"] == "FacilityLongitudeNum"
    assert plant_a["1"]["component"].startswith("If making an elective payment election")


def write_facilities(tmp_path: Path, text: str, name: str = "facilities.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_ledger_facility_missing_from_the_file_is_blank_and_noted_and_an_extra_one_ignored(tmp_path):
    path = write_facilities(tmp_path, "facility,related_person_election,section_48c\n"
                                      "PLANT-A,no,no\nPLANT-Z,no,no\n")
    data = as_json("--facilities", path)
    plant_b = data["worksheets"][1]["part_i"]
    assert plant_b["listed"] is False and all(f["value"] is None for f in plant_b["fields"])
    assert data["facilities_not_in_ledger"] == ["PLANT-Z"]
    text = run("--facilities", path).output
    assert "facility PLANT-B is not in the facilities file: Part I is left blank" in text
    assert "Facilities in the facilities file that no sale names (ignored): PLANT-Z." in text


@pytest.mark.parametrize("content,words", [
    ("facility,related_person_election\nPLANT-A,no\n",
     ["row 2", "no 'section_48c' (Form 7207 Part I, line 6)", "fix: add 'section_48c'"]),
    ("facility,related_person_election,section_48c,colour\nPLANT-A,no,no,blue\n",
     ["row 2", "unknown key 'colour'", "fix: use the fields of definitions/facilities.yaml"]),
    ("facility,related_person_election,section_48c\nPLANT-A,no,maybe\n",
     ["row 2, section_48c", "'maybe' is not a valid yes/no for line 6", "fix: write yes or no"]),
    ("facility,related_person_election,section_48c,latitude\nPLANT-A,no,no,95\n",
     ["row 2, latitude", "for line 4(i)", "fix: write decimal degrees from -90 to +90"]),
    ("facility,related_person_election,section_48c,owner_name\nPLANT-A,no,no,Someone\n",
     ["row 2", "'owner_name' is given without 'owner_kind'", "individual or business"]),
], ids=["missing column", "unknown key", "bad yes/no", "latitude out of range", "owner without kind"])
def test_a_bad_facilities_file_is_a_clear_error(tmp_path, content, words):
    path = write_facilities(tmp_path, content)
    result = run("--facilities", path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert path in result.output
    for w in words:
        assert w in result.output


@pytest.mark.parametrize("name,content,words", [
    ("f.yaml", "- {facility: PLANT-A, related_person_election: no, section_48c: no,\n"
               "   placed_in_service: 2024-03-01 10:30:00}\n",
     ["placed_in_service '2024-03-01 10:30:00' is a date and a time, not a date", "fix: write the date alone"]),
    ("f.json", '[{"facility": "PLANT-A", "related_person_election": "no", "section_48c": "no", '
               '"placed_in_service": 20240301}]',
     ["placed_in_service 20240301 is a number, not a date", "fix: write the date as text, YYYY-MM-DD"]),
    ("f.csv", "facility,related_person_election,section_48c,placed_in_service\nPLANT-A,no,no,2024-02-30\n",
     ["row 2, placed_in_service", "'2024-02-30' is not a date", "(line 2)"]),
], ids=["yaml timestamp", "json number", "impossible day"])
def test_a_placed_in_service_date_that_is_not_a_day_is_refused(tmp_path, name, content, words):
    """Line 2's date is a day, as every date of the catalog and the ledger: a timestamp or a number is
    refused, never read as a day (the whole file: Part I cannot be filled without it)."""
    path = write_facilities(tmp_path, content, name)
    result = run("--facilities", path)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    for w in words:
        assert w in result.output, result.output


def test_a_placed_in_service_day_is_read_from_yaml_json_and_csv(tmp_path):
    for name, content in (("f.yaml", "- {facility: PLANT-A, related_person_election: no, section_48c: no, "
                                     "placed_in_service: 2024-03-01}\n"),
                          ("f.json", '[{"facility": "PLANT-A", "related_person_election": "no", '
                                     '"section_48c": "no", "placed_in_service": "2024-03-01"}]'),
                          ("f.csv", "facility,related_person_election,section_48c,placed_in_service\n"
                                    "PLANT-A,no,no,2024-03-01\n")):
        data = as_json("--facilities", write_facilities(tmp_path, content, name))
        fields = {f["field"]: f["value"] for f in data["worksheets"][0]["part_i"]["fields"]}
        assert fields["placed_in_service"] == "2024-03-01", (name, fields)


def test_a_facility_answering_yes_on_line_6_earns_no_credit_and_a_contradiction_is_an_error(tmp_path):
    """Line 6 "yes" feeds facility_48c_credit_taken (45X(c)(1)(B)) to products that do not state it;
    a product stating the other answer is an error for its sale, never settled silently."""
    catalog = yaml.safe_load((EXAMPLE / "catalog.yaml").read_text(encoding="utf-8"))
    product = dict(next(p for p in catalog["products"] if p["product"] == "MOD-100"))
    product.pop("facility_48c_credit_taken")
    stated = {**product, "product": "MOD-STATED", "facility_48c_credit_taken": False}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump({"products": [product, stated]}), encoding="utf-8")
    (tmp_path / "sales.csv").write_text("facility,product,units,sale_date\nP1,MOD-100,10,2025-04-01\n"
                                        "P1,MOD-STATED,10,2025-04-01\n", encoding="utf-8")
    args = ["credit", "--catalog", str(tmp_path / "catalog.yaml"), "--sales", str(tmp_path / "sales.csv"),
            "--format", "json", "--facilities"]
    no = write_facilities(tmp_path, "facility,related_person_election,section_48c\nP1,no,no\n", "no.csv")
    data = json.loads(CliRunner().invoke(main, [*args, no]).output)
    assert data["worksheets"][0]["line_8a"]["exact"] != "0" and data["errors"] == []
    yes = write_facilities(tmp_path, "facility,related_person_election,section_48c\nP1,no,yes\n", "yes.csv")
    result = CliRunner().invoke(main, [*args, yes])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    sheet = data["worksheets"][0]
    assert sheet["line_8a"]["exact"] == "0"
    [rejected] = sheet["rejected"]
    assert rejected["sale"]["product"] == "MOD-100"
    assert rejected["decision"]["reason"]["rules"] == ["qualify.no_48c_facility"]
    [error] = data["errors"]
    assert "row 3" in error["where"] and error["key"] == "facility_48c_credit_taken"
    assert "answers 'section_48c' yes" in error["message"]


# --- lines 8b and 8c -----------------------------------------------------------------------------

def test_8b_equal_to_8a_is_allowed_and_8c_is_zero():
    data = as_json("--estate-or-trust-allocated", "PLANT-A=981700.00", "--estate-or-trust-allocated",
                   "PLANT-B=105000.50")
    plant_a, plant_b = data["worksheets"]
    assert plant_a["line_8a"]["cents"] == "981700.00"
    assert plant_a["line_8b"]["cents"] == "981700.00" and plant_a["line_8c"]["cents"] == "0.00"
    assert plant_b["line_8b"]["cents"] == "105000.50" and plant_b["line_8c"]["cents"] == "249.50"
    lines = {x["line"]: x for x in plant_b["form_lines"]}
    assert lines["8c"]["amount"]["cents"] == "249.50" and lines["8c"]["efile"] == "EstateTrustAdvncMfrProdCrAmt"


def test_8b_one_cent_above_8a_is_refused():
    result = run("--estate-or-trust-allocated", "PLANT-A=981700.01")
    assert result.exit_code == 2
    assert "line 8b $981,700.01 is more than line 8a $981,700.00 of facility PLANT-A" in result.output
    assert "give at most 981700.00" in result.output


@pytest.mark.parametrize("value,words", [("PLANT-A=-0.01", "is negative"), ("-5", "is negative"),
                                         ("PLANT-A=12.345", "more than two decimals"),
                                         ("PLANT-A=lots", "is not an amount in dollars")])
def test_a_negative_or_unreadable_8b_is_refused(value, words):
    result = run("--estate-or-trust-allocated", value)
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output


def test_8b_without_a_facility_needs_a_single_worksheet():
    result = run("--estate-or-trust-allocated", "100")
    assert result.exit_code == 2
    assert "2 worksheets (PLANT-A, PLANT-B), so the amount needs its facility" in result.output


def test_without_an_allocation_8b_and_8c_are_blank_not_zero():
    data = as_json()
    for sheet in data["worksheets"]:
        assert sheet["line_8b"] is None and sheet["line_8c"] is None
        lines = {x["line"]: x for x in sheet["form_lines"]}
        assert lines["8b"]["amount"] is None and lines["8c"]["amount"] is None
    text = run().output
    assert "\n8b " not in text and "\n8c " not in text
    rows = list(csv.DictReader(io.StringIO(run("--format", "csv").output)))
    blank = [r for r in rows if r["part"] == "II" and r["line"] in ("8b", "8c")]
    assert len(blank) == 4 and all(r["status"] == "blank" and not r["credit_exact"] for r in blank)


# --- the e-file elements ---------------------------------------------------------------------------

def test_every_line_carries_its_e_file_element_as_the_yaml_declares_it(with_part_i):
    credits = {c["line"]: c["efile"] for c in yaml_of("rules/credit/amounts.yaml")["credits"]}
    form = yaml_of("definitions/form_lines.yaml")
    part_i = {name: spec for name, spec in yaml_of("definitions/facilities.yaml")["fields"].items()
              if spec.get("line")}
    seen_iv = 0
    for sheet in with_part_i["worksheets"]:
        for line in sheet["part_ii"]:
            assert line["efile"] == {"column_d": credits[line["line"]]["d"], "column_e": credits[line["line"]]["e"]}
        for x in sheet["form_lines"]:
            spec = form["part_ii"][x["line"]] if x["part"] == "II" else form[f"part_{x['part'].lower()}"]["total"]
            assert x["efile"] == spec["efile"] and x["efile"]
        for line in sheet["part_iv"]:
            assert line["efile"] == form["part_iv"]["lines"][line["line"]] and line["efile"]
            seen_iv += 1
        assert [f["field"] for f in sheet["part_i"]["fields"]] == list(part_i)
        for f in sheet["part_i"]["fields"]:
            declared = part_i[f["field"]]["efile"]
            if isinstance(declared, str):
                assert f["efile"] == declared
            else:
                assert f["efile"] in declared.values() or f["efile_alternatives"] == list(declared.values())
    assert seen_iv == 1
    # every credit line and every Part IV line a rule concludes has one
    assert all(e.get("d") and e.get("e") for e in credits.values())
    assert sorted(form["part_iv"]["lines"], key=int) == [str(n) for n in range(1, 74)]


def test_the_e_file_elements_spot_checked_against_the_form():
    reference = REFERENCE.read_text(encoding="utf-8") if REFERENCE.is_file() else ""
    credits = {c["line"]: c["efile"] for c in yaml_of("rules/credit/amounts.yaml")["credits"]}
    form = yaml_of("definitions/form_lines.yaml")
    fields = yaml_of("definitions/facilities.yaml")["fields"]
    expected = {  # as ../shared/reference/form7207-lines-rev-2025-12.md lists them
        "8a": (form["part_ii"]["8a"]["efile"], "AdvncManufacturingProdCrAmt"),
        "8b": (form["part_ii"]["8b"]["efile"], "EstateOrTrustAllocatedBenefAmt"),
        "8c": (form["part_ii"]["8c"]["efile"], "EstateTrustAdvncMfrProdCrAmt"),
        "7": (form["part_ii"]["7"]["efile"], "AdvncMfrPrdCrOthEntitiesAmt"),
        "1a(d)": (credits["1a"]["d"], "PhotovoltaicCellGrp/UnitsProducedQty"),
        "2a(e)": (credits["2a"]["e"], "RelatedOffshoreWindVesselCrAmt"),
        "6a(e)": (credits["6a"]["e"], "ApplcblCriticalMineralsCrAmt"),
        "IV 44": (form["part_iv"]["lines"]["44"], "NeodymiumConvertedCostAmt"),
        "IV 74": (form["part_iv"]["total"]["efile"], "TotalCostsAmt"),
        "I 5": (fields["related_person_election"]["efile"], "Section45Xa3BElectionInd"),
        "I 6": (fields["section_48c"]["efile"], "Section48CEligiblePropertyInd"),
    }
    for line, (ours, form_says) in expected.items():
        assert ours == form_says, line
        if reference:
            assert f"`{form_says.split('/')[0]}" in reference, line


def test_the_json_schema_of_the_worksheet_has_the_new_parts():
    result = CliRunner().invoke(main, ["schema", "worksheet"])
    schema = json.loads(result.output)
    sheet = schema["$defs"]["FacilityWorksheet"]["properties"]
    assert {"part_i", "line_8b", "line_8c", "form_lines"} <= set(sheet)
    assert "efile" in schema["$defs"]["PartIILine"]["properties"]
    assert "efile" in schema["$defs"]["PartIField"]["properties"]
