"""The credit as spreadsheets: `ampc credit -o worksheet.xlsx` (the Form 7207 sheet laid out as the
form, the Sales, Rejected, Undetermined and Notes sheets), the CSV with plain numbers and the same
content, the Markdown complete with Parts III and IV, line 7 and the notes; every amount is the JSON
worksheet's for the same inputs; the format follows the output file's extension."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INVERTERS = ROOT / "tests" / "cases" / "part_ii" / "line_03_inverters.yaml"
SHEETS = ["Form 7207", "Sales", "Rejected", "Undetermined", "Notes"]
HEADER = ("facility,product,units,sale_date,production_date,turbine_capacity [MW],costs,claimed_line,sales_price,"
          "vessel_name,vessel_purpose,vessel_number,vessel_status\n")
# examples/credit/sales.csv, and besides: a related offshore wind vessel (Part III), a module sold in
# the phase-out years (50 %), an undetermined inverter, an unknown product (a row that cannot be
# computed), a mineral whose amount applies an open reading (flagged for review), and one whose
# credit is a fraction of a cent (line 6a's exact amount is not its amount to the cent).
MORE = ("PLANT-A,WND-VESSEL-WTIV,1,2025-10-01,2025-02-03,,,2a,185000000.00 USD,Sea Builder,turbine installation,"
        "1234567,new\n"
        "PLANT-A,MOD-100,300,2031-06-30,2025-03-01,,,1e,,,,,\n"
        "PLANT-B,INV-500-?,4,2025-04-01,,,,3e,,,,,\n"
        "PLANT-B,NOPE,1,2025-04-01,,,,,,,,,\n"
        "PLANT-B,LI-OH,1,2030-09-01,2030-06-30,,1000.00 USD,6a,,,,,\n"
        "PLANT-B,LI-OH,1,2025-09-02,2025-06-30,,0.15 USD,6a,,,,,\n")
CURRENCY = "$"  # in the number format of an amount cell


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    tmp = tmp_path_factory.mktemp("sheets")
    defaults = yaml.safe_load(INVERTERS.read_text())["defaults"]["facts"]
    facts = dict(defaults, suitable_for=["residence"], phase="single", rated_output_voltage="240 V",
                 ac_capacity="500 W")
    facts.pop("connects_to_one_module", None)  # a microinverter or a residential one: undetermined
    (tmp / "inverter.yaml").write_text(yaml.safe_dump([dict(facts, product="INV-500-?")]))
    example = (EXAMPLES / "credit" / "sales.csv").read_text().splitlines()[1:]
    (tmp / "sales.csv").write_text(HEADER + "".join(row + ",,,,,\n" for row in example) + MORE)
    return ["credit", "--catalog", str(EXAMPLES / "credit" / "catalog.yaml"), "--catalog",
            str(EXAMPLES / "catalog_part_ii.yaml"), "--catalog", str(tmp / "inverter.yaml"), "--sales",
            str(tmp / "sales.csv"), "--facilities", str(EXAMPLES / "credit" / "facilities.yaml"),
            "--estate-or-trust-allocated", "PLANT-A=1000"]


def invoke(args: list[str], code: int = 1):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def data(inputs) -> dict:
    return json.loads(invoke([*inputs, "--format", "json"]).stdout)


@pytest.fixture(scope="module")
def book(inputs, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "worksheet.xlsx"
    invoke([*inputs, "-o", str(path)])  # the format from the extension
    return load_workbook(path)


@pytest.fixture(scope="module")
def csv_rows(inputs) -> list[dict]:
    return list(csv.DictReader(io.StringIO(invoke([*inputs, "--format", "csv"]).stdout)))


@pytest.fixture(scope="module")
def form(book) -> dict:
    """The Form 7207 sheet read back: {(facility, part, line): the row's cells}, Part III's total as
    line "total"."""
    out, facility, part = {}, None, None
    for row in book["Form 7207"].iter_rows(min_row=2):
        first = row[0].value
        if isinstance(first, str) and first.startswith("Form 7207 worksheet: facility "):
            facility, part = first.removeprefix("Form 7207 worksheet: facility ").split(",")[0], None
        elif isinstance(first, str) and first.startswith("Part "):
            part = first.split(".")[0].removeprefix("Part ")
        elif first == "line" or all(c.value is None for c in row):
            continue
        elif first is not None or row[1].value:
            out[(facility, part, first or "total")] = row
    return out


def listing(book, title: str) -> list[dict]:
    rows = list(book[title].iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:]]


def number(cell) -> Decimal | None:
    """A numeric cell's value, exactly as written (None: blank); a text cell fails."""
    if cell.value is None:
        return None
    assert cell.data_type == "n" and isinstance(cell.value, (int, float)), (cell.coordinate, cell.value)
    return Decimal(str(cell.value))


def amount(cell) -> Decimal | None:
    """An amount cell: a number in a currency format."""
    if cell.value is not None:
        assert CURRENCY in cell.number_format, (cell.coordinate, cell.number_format)
    return number(cell)


def exact(money: dict | None) -> Decimal | None:
    return Decimal(money["exact"]) if money else None


# --- the workbook --------------------------------------------------------------------------------

def test_the_workbook_has_its_five_sheets_with_frozen_headers_filters_and_widths(book):
    assert book.sheetnames == SHEETS
    assert book["Form 7207"].freeze_panes == "C2"
    assert book["Form 7207"].column_dimensions["B"].width >= 40
    for title in SHEETS[1:]:
        ws = book[title]
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])


