"""A sales ledger of any length is computed in bounded memory: the peak RSS of `ampc credit` is
about the same for 4,000 sales and for 40,000 (in a subprocess of its own, under an address-space
limit); a product sold again and again on the same dates is decided once; the totals of a ledger
whose sales are written to disk are the worked examples' figures; and every output of a run that
spilled to disk is the same, byte for byte, as that of the same run held in memory."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ampc.credit import spool
from ampc.credit.compute import compute, load
from ampc.credit.csvfile import to_csv
from ampc.credit.markdown import to_markdown
from ampc.credit.output import pieces
from ampc.credit.worksheet import explain_line, text, to_json
from ampc.decide.decider import Decider

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "credit" / "catalog.yaml"
INVERTERS = ROOT / "tests" / "cases" / "part_ii" / "line_03_inverters.yaml"
HEADER = "facility,product,units,sale_date,production_date,turbine_capacity [MW],costs,claimed_line\n"
# A sale of each product of the example catalog on the day given, as examples/credit/sales.csv writes it.
SALES = ("{f},CELL-TF-100,{u},{d},,,,1a", "{f},CELL-CR-200,{u},{d},,,,1a", "{f},MOD-100,{u},{d},,,,1e",
         "{f},MOD-200,{u},{d},,,,1e", "{f},MOD-400-CA,{u},{d},,,,1e", "{f},BLADE-6MW,{u},{d},,6,,2b",
         "{f},BLADE-10MW,{u},{d},,10,,2b", "{f},CELL-12KWH,{u},{d},,,,5a", "{f},CELL-15KWH,{u},{d},,,,5a",
         "{f},CELL-LONG,{u},{d},,,,5a", "{f},INV-1KW,{u},{d},,,,3a", "{f},LI-OH,1,{d},2025-06-30,,{u}000.00 USD,6a")
DAYS = ("2025-03-02", "2025-07-15", "2025-09-01", "2025-12-30")
LIMIT = 3 * 2**30  # the child's address space, so that a run whose memory ran away fails instead of swapping
PEAK = ("import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))\n"
        "from ampc.cli import main\nsys.argv = ['ampc'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "print(int(hwm.split()[1]), file=sys.stderr)")  # not ru_maxrss: it keeps the forking test process's peak


def ledger(path: Path, count: int, extra: str = "") -> Path:
    """`count` sales cycling through every product, four days of 2025 and two facilities."""
    with path.open("w") as handle:
        handle.write(HEADER)
        for n in range(count):
            handle.write(SALES[n % len(SALES)].format(f=f"PLANT-{'AB'[n // 12 % 2]}", u=1 + n % 997,
                                                      d=DAYS[n // 24 % len(DAYS)]) + "\n")
        handle.write(extra)
    return path


def _peak_kib(tmp_path: Path, sales: int) -> int:
    out = tmp_path / f"w{sales}.json"
    done = subprocess.run([sys.executable, "-c", PEAK, "credit", "--catalog", str(CATALOG), "--sales",
                           str(ledger(tmp_path / f"s{sales}.csv", sales)), "--tax-year", "2025", "--format", "json",
                           "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    data = json.loads(out.read_text())
    counted = sum(len(s["sales"]) + len(s["rejected"]) + len(s["undetermined"]) for s in data["worksheets"])
    assert counted == sales and not data["errors"], done.stderr[-2000:]
    return int(done.stderr.strip().splitlines()[-1])


def test_memory_stays_flat_whatever_the_ledger_length(tmp_path):
    small, large = _peak_kib(tmp_path, 4_000), _peak_kib(tmp_path, 40_000)
    assert large - small < 40 * 1024, f"peak RSS {small // 1024} MiB at 4,000 sales, {large // 1024} MiB at 40,000"


def test_a_product_sold_again_and_again_on_the_same_dates_is_decided_once(ruleset, tmp_path, monkeypatch):
    calls = []
    decide = Decider.decide

    def counted(self, product, *args, **kwargs):
        calls.append(product)
        return decide(self, product, *args, **kwargs)

    monkeypatch.setattr(Decider, "decide", counted)
    monkeypatch.setattr(spool, "BUDGET", 64)  # the run spills to disk after 64 sales: decisions are kept trimmed
    rows = "".join(f"PLANT-A,MOD-100,{n + 1},{DAYS[n % 2]},,,,1e\nPLANT-A,CELL-12KWH,5,2025-07-01,,,,5a\n"
                   for n in range(1_500))
    run = compute(*load([CATALOG], ledger(tmp_path / "s.csv", 0, rows), ruleset), ruleset, 2025)
    assert sorted(calls) == ["CELL-12KWH", "MOD-100", "MOD-100"]  # MOD-100 on two days, CELL-12KWH on one
    [sheet] = run.worksheets
    assert len(sheet.lines["1e"].amounts) == len(sheet.lines["5a"].amounts) == 1_500
    assert sheet.lines["5a"].aggregate == 1_500 * 5 * 12  # 5 cells of 12 kWh, 1,500 times


def test_the_worked_examples_totals_with_the_sales_on_disk(ruleset, tmp_path, monkeypatch):
    """tests/test_credit.py's worked examples (lines 1a, 1e, 2b, 5a), each sale repeated 1,000 times."""
    monkeypatch.setattr(spool, "BUDGET", 100)
    pair = ("F,CELL-TF-100,500,2025-02-10,,,,\nF,CELL-CR-200,1500,2025-03-15,,,,\n"
            "F,MOD-100,300,2025-04-01,,,,\nF,MOD-200,400,2025-05-20,,,,\n"
            "F,BLADE-6MW,3,2025-06-01,,6,,\nF,BLADE-10MW,3,2025-06-02,,10,,\n"
            "F,CELL-12KWH,50,2025-07-01,,,,\nF,CELL-15KWH,100,2025-07-02,,,,\n")
    run = compute(*load([CATALOG], ledger(tmp_path / "s.csv", 0, pair * 1_000), ruleset), ruleset)
    [sheet] = run.worksheets
    assert sheet.lines["1a"].amounts._chunks, "the sales were meant to be on disk"  # type: ignore[attr-defined]
    expected = {"1a": (350_000, "14000.00"), "1e": (110_000, "7700.00"), "2b": (48_000_000, "960000.00"),
                "5a": (2_100, "73500")}
    for line, (aggregate, credit) in expected.items():
        total = sheet.lines[line]
        assert (len(total.amounts), total.aggregate, total.total) == (2_000, 1_000 * aggregate, 1_000 * Decimal(credit))
    assert sheet.total == 1_000 * (Decimal("14000") + Decimal("7700") + Decimal("960000") + Decimal("73500"))


