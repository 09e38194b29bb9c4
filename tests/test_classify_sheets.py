"""`ampc classify` to a spreadsheet: the XLSX workbook (Decisions and Clauses sheets) and the CSV,
the format chosen from the output file's name, and the errors when it cannot be written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main
from ampc.io import sheets

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "catalog.csv"
WITH_ERRORS = ROOT / "examples" / "catalog_with_errors.csv"
MINERALS = ROOT / "examples" / "catalog_minerals.yaml"
DECISION_HEADERS = [c.header for c in sheets.DECISION_COLUMNS]
CLAUSE_HEADERS = [c.header for c in sheets.CLAUSE_COLUMNS]


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def jsonl(*catalogs, extra=()):
    result = run("classify", *catalogs, "--format", "jsonl", "--quiet", *extra)
    return [json.loads(line) for line in result.stdout.splitlines()]


def listing(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The workbook of the example catalog and the catalog with bad rows, format from the extension."""
    out = tmp_path_factory.mktemp("sheets") / "decisions.xlsx"
    result = run("classify", CATALOG, WITH_ERRORS, "-o", out)
    assert result.exit_code == 1, result.output  # some rows are errors, and listed
    assert f"written to {out}" in result.stderr
    return openpyxl.load_workbook(out)


@pytest.fixture(scope="module")
def records():
    return jsonl(CATALOG, WITH_ERRORS)


def test_the_workbook_has_a_decisions_and_a_clauses_sheet_with_their_headers(book):
    assert book.sheetnames == ["Decisions", "Clauses"]
    assert [c.value for c in book["Decisions"][1]] == DECISION_HEADERS
    assert [c.value for c in book["Clauses"][1]] == CLAUSE_HEADERS
    assert book["Decisions"]["A1"].font.bold


def test_every_row_read_is_a_row_products_and_errors_alike(book, records):
    rows = listing(book["Decisions"])
    assert len(rows) == len(records) == 14 + 5
    assert [r["product"] for r in rows] == [r["product"] for r in records]
    assert sum(r["outcome"] == "error" for r in rows) == sum(r["record"] == "error" for r in records) == 4


def test_outcome_and_line_are_the_records_own(book, records):
    rows = listing(book["Decisions"])
    assert [(r["outcome"], r["line"]) for r in rows] == [(r.get("outcome", "error"), r.get("line")) for r in records]
    assert {r["outcome"] for r in rows} == {"qualified", "rejected", "undetermined", "error"}


def test_header_frozen_and_autofilter_over_the_data(book):
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
    widths = book["Decisions"].column_dimensions
    assert widths["A"].width == 20 and widths["G"].width == 80  # product, reason


def test_dates_are_date_cells_and_the_row_a_number(book):
    sheet = book["Decisions"]
    row = {h: c for h, c in zip(DECISION_HEADERS, sheet[2])}
    assert row["product"].value == "INV-CEN-2000"
    for header, day in (("sale date", dt.date(2025, 4, 1)), ("production date", dt.date(2025, 3, 1)),
                        ("taxable year begins", dt.date(2025, 1, 1))):
        cell = row[header]
        assert cell.is_date and cell.number_format == "yyyy-mm-dd", header
        assert cell.value.date() == day
    assert row["row"].value == 2 and row["row"].data_type == "n"


def test_the_reason_is_the_tables_sentence_and_the_ruleset_is_named(book, records):
    rows = {r["product"]: r for r in listing(book["Decisions"]) if r["outcome"] != "error"}
    assert rows["INV-480-1000"]["reason"].startswith("no Form 7207 line: 3b rated_output_voltage 480 V is less than")
    assert rows["INV-480-1000"]["reason"][:67] in run("classify", CATALOG).stdout  # the table cuts at 70
    assert rows["INV-CEN-2000"]["decided by"] == "inverter.central"
    assert rows["INV-CEN-2000"]["rule-set sha256"] == records[0]["ruleset"]["sha256"]
    assert rows["INV-CEN-2000"]["edition"] == records[0]["ruleset"]["edition"]
    assert rows["INV-COM-50-NOV"]["outcome"] == "undetermined" and rows["INV-COM-50-NOV"]["missing facts"]
    assert rows["INV-DW-100"]["review flags"].startswith("overlap: also meets 3c commercial inverter")


