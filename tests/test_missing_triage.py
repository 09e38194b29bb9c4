"""`ampc classify --missing`: the facts that would settle the undetermined products of a catalog,
ranked, with the sets of facts products need together and, with a ledger, the credit at stake."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
import yaml
from click.testing import CliRunner

from ampc.cli import main

INVERTER = {
    "component": "inverter", "is_end_product": "yes", "converts_dc_to_ac": "yes", "dc_source": "solar_module",
    "suitable_for": "commercial", "phase": "three", "rated_output_voltage": "600 V", "ac_capacity": "100 kW",
    "connects_to_one_module": "no", "used_with_certified_distributed_wind": "no", "produced_in": "United States",
    "sold_in_trade_or_business": "yes", "sold_to_related_person": "no", "related_person_election": "no",
    "integrated_into_component_sold_to_unrelated": "no", "facility_48c_credit_taken": "no",
    "production_date": "2025-03-01", "sale_date": "2025-04-01",
}


def product(pid: str, *without: str, **given: str) -> dict:
    """A 100 kW commercial inverter that qualifies on line 3c, less the facts `without`."""
    return {"product": pid, **{k: v for k, v in INVERTER.items() if k not in without}, **given}


# In catalog order: phase is the only missing fact of P1, P2, P3; PV1 misses phase and voltage;
# V1 misses the voltage alone, S1 what it is suitable for; Q1 qualifies.
CATALOG = [product("P1", "phase"), product("PV1", "phase", "rated_output_voltage"), product("P2", "phase"),
           product("P3", "phase"), product("V1", "rated_output_voltage"), product("S1", "suitable_for"),
           product("Q1")]


def write_catalog(tmp_path, rows, name="catalog.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(rows, sort_keys=False))
    return path


def write_sales(tmp_path, sales, name="sales.csv"):
    path = tmp_path / name
    path.write_text("facility,product,units,sale_date\n" + "".join(f"PLANT-A,{p},{u},{d}\n" for p, u, d in sales))
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    for stream in (result.stdout, result.stderr):
        assert "Decimal(" not in stream and "datetime.d" not in stream  # no Python repr
    return result


def triage_json(tmp_path, catalog, *more):
    out = tmp_path / "triage.json"
    result = run("classify", catalog, "--format", "jsonl", "-o", tmp_path / "records.jsonl", "--missing-out", out,
                 *more)
    assert result.exit_code == 0, result.stderr
    return json.loads(out.read_text())


def by_fact(triage):
    return {f["fact"]: f for f in triage["facts"]}


def test_facts_are_ranked_by_the_products_they_alone_settle_with_exact_counts_and_examples(tmp_path):
    triage = triage_json(tmp_path, write_catalog(tmp_path, CATALOG))
    assert (triage["records"], triage["errors"], triage["undetermined"]) == (7, 0, 6)
    assert [f["fact"] for f in triage["facts"]] == ["phase", "rated_output_voltage", "suitable_for"]
    phase = by_fact(triage)["phase"]
    assert (phase["label"], phase["unit"]) == ("Output phase", "")
    assert phase["alone"]["products"] == 3 and phase["alone"]["examples"] == ["P1", "P2", "P3"]
    assert phase["alone"]["may_need_more"] == 0  # every other fact the rules read is given
    assert phase["listed"]["products"] == 4 and phase["listed"]["examples"] == ["P1", "PV1", "P2"]
    assert phase["listed"]["lines"] == [{"line": "3c", "products": 4}]
    voltage = by_fact(triage)["rated_output_voltage"]
    assert (voltage["unit"], voltage["alone"]["products"], voltage["listed"]["products"]) == ("V", 1, 2)
    assert voltage["alone"]["examples"] == ["V1"] and voltage["listed"]["examples"] == ["PV1", "V1"]
    assert by_fact(triage)["suitable_for"]["alone"]["examples"] == ["S1"]
    assert triage["ledger"] is None and phase["alone"]["credit"] is None
    # every undetermined product is settled by one fact, or needs one set of facts, or lists none
    alone = sum(f["alone"]["products"] for f in triage["facts"])
    assert alone + sum(s["need"]["products"] for s in triage["sets"]) + triage["without_missing"] == 6


def test_the_table_on_stderr_says_what_the_counts_mean(tmp_path):
    result = run("classify", write_catalog(tmp_path, CATALOG), "--format", "jsonl", "--missing")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert "missing facts: 6 undetermined of 7 records" in lines
    phase = next(line.split() for line in lines if line.startswith("phase "))
    assert phase[:6] == ["phase", "Output", "phase", "3", "0", "4"] and "P1, PV1, P2, ..." in " ".join(phase)
    assert next(line for line in lines if line.startswith("rated_output_voltage ")).split()[1:4] == [
        "Rated", "output", "voltage"] and "[V]" in result.stderr
    assert "phase + rated_output_voltage" in result.stderr
    assert "settled alone: undetermined products whose only missing fact is this one" in result.stderr
    assert "under no 'settled alone', and under its set of facts above" in result.stderr
    assert result.stderr.index("rows read") < result.stderr.index("missing facts:")  # the run ends with it


def test_a_product_missing_two_facts_needs_the_set_and_is_settled_by_neither_alone(tmp_path):
    catalog = write_catalog(tmp_path, [product("PV1", "phase", "rated_output_voltage"), product("Q1")])
    triage = triage_json(tmp_path, catalog)
    for fact in ("phase", "rated_output_voltage"):
        assert by_fact(triage)[fact]["alone"]["products"] == 0
        assert by_fact(triage)[fact]["listed"]["products"] == 1
    assert [(s["facts"], s["need"]["products"], s["need"]["examples"]) for s in triage["sets"]] == [
        (["phase", "rated_output_voltage"], 1, ["PV1"])]


def test_a_fact_that_alone_settles_the_line_may_leave_a_requirement_the_record_has_not_reached(tmp_path):
    # the record lists the fact its line turns on; the qualification rules, not reached, read produced_in
    catalog = write_catalog(tmp_path, [product("K1", "phase", "produced_in"), product("K2", "component")])
    triage = triage_json(tmp_path, catalog)
    phase = by_fact(triage)["phase"]
    assert (phase["alone"]["products"], phase["alone"]["may_need_more"]) == (1, 1)
    assert "produced_in" not in by_fact(triage)
    # a product whose kind is not given: every rule of its kind is still to be read
    assert by_fact(triage)["component"]["alone"]["may_need_more"] == 1
    assert by_fact(triage)["component"]["alone"]["no_line"] == 1
    text = run("classify", catalog, "--format", "jsonl", "--missing").stderr
    assert "may need more: of those, products whose record stops before a later stage" in text


def credit_of(tmp_path, rows, sales, line):
    """What `ampc credit` puts on the line for the catalog `rows` and a ledger of their `sales`."""
    result = run("credit", "--catalog", write_catalog(tmp_path, rows, "supplied.yaml"), "--sales",
                 write_sales(tmp_path, sales, "supplied.csv"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    lines = [x for x in json.loads(result.stdout)["worksheets"][0]["part_ii"] if x["line"] == line]
    return Decimal(lines[0]["credit"]["cents"])


def test_the_credit_at_stake_is_what_ampc_credit_computes_once_the_fact_is_supplied(tmp_path):
    p1 = [("P1", 10, "2025-04-01"), ("P1", 5, "2025-05-01")]
    sales = write_sales(tmp_path, [*p1, ("PV1", 7, "2025-04-01")])
    triage = triage_json(tmp_path, write_catalog(tmp_path, CATALOG), "--sales", sales)
    stake = by_fact(triage)["phase"]["alone"]["credit"]
    # 15 units x 100,000 W x $0.02 per W (line 3c)
    assert (stake["sold"], stake["sales"], stake["low"]["cents"], stake["high"]["cents"]) == (1, 2, "30000.00",
                                                                                             "30000.00")
    assert credit_of(tmp_path, [product("P1")], p1, "3c") == Decimal("30000.00")
    # PV1 is in no fact's 'alone': its credit is at stake under its set, and under each fact's 'listed'
    assert triage["sets"][0]["need"]["credit"]["low"]["cents"] == "14000.00"
    assert by_fact(triage)["rated_output_voltage"]["alone"]["credit"]["sold"] == 0
    assert by_fact(triage)["phase"]["listed"]["credit"]["low"]["cents"] == "44000.00"
    assert triage["ledger"] == {"file": str(sales), "sales": 3, "skipped": 0}


def test_where_the_possible_lines_differ_the_credit_is_a_range_whose_ends_ampc_credit_confirms(tmp_path):
    wind = "used_with_certified_distributed_wind"
    w1 = [("W1", 1, "2025-04-01")]
    sales = write_sales(tmp_path, [*w1, ("C1", 2, "2025-04-01")])
    catalog = write_catalog(tmp_path, [product("W1", wind), product("C1", "ac_capacity")])
    triage = triage_json(tmp_path, catalog, "--sales", sales)
    wind_fact = by_fact(triage)[wind]
    assert wind_fact["alone"]["lines"] == [{"line": "3c", "products": 1}, {"line": "3f", "products": 1}]
    credit = wind_fact["alone"]["credit"]
    assert (credit["low"]["cents"], credit["high"]["cents"]) == ("2000.00", "11000.00")
    assert credit_of(tmp_path, [product("W1", **{wind: "no"})], w1, "3c") == Decimal("2000.00")
    assert credit_of(tmp_path, [product("W1", **{wind: "yes"})], w1, "3f") == Decimal("11000.00")
    # the base is the capacity itself: what is at stake cannot be figured until it is given
    capacity = by_fact(triage)["ac_capacity"]["alone"]["credit"]
    assert (capacity["sold"], capacity["unfigured"], capacity["low"], capacity["high"]) == (1, 1, None, None)
    text = run("classify", catalog, "--format", "jsonl", "--missing", "--sales", sales).stderr
    assert "$2,000.00 .. $11,000.00" in text and "not figured (1 sold)" in text
    assert "credit at stake from " in text


def test_a_catalog_with_no_undetermined_product_says_so(tmp_path):
    result = run("classify", write_catalog(tmp_path, [product("Q1"), product("Q2")]), "--format", "jsonl",
                 "--missing", "-q")
    assert result.exit_code == 0
    assert result.stderr == "\nmissing facts: 0 undetermined of 2 records: no undetermined product, no missing " \
                            "fact to supply\n"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_the_records_are_the_same_with_and_without_the_triage(tmp_path, fmt):
    catalog = write_catalog(tmp_path, CATALOG)
    sales = write_sales(tmp_path, [("P1", 10, "2025-04-01")])
    plain = run("classify", catalog, "--format", fmt, "--as-of", "2025-06-30")
    triaged = run("classify", catalog, "--format", fmt, "--as-of", "2025-06-30", "--missing", "--sales", sales)
    assert plain.stdout == triaged.stdout and "missing facts:" in triaged.stderr


def test_the_workbook_is_the_same_with_and_without_the_triage(tmp_path):
    from openpyxl import load_workbook
    catalog = write_catalog(tmp_path, CATALOG)
    run("classify", catalog, "-o", tmp_path / "plain.xlsx", "--as-of", "2025-06-30")
    run("classify", catalog, "-o", tmp_path / "triaged.xlsx", "--as-of", "2025-06-30", "--missing")

    def cells(path):
        book = load_workbook(path, read_only=True)
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    assert cells(tmp_path / "plain.xlsx") == cells(tmp_path / "triaged.xlsx")


def test_workers_give_the_same_triage_as_one_process(tmp_path):
    copies = [{**row, "product": f"{row['product']}-{n}"} for n in range(3) for row in CATALOG]
    catalog = write_catalog(tmp_path, copies)
    sales = write_sales(tmp_path, [(f"{p}-{n}", 10, "2025-04-01") for n in range(3) for p in ("P1", "PV1")])
    one = triage_json(tmp_path, catalog, "--sales", sales, "--jobs", "1")
    two = triage_json(tmp_path, catalog, "--sales", sales, "--jobs", "2")
    assert one == two and by_fact(one)["phase"]["alone"]["credit"]["low"]["cents"] == "60000.00"
    assert by_fact(one)["phase"]["alone"]["examples"] == ["P1-0", "P2-0", "P3-0"]


def test_quiet_silences_the_progress_but_not_the_triage(tmp_path):
    result = run("classify", write_catalog(tmp_path, CATALOG), "--format", "jsonl", "--missing", "-q")
    assert "rows read" not in result.stderr and "missing facts: 6 undetermined of 7 records" in result.stderr


def test_the_triage_as_csv_has_a_row_per_fact_count_and_per_set(tmp_path):
    out = tmp_path / "triage.csv"
    sales = write_sales(tmp_path, [("P1", 10, "2025-04-01")])
    run("classify", write_catalog(tmp_path, CATALOG), "--format", "jsonl", "--missing-out", out, "--sales", sales)
    rows = list(csv.DictReader(out.open()))
    first = rows[0]
    assert (first["kind"], first["facts"], first["products"], first["examples"]) == ("alone", "phase", "3",
                                                                                    "P1 P2 P3")
    assert (first["credit_low_usd"], first["credit_high_usd"]) == ("20000.00", "20000.00")
    assert [r["facts"] for r in rows if r["kind"] == "set"] == ["phase rated_output_voltage"]


@pytest.mark.parametrize("args, words", [
    (["--sales", "s.csv"], "--sales gives the credit at stake of the --missing triage: add --missing"),
    (["--missing-out", "triage.txt"], "name a .json or a .csv file"),
])
def test_a_wrong_triage_option_is_a_usage_error(tmp_path, args, words):
    result = run("classify", write_catalog(tmp_path, CATALOG), *args)
    assert result.exit_code == 2 and words in result.stderr
