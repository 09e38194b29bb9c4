"""Benchmark: a seeded sales ledger through the CLI, `ampc credit`.

Writes a CSV ledger of N sales of the products of examples/credit/catalog.yaml in a temporary
directory: four facilities, sale dates over 2025 (about 2 % just outside it), a production date on
about a fifth of the sales (always on the critical mineral's), units from 1 to 2,000, the turbine's
capacity on the blades' sales, costs on the mineral's, a booked line on about half (some of them
wrong), and about 0.5 % bad rows (an unknown product, negative or fractional units, a date that is
not one, no facility). Runs `ampc credit --catalog CATALOG --sales LEDGER --tax-year 2025 --format
json -o OUT` as a subprocess, timed, with its peak RSS, and counts the calls to the decider in it;
checks that every ledger row is accounted for in the output (sales counted, rejected, undetermined,
outside the year, errors).

    .venv/bin/python bench/credit_bench.py [--count 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "credit" / "catalog.yaml"
HEADER = "facility,product,units,sale_date,production_date,turbine_capacity [MW],costs,claimed_line\n"
PRODUCTS = {  # product -> the line it meets (booked on about half the sales, a tenth of them wrongly)
    "CELL-TF-100": "1a", "CELL-CR-200": "1a", "MOD-100": "1e", "MOD-200": "1e", "MOD-400-CA": "1e",
    "BLADE-6MW": "2b", "BLADE-10MW": "2b", "CELL-12KWH": "5a", "CELL-15KWH": "5a", "CELL-LONG": "5a",
    "INV-1KW": "3a", "LI-OH": "6a"}
TURBINE = {"BLADE-6MW": 6, "BLADE-10MW": 10}
FACILITIES = ("PLANT-A", "PLANT-B", "PLANT-C", "PLANT-D")
OUTSIDE = 0.02  # share of sales dated just outside 2025
PRODUCED = 0.2  # share of sales giving a production date
BAD = 0.005  # share of bad rows
# Run in the child: the CLI itself, counting the decisions it asks the decider for.
CHILD = """import sys
from ampc.decide.decider import Decider
calls = 0
decide = Decider.decide
def counted(self, *args, **kwargs):
    global calls
    calls += 1
    return decide(self, *args, **kwargs)
Decider.decide = counted
from ampc.cli import main
sys.argv = ['ampc'] + sys.argv[1:]
try:
    main()
except SystemExit as exit:
    status = exit.code
print('decide_calls', calls, file=sys.stderr)
sys.exit(status)
"""


def generate(path: Path, count: int, seed: int) -> Counter:
    """The ledger; what it holds (bad rows by kind, sales outside the year, with a production date)."""
    rng = random.Random(seed)
    products = list(PRODUCTS)
    made: Counter = Counter()
    first = dt.date(2025, 1, 1)
    with path.open("w") as handle:
        handle.write(HEADER)
        for _ in range(count):
            product = rng.choice(products)
            if rng.random() < OUTSIDE:
                sold = rng.choice((dt.date(2024, 12, 1), dt.date(2026, 1, 1))) + dt.timedelta(rng.randrange(28))
                made["outside_2025"] += 1
            else:
                sold = first + dt.timedelta(rng.randrange(365))
            produced = ""
            if product == "LI-OH" or rng.random() < PRODUCED:
                produced = dt.date(sold.year, rng.randint(1, sold.month), 1).isoformat()
                made["with_production_date"] += 1
            units = "1" if product == "LI-OH" else str(rng.randint(1, 2000))  # the mineral: its costs, one unit
            costs = f"{rng.randint(1000, 500000)}.00 USD" if product == "LI-OH" else ""
            booked = ""
            if rng.random() < 0.5:
                booked = PRODUCTS[product] if rng.random() < 0.9 else rng.choice(("1a", "3d", "5b"))
            facility = rng.choice(FACILITIES)
            day = sold.isoformat()
            if rng.random() < BAD:
                how = rng.choice(("product", "units", "date", "facility"))
                made[f"bad_{how}"] += 1
                if how == "product":
                    product = product + "-X"
                elif how == "units":
                    units = rng.choice(("-5", "2.5"))
                elif how == "date":
                    day = "2025-02-30"
                else:
                    facility = ""
            handle.write(f"{facility},{product},{units},{day},{produced},{TURBINE.get(product, '')},{costs},"
                         f"{booked}\n")
    return made


def run_cli(ledger: Path, out: Path) -> tuple[float, int, int, int | None]:
    """Seconds, exit status, peak RSS (KiB) and the decider's calls of `ampc credit`."""
    command = [sys.executable, "-c", CHILD, "credit", "--catalog", str(CATALOG), "--sales", str(ledger),
               "--tax-year", "2025", "--format", "json", "-o", str(out)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: some rows could not be computed, as some are bad on purpose
        sys.exit(f"ampc credit failed ({done.returncode}): {done.stderr[-2000:]}")
    calls = next((int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("decide_calls ")),
                 None)
    return seconds, done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledger, out = Path(tmp) / "sales.csv", Path(tmp) / "worksheet.json"
        started = time.perf_counter()
        made = generate(ledger, args.count, args.seed)
        generate_seconds = time.perf_counter() - started
        seconds, status, peak_kib, calls = run_cli(ledger, out)
        out_bytes = out.stat().st_size
        with out.open("rb") as handle:
            report = json.load(handle)
    sheets = report["worksheets"]
    counted = {
        "sales_counted": sum(len(s["sales"]) for s in sheets),
        "rejected": sum(len(s["rejected"]) for s in sheets),
        "undetermined": sum(len(s["undetermined"]) for s in sheets),
        "outside_tax_year": len(report["outside_tax_year"]),
        "errors": len(report["errors"]),
    }
    assert sum(counted.values()) == args.count, f"{args.count} rows read != {counted}"
    figures = {
        "machine": machine(),
        "python": sys.version.split()[0],
        "seed": args.seed,
        "sales": args.count,
        "ledger": dict(sorted(made.items())),
        "seconds_generate_csv": round(generate_seconds, 2),
        **counted,
        "worksheets": len(sheets),
        "line_8a_total_exact": str(sum((Decimal(s["line_8a"]["exact"]) for s in sheets), Decimal(0))),
        "exit_status": status,
        "seconds_cli": round(seconds, 2),
        "sales_per_second_cli_end_to_end": round(args.count / seconds, 1),
        "peak_rss_cli_mib": round(peak_kib / 1024, 1),
        "decisions_made": calls,
        "sales_per_decision": round(args.count / calls, 1) if calls else None,
        "output_mib": round(out_bytes / 2**20, 1),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