def test_an_error_row_names_where_what_and_the_fix(book):
    errors = [r for r in listing(book["Decisions"]) if r["outcome"] == "error"]
    kg = next(r for r in errors if r["product"] == "INV-KG-125")
    assert kg["error at"].endswith("catalog_with_errors.csv row 4, ac_capacity")
    assert kg["reason"] == "'kg' measures mass, not power (W)"
    assert kg["fix"] and kg["line"] is None and kg["sale date"] is None


def test_a_clause_holds_numbers_with_their_unit_and_the_rules_words(book):
    clauses = listing(book["Clauses"])
    voltage = next(c for c in clauses if c["product"] == "INV-480-1000" and c["rule"] == "inverter.utility"
                   and c["fact"] == "rated_output_voltage")
    assert voltage["actual"] == 480 and voltage["threshold"] == 600
    assert isinstance(voltage["actual"], (int, float)) and not isinstance(voltage["actual"], bool)
    assert voltage["actual unit"] == voltage["threshold unit"] == "V"
    assert (voltage["operator"], voltage["verdict"], voltage["decisive"]) == ("at_least", "false", True)
    assert voltage["rule result"] == "fails" and voltage["stage"] == "classify" and voltage["line"] == "3b"
    assert voltage["clause"] == "(ii) a rated output of not less than 600 volt"  # expanded from the rule set
    assert "IRC 45X(c)(2)" in voltage["citation"]
    assert voltage["parameter"] == "inverter.utility.min_voltage"
    assert isinstance(voltage["value in force from"], dt.date)
    phase = next(c for c in clauses if c["product"] == "INV-480-1000" and c["fact"] == "phase")
    assert phase["actual"] == "three" and phase["actual unit"] is None


def test_every_decided_product_has_its_rules_in_the_clauses_sheet(book, records):
    clauses = listing(book["Clauses"])
    assert not [c for c in clauses if c["product"] == "INV-KG-125"]  # an error record has none
    for record in records:
        if record["record"] == "error":
            continue
        rules = {c["rule"] for c in clauses if c["product"] == record["product"]}
        assert rules == {c["rule"] for c in record["considered"]}, record["product"]
    held = next(c for c in clauses if c["product"] == "INV-CEN-2000" and c["rule"] == "inverter.central")
    assert held["rule result"] == "holds" and held["fact"] is None and "every clause holds" in held["clause"]


def test_a_compact_workbook_leaves_out_minerals_of_another_kind_and_a_full_one_holds_them(tmp_path):
    product = next(p for p in yaml.safe_load(MINERALS.read_text()) if p["product"] == "SN-ALPHA-002")
    catalog = tmp_path / "tin.yaml"
    catalog.write_text(yaml.safe_dump([product]))
    rules = {}
    for detail in ("compact", "full"):
        out = tmp_path / f"{detail}.xlsx"
        assert run("classify", catalog, "-o", out, "--detail", detail, "--quiet").exit_code == 0
        rules[detail] = {c["rule"] for c in listing(openpyxl.load_workbook(out)["Clauses"])}
    assert "mineral.tin.purified_alpha" in rules["compact"] and "mineral.aluminum.purified" not in rules["compact"]
    assert "mineral.aluminum.purified" in rules["full"] and rules["compact"] < rules["full"]