def _run(ruleset, sales: Path, budget: int, monkeypatch, catalogs=(CATALOG,)):
    monkeypatch.setattr(spool, "BUDGET", budget)
    return compute(*load(catalogs, sales, ruleset), ruleset, 2025)


def undetermined_inverter(path: Path) -> Path:
    """An inverter that is a microinverter or a residential one, whichever connects_to_one_module says."""
    defaults = yaml.safe_load(INVERTERS.read_text())["defaults"]["facts"]
    facts = dict(defaults, suitable_for=["residence"], phase="single", rated_output_voltage="240 V",
                 ac_capacity="500 W")
    facts.pop("connects_to_one_module", None)
    path.write_text(yaml.safe_dump([dict(facts, product="INV-500-?")]))
    return path


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_a_run_on_disk_renders_as_the_same_run_in_memory(ruleset, tmp_path, monkeypatch, fmt):
    bad = ("PLANT-A,MOD-10O,5,2025-03-01,,,,\nPLANT-B,MOD-100,-5,2025-03-01,,,,\n"
           "PLANT-A,MOD-100,5,2024-12-31,,,,\nPLANT-A,BLADE-6MW,3,2025-06-01,,,,\n")
    pending = "".join(f"PLANT-B,INV-500-?,{n},2025-04-01,,,,3a\n" for n in range(1, 40))
    sales = ledger(tmp_path / "s.csv", 600, bad + pending)
    catalogs = (CATALOG, undetermined_inverter(tmp_path / "inverter.yaml"))
    held, spilled = (_run(ruleset, sales, budget, monkeypatch, catalogs) for budget in (10**9, 16))
    assert spilled.errors._chunks and not held.errors._chunks  # type: ignore[attr-defined]
    assert len(spilled.worksheets[1].pending) == 39
    render = {"table": text, "csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt]
    whole = render(held, ruleset)
    assert render(spilled, ruleset) == whole
    assert "".join(pieces(spilled, ruleset, fmt)) == whole  # what `ampc credit` writes
    for line in ("1a", "2b", "5a", "6a", "9z"):
        assert "".join(pieces(spilled, ruleset, fmt, line)) == explain_line(spilled, line) == explain_line(held, line)


def test_every_ledger_row_is_accounted_for(ruleset, tmp_path, monkeypatch):
    bad = "PLANT-A,MOD-10O,5,2025-03-01,,,,\nPLANT-B,MOD-100,2.5,2025-03-01,,,,\n,MOD-100,5,2025-03-01,,,,\n"
    outside = "".join(f"PLANT-A,MOD-100,5,{dt.date(2026, 1, 1) + dt.timedelta(n)},,,,\n" for n in range(40))
    run = _run(ruleset, ledger(tmp_path / "s.csv", 300, bad + outside), 32, monkeypatch)
    computed = sum(len(t.amounts) for s in run.worksheets for t in s.lines.values())
    rejected = sum(len(s.rejected) for s in run.worksheets)
    pending = sum(len(s.pending) for s in run.worksheets)
    assert (len(run.outside_year), len(run.errors)) == (40, 3)
    assert run.rows == 343 == computed + rejected + pending + len(run.outside_year) + len(run.errors)
    assert [p.where.rsplit(" ", 1)[-1] for p in run.errors] == ["302", "303", "304"]  # in ledger order
