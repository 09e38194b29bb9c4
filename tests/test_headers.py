"""Column headers as compliance staff write them: case and spacing ignored, units in brackets or
parentheses, aliases from definitions/, a --map file for any other header; an unknown column is
reported once and left out (--strict: an error for each row that fills it)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "catalog.csv"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def records(result) -> dict[str, dict]:
    return {r["product"]: r for r in map(json.loads, result.stdout.splitlines())}


def decisions(result) -> dict[str, tuple]:
    """What a decision says, apart from how its inputs were written."""
    out = {}
    for pid, r in records(result).items():
        out[pid] = (r["outcome"], r.get("line"), tuple(r.get("decided_by", ())), json.dumps(r.get("considered")),
                    json.dumps(r.get("missing")))
    return out


def human_twin(tmp_path, rename: dict[str, str], kw: bool = True) -> Path:
    """examples/catalog.csv with some headers renamed; ac_capacity restated in kW if its header says so."""
    with CATALOG.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    capacity = header.index("ac_capacity")
    out = [[rename.get(h, h) for h in header]]
    for row in rows[1:]:
        row = list(row)
        if kw and row[capacity]:
            number, unit = row[capacity].split()
            row[capacity] = str(float(number) * {"MW": 1000, "kW": 1, "W": 0.001}[unit]).removesuffix(".0")
        out.append(row)
    path = tmp_path / "human.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(out)
    return path


HUMAN = {"product": "Product ID", "ac_capacity": "AC Capacity (kW)",
         "rated_output_voltage [V]": "Rated output voltage (V)"}


def test_a_catalog_with_headers_in_words_is_decided_like_its_canonical_twin(tmp_path):
    human = human_twin(tmp_path, HUMAN)
    mine = run("classify", human, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    canonical = run("classify", CATALOG, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    assert mine.exit_code == canonical.exit_code == 0, mine.output
    assert decisions(mine) == decisions(canonical)
    assert "warning" not in mine.stderr
    inverter = records(mine)["INV-CEN-2000"]
    assert inverter["inputs"]["header_units"] == {"ac_capacity": "kW", "rated_output_voltage": "V"}
    assert inverter["facts"] == {} or inverter["facts"]["ac_capacity"]["value"] == "2000000"


def test_a_workbook_with_headers_in_words_is_read_the_same(tmp_path):
    human = human_twin(tmp_path, HUMAN)
    book = openpyxl.Workbook()
    sheet = book.active
    with human.open(newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    path = tmp_path / "human.xlsx"
    book.save(path)
    mine = run("classify", path, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    canonical = run("classify", CATALOG, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    assert decisions(mine) == decisions(canonical)


def test_case_spacing_punctuation_labels_and_declared_aliases_name_the_fact(tmp_path):
    rename = {"product": "  PRODUCT  ", "phase": "Output Phase", "produced_in": "Place of production",
              "sale_date": "Date of sale", "is_end_product": "Is-End-Product",
              "ac_capacity": "Capacity (AC) [kW]", "rated_output_voltage [V]": "output voltage [V]"}
    mine = run("classify", human_twin(tmp_path, rename), "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    canonical = run("classify", CATALOG, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    assert decisions(mine) == decisions(canonical)
    assert "warning" not in mine.stderr


def test_a_bad_unit_in_a_header_in_words_names_the_column(tmp_path):
    path = human_twin(tmp_path, {"ac_capacity": "AC Capacity (kilofoo)"})
    result = run("classify", path, "--as-of", "2025-06-30")
    assert result.exit_code == 2
    assert "header, column 10 (AC Capacity (kilofoo))" in result.output and "kilofoo" in result.output


def test_apparent_power_in_a_header_in_words_is_an_error_for_each_row(tmp_path):
    path = human_twin(tmp_path, {"ac_capacity": "AC Capacity (kVA)"})
    result = run("classify", path, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    assert result.exit_code == 1
    got = records(result)
    filled = [r for r in got.values() if r["inputs"]["values"].get("ac_capacity")]
    assert filled and all(r["record"] == "error" and "apparent power" in r["error"]["message"] for r in filled)


def test_an_unknown_column_is_reported_once_and_left_out(tmp_path):
    path = human_twin(tmp_path, {"ac_capacity": "AC capcity"}, kw=False)
    result = run("classify", path, "--as-of", "2025-06-30", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "header, column 10: unknown column or key 'AC capcity' (did you mean 'ac_capacity'?)" in warnings[0]
    got = records(result)
    assert len(got) == 14  # every row decided
    assert got["INV-CEN-2000"]["outcome"] == "undetermined" and "ac_capacity" in got["INV-CEN-2000"]["missing"]


def test_strict_makes_an_unknown_column_an_error_for_each_row_that_fills_it(tmp_path):
    path = human_twin(tmp_path, {"ac_capacity": "AC capcity"}, kw=False)
    result = run("classify", path, "--as-of", "2025-06-30", "--format", "jsonl", "--strict")
    assert result.exit_code == 1
    got = records(result)
    errors = [r for r in got.values() if r["record"] == "error"]
    filled = sum(1 for r in csv.DictReader(path.open()) if r["AC capcity"])
    assert len(errors) == filled and len(got) == 14
    assert "unknown column or key 'AC capcity' (did you mean 'ac_capacity'?)" in errors[0]["error"]["message"]


def test_a_map_file_names_any_other_header(tmp_path):
    path = human_twin(tmp_path, {"product": "Artikelnummer", "ac_capacity": "Leistung AC",
                                 "rated_output_voltage [V]": "Spannung (V)"})
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Artikelnummer: product\nLeistung AC: ac_capacity [kW]\nSpannung: rated_output_voltage\n")
    mine = run("classify", path, "--map", mapping, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    canonical = run("classify", CATALOG, "--as-of", "2025-06-30", "--format", "jsonl", "-q")
    assert mine.exit_code == 0, mine.output
    assert decisions(mine) == decisions(canonical)


def test_a_map_to_no_fact_is_refused_naming_its_line(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Artikelnummer: product\nLeistung AC: ac_capacty\n")
    result = run("classify", CATALOG, "--map", mapping)
    assert result.exit_code == 2
    assert f"{mapping}:2" in result.output and "did you mean 'ac_capacity'" in result.output


def test_two_headers_for_one_fact_are_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Product ID,AC Capacity (kW),ac_capacity\nA,5,5 kW\n")
    result = run("classify", path)
    assert result.exit_code == 2
    assert "columns 'AC Capacity (kW)' and 'ac_capacity' both give ac_capacity" in result.output


def test_an_unknown_key_in_one_row_of_a_yaml_catalog_is_reported_and_the_row_decided(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("products:\n"
                    "  - {product: A, component: inverter, ac_capacty: 5 kW}\n"
                    "  - {product: B, component: inverter, ac_capacty: 6 kW}\n"
                    "  - {product: C, Component: inverter, AC Capacity (kW): 5}\n")
    result = run("classify", path, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "product #1 (line 2)" in warnings[0] and "ac_capacty" in warnings[0]
    got = records(result)
    assert [r["record"] for r in got.values()] == ["decision"] * 3
    assert got["C"]["inputs"]["values"]["ac_capacity"] == 5


def test_an_unknown_key_in_strict_mode_is_an_error_for_that_row_only(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"product": "A", "component": "inverter", "ac_capacty": "5 kW"},
                                {"product": "B", "component": "inverter"}]))
    result = run("classify", path, "--format", "jsonl", "--strict")
    assert result.exit_code == 1
    got = records(result)
    assert got["A"]["record"] == "error" and got["B"]["record"] == "decision"


def test_explain_reads_headers_in_words_too(tmp_path):
    result = run("explain", human_twin(tmp_path, HUMAN), "--product", "INV-SUN-250", "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    assert "QUALIFIED" in result.output


def test_a_sales_ledger_with_headers_in_words_gives_the_same_worksheet(tmp_path):
    credit = ROOT / "examples" / "credit"
    text = (credit / "sales.csv").read_text()
    header, rest = text.split("\n", 1)
    words = {"facility": "Facility", "product": "Product ID", "units": "Units sold", "sale_date": "Date of sale",
             "production_date": "Production Date", "turbine_capacity [MW]": "Turbine Capacity (MW)"}
    human = tmp_path / "sales.csv"
    human.write_text(",".join(words.get(h, h) for h in header.split(",")) + "\n" + rest)
    args = ("--catalog", credit / "catalog.yaml", "--tax-year", "2025", "--format", "json")
    mine = run("credit", *args, "--sales", human)
    canonical = run("credit", *args, "--sales", credit / "sales.csv")
    assert mine.exit_code == canonical.exit_code, mine.output
    same_file = mine.stdout.replace(str(human), str(credit / "sales.csv"))  # each sale names its file
    assert json.loads(same_file)["worksheets"] == json.loads(canonical.stdout)["worksheets"]
    assert "warning" not in mine.stderr


def test_credit_reports_an_unknown_ledger_column_once(tmp_path):
    credit = ROOT / "examples" / "credit"
    text = (credit / "sales.csv").read_text().replace("claimed_line", "claimed_lien", 1)
    path = tmp_path / "sales.csv"
    path.write_text(text)
    result = run("credit", "--catalog", credit / "catalog.yaml", "--sales", path, "--tax-year", "2025")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "'claimed_lien' (did you mean 'claimed_line'?)" in warnings[0]


def test_the_bundled_catalog_in_words_is_decided_as_its_descriptions_say():
    result = run("classify", ROOT / "examples" / "catalog_in_words.csv", "--as-of", "2025-06-30",
                 "--format", "jsonl", "-q")
    assert result.exit_code == 1
    got = {pid: (r["outcome"] if r["record"] == "decision" else "error", r.get("line"))
           for pid, r in records(result).items()}
    assert got == {"WRD-CEN-2000": ("qualified", "3a"), "WRD-UTL-500": ("qualified", "3b"),
                   "WRD-COM-100": ("qualified", "3c"), "WRD-RES-7": ("qualified", "3d"),
                   "WRD-MEX-100": ("rejected", None), "WRD-TYPO-100": ("error", None)}