def test_a_number_finer_than_a_spreadsheet_holds_is_written_exactly_as_text(tmp_path):
    product = next(p for p in yaml.safe_load(MINERALS.read_text()) if p["product"] == "AL-HP-9999")
    product["facts"]["purity"] = "99.98999999999999999 %"
    catalog = tmp_path / "al.yaml"
    catalog.write_text(yaml.safe_dump([product]))
    out = tmp_path / "al.xlsx"
    run("classify", catalog, "-o", out, "--quiet", "--detail", "full")  # the clauses that hold, too
    purity = [c for c in listing(openpyxl.load_workbook(out)["Clauses"]) if c["fact"] == "purity"]
    assert purity and {c["actual"] for c in purity} == {"99.98999999999999999"}  # a double would say 99.99
    assert {c["actual unit"] for c in purity} == {"%"}
    assert all(isinstance(c["threshold"], (int, float)) for c in purity)  # the floor itself fits a double


def test_an_output_file_that_cannot_be_written_is_a_clear_error_before_deciding(tmp_path):
    for name in ("no/such/dir/out.xlsx", "no/such/dir/out.csv"):
        result = run("classify", CATALOG, "-o", tmp_path / name)
        assert result.exit_code == 2
        assert "cannot be written: No such file or directory" in result.output and "fix: give -o a file" in \
            result.output
        assert "rows read" not in result.output


def test_a_product_text_is_never_a_formula(tmp_path):
    catalog = tmp_path / "c.csv"
    lines = CATALOG.read_text().splitlines()
    catalog.write_text(lines[0] + "\n" + lines[1].replace('"2 MW central inverter, 800 V three-phase"',
                                                          '"=HYPERLINK(""http://x"")"').replace(
        "INV-CEN-2000", "#N/A") + "\n")
    out = tmp_path / "c.xlsx"
    run("classify", catalog, "-o", out, "--quiet")
    row = openpyxl.load_workbook(out)["Decisions"][2]
    assert (row[0].value, row[0].data_type) == ("#N/A", "s")
    assert (row[1].value, row[1].data_type) == ('=HYPERLINK("http://x")', "s")


def test_a_listing_longer_than_a_worksheet_goes_on_in_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_ROWS", 6)  # a header and five rows a worksheet
    out = tmp_path / "c.xlsx"
    run("classify", CATALOG, WITH_ERRORS, "-o", out, "--quiet")
    book = openpyxl.load_workbook(out)
    decisions = [s for s in book.sheetnames if s.startswith("Decisions")]
    assert decisions == ["Decisions", "Decisions 2", "Decisions 3", "Decisions 4"]
    assert book.sheetnames[:4] == decisions  # the Clauses sheets after them
    assert [book[s].max_row for s in decisions] == [6, 6, 6, 5]  # 19 rows
    rows = [r for s in decisions for r in listing(book[s])]
    assert [r["product"] for r in rows] == [r["product"] for r in jsonl(CATALOG, WITH_ERRORS)]
    for name in book.sheetnames:
        assert book[name].freeze_panes == "A2" and [c.value for c in book[name][1]][0] == "product"
        assert book[name].auto_filter.ref.endswith(str(book[name].max_row))


# ---------------------------------------------------------------------------------------------------
# CSV

GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def test_the_csv_is_the_decisions_sheet_in_plain_numbers_and_iso_dates(tmp_path, book, records):
    out = tmp_path / "c.csv"
    result = run("classify", CATALOG, WITH_ERRORS, "-o", out)
    assert result.exit_code == 1 and f"written to {out}" in result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == DECISION_HEADERS
    assert [(r["outcome"], r["line"] or None) for r in rows] == \
        [(r.get("outcome", "error"), r.get("line")) for r in records]
    sheet = listing(book["Decisions"])
    assert [r["reason"] for r in rows] == [r["reason"] for r in sheet]
    for row in rows:
        for value in row.values():
            assert "$" not in value and not GROUPED.fullmatch(value), value
        if row["outcome"] != "error":
            assert dt.date.fromisoformat(row["sale date"]) and re.fullmatch(r"\d{4}-\d\d-\d\d", row["sale date"])
        assert row["row"].isdigit()


def test_a_csv_row_number_past_a_thousand_is_written_plainly(tmp_path):
    lines = CATALOG.read_text().splitlines()
    catalog = tmp_path / "c.csv"
    catalog.write_text("\n".join([lines[0]] + [lines[1]] * 1_200) + "\n")  # the same id again: error rows
    out = tmp_path / "c.csv.out"
    assert run("classify", catalog, "--format", "csv", "-o", out, "--quiet").exit_code == 1
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows[-2:]] == ["1200", "1201"]