def test_every_part_ii_line_and_total_is_the_json_amount_in_a_currency_cell(book, form, data):
    for sheet in data["worksheets"]:
        facility = sheet["facility"]
        for line in sheet["part_ii"]:
            row = form[(facility, "II", line["line"])]
            assert row[1].value == line["column_a"]
            assert amount(row[9]) == exact(line["credit"])  # (e), exact
            assert amount(row[10]) == (Decimal(line["credit"]["whole_dollars"]) if line["credit"] else None)
            aggregate = line["aggregate"]
            assert number(row[5]) == (Decimal(aggregate["value"]) if aggregate else None)  # (d)
            assert row[7].value == line["sales"]
            rate = line["rate"]["value"]
            percent = rate["unit"] == "percent"
            assert number(row[3]) == Decimal(rate["value"]) / (100 if percent else 1)  # (c)
        for x in sheet["form_lines"]:
            key = (facility, x["part"], x["line"] or "total")
            cell = form[key][9] if x["part"] == "II" else form[key][5]
            assert amount(cell) == exact(x["amount"]), key
        assert amount(form[(facility, "II", "8a")][9]) == Decimal(sheet["line_8a"]["exact"])
    by_facility = {s["facility"]: s for s in data["worksheets"]}
    plant_a, plant_b = by_facility["PLANT-A"], by_facility["PLANT-B"]
    assert exact(plant_a["line_8c"]) == exact(plant_a["line_8a"]) - 1000  # the allocation given
    assert exact(next(x["credit"] for x in plant_b["part_ii"] if x["line"] == "6a")) == Decimal("25100.015")


