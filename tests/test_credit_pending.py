"""Sales whose product is undetermined are listed apart from rejected sales, in every format, with
the facts that would settle them and the base and credit at stake on each line they may meet."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ampc.credit import csvfile, markdown, worksheet
from ampc.credit.compute import compute, load

ROOT = Path(__file__).resolve().parent.parent
INVERTERS = ROOT / "tests" / "cases" / "part_ii" / "line_03_inverters.yaml"


@pytest.fixture(scope="module")
def run(ruleset, tmp_path_factory):
    defaults = yaml.safe_load(INVERTERS.read_text())["defaults"]["facts"]
    small = dict(defaults, suitable_for=["residence"], phase="single", rated_output_voltage="240 V",
                 ac_capacity="500 W", connects_to_one_module=True)
    undecided = {k: v for k, v in small.items() if k != "connects_to_one_module"}  # micro or residential?
    catalog = [dict(small, product="MICRO-500"), dict(undecided, product="INV-500-?")]
    tmp = tmp_path_factory.mktemp("pending")
    (tmp / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    (tmp / "sales.csv").write_text("facility,product,units,sale_date\n"
                                   "PLANT,MICRO-500,10,2025-04-01\nPLANT,INV-500-?,10,2025-04-01\n")
    result = compute(*load([tmp / "catalog.yaml"], tmp / "sales.csv", ruleset), ruleset)
    assert not result.errors, result.errors
    return result, ruleset


def test_an_undetermined_sale_is_listed_apart_with_what_would_settle_it_and_what_is_at_stake(run):
    result, _ = run
    sheet = result.worksheets[0]
    assert not sheet.rejected
    (pending,) = sheet.pending
    assert pending.record.outcome == "undetermined" and pending.record.missing == ("connects_to_one_module",)
    stakes = {s.line: s for s in pending.at_stake}
    assert set(stakes) == {"3e", "3d"}  # a microinverter, or else a residential inverter
    for line, stake in stakes.items():
        assert stake.base.value == Decimal(5000) and stake.base.unit == "W"  # 10 units x 500 W
        rate = sheet.lines[line].credit.rate
        assert stake.credit == Decimal(5000) * _rate(run, rate)
    counted = sheet.lines["3e"]
    assert len(counted.amounts) == 1 and counted.aggregate == Decimal(5000)  # the micro one is counted


def _rate(run, param: str) -> Decimal:
    _, ruleset = run
    return ruleset.params[param].values[-1].value


def test_every_format_shows_the_undetermined_sale(run):
    result, ruleset = run
    text = worksheet.text(result, ruleset)
    assert "Undetermined sales: 1 (not on the form until settled; up to $550.00 at stake)" in text
    assert "would be settled by: connects_to_one_module; 3e: 5,000 W, $550.00 at stake; 3d: 5,000 W" in text
    assert "Rejected sales" not in text
    written = markdown.to_markdown(result, ruleset)
    assert "**Undetermined sales (1; up to $550.00 at stake)**" in written
    rows = list(csv.DictReader(io.StringIO(csvfile.to_csv(result, ruleset))))
    pending = [r for r in rows if r["status"] == "undetermined"]
    assert {r["line"] for r in pending} == {"3e", "3d"} and {r["product"] for r in pending} == {"INV-500-?"}
    assert all(r["settled_by"] == "connects_to_one_module" and r["aggregate"] == "5000" for r in pending)
    data = json.loads(worksheet.to_json(result, ruleset))
    (entry,) = data["worksheets"][0]["undetermined"]
    assert entry["decision"]["missing"] == ["connects_to_one_module"] and entry["sale"]["product"] == "INV-500-?"
    assert {s["line"]: s["credit"] for s in entry["at_stake"]}["3e"] == "550"
    assert data["worksheets"][0]["rejected"] == []