def test_csv_goes_to_stdout_without_an_output_file():
    result = run("classify", CATALOG, "--format", "csv", "--quiet")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["product"] for r in rows][:2] == ["INV-CEN-2000", "INV-CEN-2MW-NOV"]


# ---------------------------------------------------------------------------------------------------
# the format and the output file's name

@pytest.mark.parametrize("name,check", [
    ("r.json", lambda text: json.loads(text)[0]["product"] == "INV-CEN-2000"),
    ("r.jsonl", lambda text: json.loads(text.splitlines()[1])["product"] == "INV-CEN-2MW-NOV"),
    ("r.txt", lambda text: text.startswith("product") and "QUALIFIED" in text),
])
def test_the_output_files_extension_chooses_the_format(tmp_path, name, check):
    out = tmp_path / name
    result = run("classify", CATALOG, "-o", out, "--quiet")
    assert result.exit_code == 0
    assert check(out.read_text() if name != "r.txt" else result.stdout)


def test_an_xlsx_workbook_cannot_go_to_the_terminal():
    result = run("classify", CATALOG, "--format", "xlsx")
    assert result.exit_code == 2
    assert "cannot go to the terminal" in result.output and "add -o FILE.xlsx" in result.output


@pytest.mark.parametrize("fmt,name,words", [
    ("jsonl", "out.xlsx", "--format jsonl writes JSON lines, but the output file out.xlsx is named as an XLSX"),
    ("table", "out.csv", "write to out.txt"),
    ("csv", "out.json", "write to out.csv"),
    ("xlsx", "out.txt", "fix: -o out.xlsx"),
])
def test_a_format_that_contradicts_the_file_name_is_refused(tmp_path, fmt, name, words):
    out = tmp_path / name
    result = run("classify", CATALOG, "--format", fmt, "-o", out)
    assert result.exit_code == 2 and words in result.output, result.output
    assert not out.exists()


def test_an_explicit_format_agreeing_with_the_name_or_a_name_of_no_format_is_written(tmp_path):
    assert run("classify", CATALOG, "--format", "xlsx", "-o", tmp_path / "a.XLSX", "-q").exit_code == 0
    assert openpyxl.load_workbook(tmp_path / "a.XLSX").sheetnames == ["Decisions", "Clauses"]
    assert run("classify", CATALOG, "--format", "csv", "-o", tmp_path / "a.out", "-q").exit_code == 0
    assert (tmp_path / "a.out").read_text().startswith("product,description,outcome")


# ---------------------------------------------------------------------------------------------------
# memory

def _peak_kib(tmp_path: Path, rows: int) -> int:
    from test_memory import PEAK, ROW, SPECS
    from test_stream import HEADER
    catalog = tmp_path / f"c{rows}.csv"
    with catalog.open("w") as handle:
        handle.write(HEADER + "\n")
        for n in range(rows):
            handle.write(ROW.format(n=f"P{n}", **SPECS[n % len(SPECS)]) + "\n")
    out = tmp_path / f"r{rows}.xlsx"
    done = subprocess.run([sys.executable, "-c", PEAK, "classify", str(catalog), "--jobs", "1", "--quiet",
                           "--as-of", "2025-06-30", "-o", str(out)], capture_output=True, text=True, timeout=600)
    book = openpyxl.load_workbook(out, read_only=True)
    assert sum(1 for _ in book["Decisions"].iter_rows()) == rows + 1, done.stderr
    book.close()
    return int(done.stderr.strip().splitlines()[-1])


def test_the_workbook_is_written_in_flat_memory(tmp_path):
    small, large = _peak_kib(tmp_path, 200), _peak_kib(tmp_path, 2_000)
    assert large - small < 15 * 1024, f"peak RSS {small // 1024} MiB at 200 rows, {large // 1024} MiB at 2,000"