def test_line_7_lines_8b_8c_and_parts_iii_and_iv_are_laid_out_as_the_form(form, data):
    labels = yaml.safe_load((ROOT / "definitions" / "form_lines.yaml").read_text())
    for sheet in data["worksheets"]:
        facility = sheet["facility"]
        seven = form[(facility, "II", "7")]
        assert seven[1].value == " ".join(labels["part_ii"]["7"]["label"].split()) and seven[9].value is None
        assert seven[2].value == "not computed" and seven[12].value == "AdvncMfrPrdCrOthEntitiesAmt"
        assert {(facility, "II", line) for line in ("8b", "8c")} <= form.keys()
        assert [k[2] for k in form if k[:2] == (facility, "IV")] == [str(n) for n in range(1, 75)]
        costs = {x["line"]: Decimal(x["costs"]) for x in sheet["part_iv"]}
        for n in range(1, 74):
            row = form[(facility, "IV", str(n))]
            assert row[1].value and row[11].value == labels["part_iv"]["lines"][str(n)]
            assert amount(row[5]) == costs.get(str(n))
        line_74 = Decimal(sheet["line_74"]) if sheet["line_74"] is not None else None
        assert amount(form[(facility, "IV", "74")][5]) == line_74
        vessels = [k for k in form if k[:2] == (facility, "III") and k[2] != "total"]
        assert len(vessels) == len(sheet["part_iii"])
        for vessel in sheet["part_iii"]:
            row = form[(facility, "III", str(vessel["line"]))]
            assert [c.value for c in row[1:5]] == [vessel["name"], vessel["purpose"], vessel["official_number"],
                                                   vessel["status"]]
            assert amount(row[5]) == Decimal(vessel["sales_price"])
    plant_a = {s["facility"]: s for s in data["worksheets"]}["PLANT-A"]
    assert plant_a["part_iii"] and amount(form[("PLANT-A", "III", "total")][5]) == Decimal("185000000")


def test_part_i_is_entered_with_its_date_as_a_date(form, data):
    for sheet in data["worksheets"]:
        for f in sheet["part_i"]["fields"]:
            cell = form[(sheet["facility"], "I", f["line"])][2]
            if f["field"] == "placed_in_service":
                assert cell.is_date and cell.value.date() == dt.date.fromisoformat(f["value"])
            elif f["line"] != "3a":  # two entries on line 3a: the address and the description
                assert cell.value == ({True: "yes", False: "no"}.get(f["value"], f["value"]))


def test_the_sales_sheet_has_every_sale_with_its_arithmetic_as_numbers_and_dates(book, data):
    sales = listing(book, "Sales")
    by_row = {(r["facility"].value, r["row"].value): r for r in sales}
    expected = [s for sheet in data["worksheets"] for s in sheet["sales"]]
    assert len(sales) == len(expected) > 10
    for s in expected:
        r = by_row[(s["sale"]["facility"], s["sale"]["row"])]
        assert r["line"].value == s["line"] and r["product"].value == s["sale"]["product"]
        assert r["sale date"].is_date and r["sale date"].value.date() == dt.date.fromisoformat(s["sale"]["sale_date"])
        assert r["rate in force from"].is_date
        assert amount(r["(e) credit"]) == Decimal(s["credit"])
        assert amount(r["before phase-out"]) == Decimal(s["before_phase_out"])
        assert number(r["(d) base"]) == Decimal(s["base"]["amount"]["value"])
        assert number(r["units"]) == (Decimal(s["base"]["units"]) if s["base"].get("units") else None)
        rate = s["rate"]["value"]
        assert number(r["(c) rate"]) == Decimal(rate["value"]) / (100 if rate["unit"] == "percent" else 1)
        phase = s["phase_out"]
        assert number(r["phase-out"]) == (Decimal(phase["percent"]) / 100 if phase else None)
    for sheet in data["worksheets"]:  # each line's sales add up to its column (e)
        for line in sheet["part_ii"]:
            fed = [amount(r["(e) credit"]) for r in sales
                   if (r["facility"].value, r["line"].value) == (sheet["facility"], line["line"])]
            assert sum(fed, Decimal(0)) == (exact(line["credit"]) or 0)
    phased = next(r for r in sales if r["sale date"].value.year == 2031)
    assert number(phased["phase-out"]) == Decimal("0.5") and "%" in phased["phase-out"].number_format


def test_the_rejected_and_undetermined_sheets_give_each_sale_its_reason(book, data):
    rejected, pending = listing(book, "Rejected"), listing(book, "Undetermined")
    expected = [r for sheet in data["worksheets"] for r in sheet["rejected"]]
    assert [(r["product"].value, r["reason"].value) for r in rejected] == \
        [(r["sale"]["product"], r["decision"]["why"]) for r in expected]
    assert rejected[0]["sale date"].is_date and number(rejected[0]["base it would have carried"]) == 20000
    [sale] = [p for sheet in data["worksheets"] for p in sheet["undetermined"]]
    assert {r["line it may meet"].value: amount(r["credit at stake"]) for r in pending} == \
        {s["line"]: Decimal(s["credit"]) for s in sale["at_stake"]}
    assert {r["would be settled by"].value for r in pending} == {"connects_to_one_module"}
    assert all(r["reason"].value == sale["decision"]["why"] for r in pending)


