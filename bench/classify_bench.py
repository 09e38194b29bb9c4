"""Benchmark: classify a generated catalog of inverters with full explanations.

Runs the whole path a user's catalog takes: write a CSV, read and normalize it, decide every product
in the rule engine and the explainer (which must agree), and render each decision as the readable
explanation and as its JSON record. Prints products per second, peak memory and the machine.

    .venv/bin/python bench/classify_bench.py [--count 100000] [--seed 7] [--distinct 200] [--spread] [--no-reuse]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_rows
from ampc.io import report
from ampc.io.catalog import read_catalog
from ampc.records import record as R
from ampc.rules.loader import load_ruleset
from machine import machine

CAPACITIES_W = [300, 650, 651, 5000, 19999, 20000, 20001, 50000, 125000, 125001, 150000, 150001, 500000,
                999999, 1000000, 1000001, 2000000]
VOLTAGES = [120, 208, 240, 480, 599, 600, 800]
SUITABLE = ["residence", "commercial", "utility_scale", "large_utility_scale"]
QUALIFICATION = {
    "produced_in": "United States", "sold_in_trade_or_business": "yes", "sold_to_related_person": "no",
    "related_person_election": "no", "integrated_into_component_sold_to_unrelated": "no",
    "facility_48c_credit_taken": "no", "production_date": "2025-03-01", "sale_date": "2025-05-01",
}


def generate(path: Path, count: int, seed: int, qualification: bool, distinct: int = 0, spread: bool = False) -> None:
    """`count` inverters; with `distinct`, only that many specifications, repeated under new ids (as
    a catalog of many products of a few models is), which the decider decides once each. With
    `spread`, each capacity is drawn to the watt from 100 W to 3 MW (as a manufacturer's range of
    models is) rather than at and around the thresholds."""
    rng = random.Random(seed)
    specs: list[list] = []
    columns = ["product", "component", "is_end_product", "converts_dc_to_ac", "dc_source", "suitable_for",
               "phase", "rated_output_voltage [V]", "ac_capacity [W]", "connects_to_one_module",
               "used_with_certified_distributed_wind"]
    if qualification:
        columns += list(QUALIFICATION)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(columns)
        for n in range(count):
            if distinct and len(specs) >= distinct:
                out.writerow([f"INV-{n:07d}", *specs[n % distinct]])
                continue
            row = [f"INV-{n:07d}", "inverter", "yes", "yes",
                   rng.choice(["solar_module", "solar_module", "certified_distributed_wind_energy_system", "other"]),
                   ";".join(rng.sample(SUITABLE, rng.randint(1, 2))), rng.choice(["single", "three"]),
                   rng.choice(VOLTAGES + [""]), rng.randint(100, 3_000_000) if spread else rng.choice(CAPACITIES_W),
                   rng.choice(["yes", "no"]),
                   rng.choice(["yes", "no"])]
            if qualification:
                row += list(QUALIFICATION.values())
            specs.append(row[1:])
            out.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--distinct", type=int, default=0,
                        help="only this many distinct specifications, repeated under new product ids")
    parser.add_argument("--spread", action="store_true",
                        help="capacities drawn to the watt from 100 W to 3 MW, not at and around the thresholds")
    parser.add_argument("--no-reuse", action="store_true",
                        help="decide every product afresh, nothing reused (to measure what reuse saves)")
    args = parser.parse_args()

    ruleset = load_ruleset()
    qualification = "produced_in" in ruleset.facts
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inverters.csv"
        started = time.perf_counter()
        generate(path, args.count, args.seed, qualification, args.distinct, args.spread)
        generated = time.perf_counter()
        rows = read_catalog(path, ruleset)
        read = time.perf_counter()
        outcomes: dict[str, int] = {}
        text_bytes = json_bytes = 0
        with Decider(ruleset, reuse=not args.no_reuse) as decider:
            for decision in decide_rows(rows, decider, dt.date(2025, 6, 30)):
                outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
                text_bytes += len(report.explain(decision))
                json_bytes += len(R.encode(decision))
        decided = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "products": args.count,
        "distinct_specifications": args.distinct or "all",
        "reuse": not args.no_reuse,
        "capacities": "spread, 100 W to 3 MW" if args.spread else "at and around the thresholds",
        "seconds_generate_csv": round(generated - started, 2),
        "seconds_read_and_normalize": round(read - generated, 2),
        "seconds_decide_and_explain": round(decided - read, 2),
        "products_per_second_end_to_end": round(args.count / (decided - generated), 1),
        "products_per_second_decide_and_explain": round(args.count / (decided - read), 1),
        "peak_memory_mib": round(peak_kib / 1024, 1),
        "explanation_text_mib": round(text_bytes / 2**20, 1),
        "json_records_mib": round(json_bytes / 2**20, 1),
        "outcomes": dict(sorted(outcomes.items())),
        "ruleset": ruleset.ident(),
        "machine": machine(),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
