"""The `ampc` command line as compliance staff and auditors use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
CATALOG = str(ROOT / "examples" / "catalog.csv")
QUALIFY = ("produced_in,sold_in_trade_or_business,sold_to_related_person,related_person_election,"
           "integrated_into_component_sold_to_unrelated,facility_48c_credit_taken,production_date,sale_date")
QUALIFY_VALUES = "United States,yes,no,no,no,no,2025-03-01,2025-05-01"
INVERTER = ("product,component,is_end_product,converts_dc_to_ac,dc_source,suitable_for,phase,"
            "rated_output_voltage,connects_to_one_module,used_with_certified_distributed_wind")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def inverter_csv(tmp_path, capacity_header, *capacities, qualify=True):
    """A CSV of 100 kW-class inverters differing only in how ac_capacity is written."""
    header = INVERTER + f",{capacity_header}" + ("," + QUALIFY if qualify and _has_qualification() else "")
    lines = [header]
    for n, capacity in enumerate(capacities):
        row = f"P{n},inverter,yes,yes,solar_module,commercial,three,480 V,no,no,{capacity}"
        if qualify and _has_qualification():
            row += "," + QUALIFY_VALUES
        lines.append(row)
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _has_qualification() -> bool:
    return (ROOT / "definitions" / "facts" / "qualification.yaml").is_file()


def test_classify_json_records_carry_the_keys_users_rely_on():
    result = run("classify", CATALOG, "--format", "json", "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(Path(CATALOG).read_text().strip().splitlines()) - 1
    for record in records:
        for key in ("product", "outcome", "line", "reason", "considered", "ruleset", "dates", "inputs", "software"):
            assert key in record
        assert len(record["ruleset"]["sha256"]) == 64 and record["dates"]["sale"] == "2025-06-30"


def test_classify_jsonl_is_one_record_per_line():
    result = run("classify", CATALOG, "--format", "jsonl", "--as-of", "2025-06-30")
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["product"] for line in lines][:2] == ["INV-CEN-2000", "INV-CEN-2MW-NOV"]


@pytest.mark.parametrize("header,values", [
    ("ac_capacity", ["125 kW", "125000", "0.125 MW", "125000 W"]),
    ("ac_capacity [kW]", ["125", "125.000"]),
    ("ac_capacity (MW)", ["0.125"]),
])
def test_the_same_capacity_however_written_gives_the_same_decision(tmp_path, header, values):
    path = inverter_csv(tmp_path, header, *values)
    records = json.loads(run("classify", path, "--format", "json", "--as-of", "2025-06-30",
                             "--detail", "full").stdout)  # the full record writes the facts as read
    assert {r["classified_line"] for r in records} == {"3c"}
    assert len({json.dumps(r["considered"], sort_keys=True) for r in records}) == 1
    assert len({json.dumps(r["facts"], sort_keys=True) for r in records}) == 1
    assert records[0]["facts"]["ac_capacity"] == {"type": "quantity", "value": "125000", "unit": "W"}


def test_a_wrong_unit_is_an_error_row_naming_row_column_and_fix(tmp_path):
    path = inverter_csv(tmp_path, "ac_capacity", "100 kW", "125 kg", "125 kVA")
    result = run("classify", path, "--as-of", "2025-06-30")
    assert result.exit_code == 1
    assert "row 3, ac_capacity: 'kg' measures mass, not power (W)" in result.output
    assert "row 4, ac_capacity: 'kVA' is apparent power" in result.output
    assert "fix: give the value in W" in result.output
    assert "P0" in result.output and "3 products" in result.output  # nothing lost


def test_a_bare_number_in_the_header_unit_and_a_unit_in_the_cell_is_refused(tmp_path):
    path = inverter_csv(tmp_path, "ac_capacity [kW]", "125 kW")
    result = run("classify", path, "--as-of", "2025-06-30")
    assert result.exit_code == 1 and "give the unit in one place" in result.output


def test_a_missing_product_column_stops_with_a_clear_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("prodcut,component\nA,inverter\n")
    result = run("classify", path)
    assert result.exit_code == 2
    assert "no 'product' column (did you mean 'prodcut'?)" in result.output


def test_an_unknown_column_is_reported_with_did_you_mean_and_its_rows_decided(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("product,component,ac_capacty\nA,inverter,5 kW\n")
    result = run("classify", path)
    assert result.exit_code == 0
    assert "header, column 3: unknown column or key 'ac_capacty' (did you mean 'ac_capacity'?)" in result.stderr
    assert "1 products: 1 undetermined" in result.stdout
    strict = run("classify", path, "--strict")
    assert strict.exit_code == 1
    assert "row 2: unknown column or key 'ac_capacty' (did you mean 'ac_capacity'?)" in strict.output
    assert "1 products: 1 error" in strict.output


def test_explain_a_rejected_product_in_the_instructions_words():
    result = run("explain", CATALOG, "--product", "INV-480-1000", "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "REJECTED" in out
    assert "rated_output_voltage 480 V is less than 600 V" in out
    assert '"(ii) a rated output of not less than 600 volt"' in out
    assert "ac_capacity 1,000,000 W is more than 125,000 W" in out
    assert "IRC 45X(c)(2)(G)" in out and "as of 2025-06-30" in out and "sha256" in out


def test_explain_an_unknown_product_is_a_clear_error():
    result = run("explain", CATALOG, "--product", "INV-480-100")
    assert result.exit_code == 2 and "did you mean 'INV-480-1000'" in result.output


def test_facts_lists_the_vocabulary_with_units():
    result = run("facts", "--format", "json")
    facts = {f["name"]: f for f in json.loads(result.output)}
    assert facts["ac_capacity"]["unit"] == "W" and facts["rated_output_voltage"]["unit"] == "V"
    assert "single" in facts["phase"]["values"]


def test_xlsx_catalog(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    header = (INVERTER + ",ac_capacity [kW]").split(",")
    sheet.append(header)
    sheet.append(["X1", "inverter", "yes", "yes", "solar_module", "commercial", "three", "480 V", "no", "no", 125])
    path = tmp_path / "c.xlsx"
    book.save(path)
    records = json.loads(run("classify", path, "--format", "json", "--as-of", "2025-06-30").stdout)
    assert records[0]["considered"]
    assert any(c["rule"] == "inverter.commercial" and c["result"] == "holds" for c in records[0]["considered"])


def test_the_example_catalogs_put_a_product_on_every_line():
    """One product of every Part II line, each on its line; nothing in them is an error row."""
    examples = ROOT / "examples"
    result = run("classify", examples / "catalog_part_ii.yaml", examples / "catalog_minerals.yaml", CATALOG,
                 examples / "catalog_2025_amendments.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert not [r for r in records if r["outcome"] == "error"]
    qualified_lines = {r["line"] for r in records if r["outcome"] == "qualified"}
    every_line = {"1a", "1b", "1c", "1d", "1e", "1f", "1g", "2a", "2b", "2c", "2d", "2e", "2f",
                  "3a", "3b", "3c", "3d", "3e", "3f", "4a", "5a", "5b", "5c", "6a", "6b"}
    assert every_line <= qualified_lines, sorted(every_line - qualified_lines)
    part_iv = {r["derived"]["part_iv_line"]["value"] for r in records if r["line"] == "6a"}
    assert len(part_iv) >= 15


def test_a_rejected_mineral_explains_its_own_forms_and_counts_the_others():
    minerals = ROOT / "examples" / "catalog_minerals.yaml"
    out = run("explain", minerals, "--product", "SN-ALPHA-002").output
    assert "Tin purified to a low alpha emitting tin" in out and "alpha_emission_rate 0.02" in out
    assert "71 other candidate(s) fail on the kind they name" in out
    assert "mineral tin is not aluminum" in out and "Aluminum purified" not in out
    record = json.loads(run("explain", minerals, "--product", "SN-ALPHA-002", "--format", "json").output)[0]
    assert sum(1 for c in record["considered"] if c["stage"] == "classify") == 73


def test_a_rejected_inverter_explains_every_class():
    out = run("explain", CATALOG, "--product", "INV-480-1000", "--as-of", "2025-06-30").output
    for line in ("3a", "3b", "3c", "3d", "3e", "3f"):
        assert f"x {line}" in out
    assert "other candidate(s)" not in out