def test_the_notes_sheet_holds_what_the_text_prints_as_notes(book, inputs):
    notes = listing(book, "Notes")
    kinds = {r["kind"].value for r in notes}
    assert {"rules", "booked_to_other_line", "review", "cap", "undetermined", "rejected", "rounding",
            "error"} <= kinds
    text = invoke(inputs).stdout
    flagged = text.split("Notes and flags\n")[1].split("\n\n")[0].splitlines()  # PLANT-B's sales' notes
    written = {f"  {r['where'].value} ({r['product'].value}): {r['note'].value}" for r in notes if r["where"].value}
    assert flagged and set(flagged) <= written
    [error] = [r for r in notes if r["kind"].value == "error"]
    assert "unknown product 'NOPE'" in error["note"].value and "fix:" in error["note"].value
    [stake] = [r for r in notes if r["kind"].value == "undetermined"]
    assert amount(stake["amount"]) == Decimal(220) and stake["sales"].value == 1


# --- CSV and Markdown ----------------------------------------------------------------------------

AMOUNTS = ("rate", "aggregate", "credit", "credit_whole_dollars", "credit_exact", "units", "per_unit",
           "rated_per_unit", "before_phase_out", "count", "row", "sales")


def test_the_csv_has_plain_numbers_and_the_jsons_totals(csv_rows, data):
    for r in csv_rows:
        for key in AMOUNTS:
            if r[key]:
                assert "$" not in r[key] and "," not in r[key], (key, r[key])
                Decimal(r[key])  # a number, and nothing else
        for value in r["phase_out_percent"].split():
            Decimal(value)
    for sheet in data["worksheets"]:
        mine = {(r["part"], r["line"]): r for r in csv_rows
                if r["facility"] == sheet["facility"] and r["status"] not in ("sale", "note", "vessel")}
        for line in sheet["part_ii"]:
            row = mine[("II", line["line"])]
            assert (Decimal(row["credit_exact"]) if row["credit_exact"] else None) == exact(line["credit"])
        assert Decimal(mine[("II", "8a")]["credit_exact"]) == Decimal(sheet["line_8a"]["exact"])
        assert Decimal(mine[("II", "8a")]["credit_whole_dollars"]) == Decimal(sheet["line_8a"]["whole_dollars"])
        assert mine[("II", "7")]["status"] == "not_computed" and not mine[("II", "7")]["credit_exact"]
        assert [k[1] for k in mine if k[0] == "IV"] == [str(n) for n in range(1, 75)]
        line_74 = mine[("IV", "74")]["aggregate"]
        assert (Decimal(line_74) if line_74 else None) == (Decimal(sheet["line_74"]) if sheet["line_74"] else None)
        sold = [r for r in csv_rows if r["facility"] == sheet["facility"] and r["status"] == "sale"]
        assert sum((Decimal(r["credit_exact"]) for r in sold), Decimal(0)) == Decimal(sheet["line_8a"]["exact"])


def test_the_csv_holds_what_the_workbook_holds(csv_rows, book):
    def count(status: str) -> int:
        return sum(r["status"] == status for r in csv_rows)

    assert count("sale") == len(listing(book, "Sales"))
    assert count("rejected") == len(listing(book, "Rejected"))
    assert count("undetermined") == len(listing(book, "Undetermined"))
    notes = [r["note"] for r in csv_rows if r["status"] == "note"]
    assert notes == [r["note"].value for r in listing(book, "Notes")]
    sales = [(r["facility"], r["line"], r["row"], r["sale_date"], r["credit_exact"])
             for r in csv_rows if r["status"] == "sale"]
    assert sales == [(r["facility"].value, r["line"].value, str(r["row"].value),
                      r["sale date"].value.date().isoformat(), str(Decimal(str(r["(e) credit"].value))))
                     for r in listing(book, "Sales")]


def test_the_markdown_has_parts_iii_and_iv_line_7_and_the_notes(inputs):
    written = invoke([*inputs, "--format", "markdown"]).stdout
    assert "**Part III. Related offshore wind vessels**" in written and "| Sea Builder " in written
    assert "**Part IV. Costs of producing applicable critical minerals**" in written
    assert "| 38     | Lithium converted to lithium carbonate or lithium hydroxide" in written
    assert "| 74     | Total costs." in written
    assert "| 7      | Advanced manufacturing production credit from partnerships" in written
    assert "(not computed)" in written and "| 8c " in written
    assert "**Notes and flags**" in written and "booked to line 3a, but the product meets line 3d" in written
    assert "flagged for review: the amount applies the open reading minerals.phase_out_by_production" in written
    assert "capacity counted 10 kWh" in written
    assert "unknown product 'NOPE'" in written.split("**Notes**")[-1]


# --- choosing the format -------------------------------------------------------------------------

@pytest.mark.parametrize("name,check", [
    ("worksheet.xlsx", lambda path: load_workbook(path).sheetnames == SHEETS),
    ("worksheet.csv", lambda path: path.read_text().startswith("facility,line,component")),
    ("worksheet.json", lambda path: "worksheets" in json.loads(path.read_text())),
    ("worksheet.md", lambda path: path.read_text().startswith("# Form 7207 worksheet: PLANT-A")),
    ("worksheet.txt", lambda path: path.read_text().startswith("Form 7207 worksheet: facility PLANT-A")),
])
def test_the_format_follows_the_output_files_extension(tmp_path, name, check):
    path = tmp_path / name
    invoke(["credit", "--catalog", str(EXAMPLES / "credit" / "catalog.yaml"), "--sales",
            str(EXAMPLES / "credit" / "sales.csv"), "-o", str(path)], 0)
    assert check(path)


@pytest.mark.parametrize("args,words", [
    (["--format", "xlsx"], "fix: add -o worksheet.xlsx"),
    (["--format", "csv", "-o", "w.xlsx"], "--format csv writes CSV, but the output file w.xlsx is named as an XLSX"),
    (["--format", "json", "-o", "w.md"], "or write to w.json"),
    (["--format", "xlsx", "-o", "w.txt"], "fix: -o w.xlsx"),
    (["-o", "w.xlsx", "--explain", "1a"], "--explain 1a lists the line's sales as text"),
])
def test_a_format_that_cannot_go_where_the_output_goes_is_refused(tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    result = invoke(["credit", "--catalog", str(EXAMPLES / "credit" / "catalog.yaml"), "--sales",
                     str(EXAMPLES / "credit" / "sales.csv"), *args], 2)
    assert words in result.output and not list(tmp_path.iterdir())


# --- a long ledger -------------------------------------------------------------------------------

def test_the_workbook_of_a_long_ledger_is_written_in_bounded_memory(tmp_path):
    from test_credit_stream import CATALOG, PEAK, ledger

    def peak(sales: int) -> int:
        out = tmp_path / f"w{sales}.xlsx"
        done = subprocess.run([sys.executable, "-c", PEAK, "credit", "--catalog", str(CATALOG), "--sales",
                               str(ledger(tmp_path / f"s{sales}.csv", sales)), "--tax-year", "2025", "-o", str(out)],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
        listed = sum(1 for _ in load_workbook(out, read_only=True)["Sales"].iter_rows(values_only=True))
        assert listed > sales * 3 // 4, done.stderr[-2000:]  # the sales counted (the rest rejected)
        return int(done.stderr.strip().splitlines()[-1])

    small, large = peak(1_000), peak(10_000)
    assert large - small < 20 * 1024, f"peak RSS {small // 1024} MiB at 1,000 sales, {large // 1024} MiB at 10,000"
