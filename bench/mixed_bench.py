"""Benchmark: a mixed catalog of every component kind through the CLI, `ampc classify`.

Writes a seeded CSV catalog in a temporary directory: products of every kind the rules name, drawn
by engine/ampc/analysis/products.py (facts at, just inside and just outside each threshold, every
enum and set value, as-of dates around every change in force), about 5% of them with facts left
empty (products.py's own sparsity, drawn for those rows only) and about 1% bad rows (a quantity in a
wrong unit, text in a number, an unknown enum value). Runs `ampc classify CATALOG --format jsonl
-o OUT --quiet` as a subprocess, timed, with its peak RSS; counts decisions and errors in its output.
Runs the plain-Python reference of the inverter lines (bench/reference_inverters.py) over the
inverter rows of the same catalog, timed, and counts where it and ampc give a different line. For
a ratio of like with like, the inverter rows are also written to a CSV of their own (not timed),
which the reference reads and decides, timed, and which `ampc classify --jobs 1` decides too: both
on one core, the same rows, from the same file.
Also times loading the rule set and compiling one engine session in-process, and what the main
process of `ampc classify` does for each row it hands to the workers (read the CSV row, check its
columns and id, pickle it in its chunk): the rows a second that one reader can feed any number of
workers, on one machine or a Dask cluster.

    .venv/bin/python bench/mixed_bench.py [--count 100000] [--seed 7] [--jobs N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import reference_inverters
from ampc.analysis.products import SPARSITY, Products
from ampc.decide.decider import Decider
from ampc.rules.formula import facts_used
from ampc.rules.loader import load_ruleset
from ampc.rules.units import plain
from machine import machine

EMPTY = 0.05  # share of rows with facts left empty
BAD = 0.01  # share of bad rows
SHOW = 5  # disagreements shown
AMPC = Path(sys.executable).with_name("ampc")


def cell(value, unit: str) -> str:
    """A fact value as a catalog cell: a quantity with its unit, a set joined by ';', yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{plain(value)} {unit}".strip()
    if isinstance(value, frozenset):
        return ";".join(sorted(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def spoil(row: dict[str, str], ruleset, rng: random.Random) -> str:
    """Make one row bad, in one of three ways; which."""
    vocab = ruleset.facts
    quantities = [n for n in row if n in vocab and vocab[n].type == "quantity" and row[n]]
    how = rng.choice(("unit", "text", "enum")) if quantities else "enum"
    if how == "unit":
        name = rng.choice(quantities)
        row[name] = f"{row[name].split()[0]} {'V' if 'g' in vocab[name].unit else 'kg'}"
    elif how == "text":
        row[rng.choice(quantities)] = rng.choice(("about 5", "n/a", "twelve"))
    else:
        enums = [n for n in row if n in vocab and vocab[n].type == "enum" and row[n]]
        row[rng.choice(enums)] = "not_a_known_value"
    return how


def generate(path: Path, count: int, seed: int, ruleset) -> dict:
    """The catalog; what it holds (kinds, rows with facts left empty, bad rows by kind of fault)."""
    products = Products(ruleset)
    rng = random.Random(seed)
    sparse = False

    def pick(options):
        if options is SPARSITY:  # products.py's share of facts left out: none, except in EMPTY of rows
            return rng.choice([s for s in SPARSITY if s]) if sparse else 0
        return options[rng.randrange(len(options))]

    vocab = ruleset.facts
    roles = ruleset.roles
    formulas = {n: tuple(facts_used(f.computed)) for n, f in vocab.items() if f.computed}

    def divides_by_zero(facts: dict) -> bool:  # products.py leaves such a computed fact out
        return any(facts.get(n) is None and all(facts.get(i) is not None for i in inputs)
                   for n, inputs in formulas.items())

    kinds, faults = Counter(), Counter()
    empty = redrawn = 0
    columns = ["product", *sorted(n for n, f in vocab.items() if not f.computed and not f.derived)]
    with path.open("w", newline="") as handle:  # written row by row: the catalog is never held
        writer = csv.DictWriter(handle, columns, restval="")
        writer.writeheader()
        for n in range(count):
            sparse = rng.random() < EMPTY
            kind = pick(products.kinds)
            facts = products.product(kind, pick)
            while divides_by_zero(facts):  # a row the reader would refuse: not one of the bad rows meant
                facts, redrawn = products.product(kind, pick), redrawn + 1
            when = products.when(pick)
            facts[roles["sale_date"]] = when.sale
            facts.setdefault(roles["production_date"], when.production)
            facts.setdefault(roles["taxable_year_begins"], when.taxable_year)
            row = {"product": f"P-{n:07d}"}
            row.update({k: cell(v, vocab[k].unit) for k, v in facts.items()
                        if v is not None and not vocab[k].computed and not vocab[k].derived})
            kinds[kind] += 1
            empty += sparse
            if rng.random() < BAD:
                faults[spoil(row, ruleset, rng)] += 1
            writer.writerow(row)
    return {"kinds": len(kinds), "redrawn_for_a_zero_divisor": redrawn, "rows_with_facts_left_empty": empty,
            "bad_rows": dict(sorted(faults.items())), "columns": len(columns)}


def rule_load_seconds() -> float:
    started = time.perf_counter()
    ruleset = load_ruleset()
    with Decider(ruleset) as decider:
        decider.session("inverter")
    return time.perf_counter() - started


def handover_rate(catalog: Path, ruleset, limit: int = 100_000) -> tuple[int, float]:
    """Rows a second that the main process of `ampc classify --jobs N` reads, checks and hands over
    (pickled in the chunks the workers get): the ceiling of any number of workers. Timed in-process
    on the first `limit` rows; (rows, rows a second)."""
    from ampc.decide.batch import CHUNK, _chunks
    from ampc.decide.pipeline import stream
    from ampc.io.columns import Columns
    rows = itertools.islice(stream([catalog], ruleset, Columns(ruleset.facts), normalized=False), limit)
    started, count = time.perf_counter(), 0
    for chunk in _chunks(rows, CHUNK):
        pickle.dumps(chunk)
        count += len(chunk)
    return count, count / (time.perf_counter() - started)


def inverter_rows(catalog: Path, to: Path) -> int:
    """Write the catalog's inverter rows, header and all, to a CSV of their own; how many."""
    count = 0
    with catalog.open(newline="") as source, to.open("w", newline="") as handle:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(handle, reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            if row["component"] == "inverter":
                writer.writerow(row)
                count += 1
    return count


def run_cli(catalog: Path, out: Path, jobs: int | None) -> tuple[float, int, int]:
    """Seconds, exit status and peak RSS (KiB) of `ampc classify`."""
    command = [str(AMPC), "classify", str(catalog), "--format", "jsonl", "-o", str(out), "--quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: some rows could not be read, as some are bad on purpose
        sys.exit(f"ampc classify failed ({done.returncode}): {done.stderr}")
    return seconds, done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def read_output(out: Path) -> tuple[Counter, dict[str, dict]]:
    """Records by kind, and per product the outcome and classified line of each decision."""
    records: Counter = Counter()
    decided: dict[str, dict] = {}
    with out.open() as handle:
        for line in handle:
            record = json.loads(line)
            records[record["record"]] += 1
            if record["record"] == "decision":
                decided[record["product"]] = {"outcome": record["outcome"], "line": record.get("classified_line")}
    return records, decided


def run_reference(catalog: Path) -> tuple[float, int, dict[str, tuple]]:
    """Seconds, inverter rows the reference could not read, and its line and explanation per product."""
    started = time.perf_counter()
    lines: dict[str, tuple] = {}
    unreadable = 0
    with catalog.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["component"] != "inverter":
                continue
            try:
                facts = reference_inverters.facts_of(row)
            except ValueError:
                unreadable += 1
                continue
            lines[row["product"]] = reference_inverters.classify(facts)
    return time.perf_counter() - started, unreadable, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=None, help="ampc classify --jobs (default: its own, the cores)")
    args = parser.parse_args()

    load_seconds = rule_load_seconds()
    ruleset = load_ruleset()
    with tempfile.TemporaryDirectory() as tmp:
        catalog, out = Path(tmp) / "mixed.csv", Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        made = generate(catalog, args.count, args.seed, ruleset)
        generate_seconds = time.perf_counter() - started
        cli_seconds, status, peak_kib = run_cli(catalog, out, args.jobs)
        handed, handover = handover_rate(catalog, ruleset)
        records, decided = read_output(out)
        out_bytes = out.stat().st_size
        inverters = Path(tmp) / "inverters.csv"
        inverter_count = inverter_rows(catalog, inverters)
        ref_seconds, ref_unreadable, ref_lines = run_reference(inverters)
        same_seconds, _, _ = run_cli(inverters, Path(tmp) / "inverters.jsonl", 1)

    decisions, errors = records["decision"], records["error"]
    assert args.count == decisions + errors, f"{args.count} rows read != {decisions} decisions + {errors} errors"
    compared, disagree = 0, []
    for product, (line, why) in ref_lines.items():
        got = decided.get(product)
        if got is None or got["outcome"] not in ("qualified", "rejected"):
            continue
        compared += 1
        if line != got["line"]:
            disagree.append({"product": product, "ampc": got, "reference": line, "why": why})
    cli_rate = args.count / cli_seconds
    ref_rate = inverter_count / ref_seconds if ref_seconds else 0.0
    same_rate = inverter_count / same_seconds
    figures = {
        "machine": machine(),
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "jobs": args.jobs or os.cpu_count(),
        "seed": args.seed,
        "rows": args.count,
        "catalog": made,
        "seconds_generate_csv": round(generate_seconds, 2),
        "records": decisions,
        "errors": errors,
        "exit_status": status,
        "outcomes": dict(sorted(Counter(d["outcome"] for d in decided.values()).items())),
        "seconds_cli": round(cli_seconds, 2),
        "products_per_second_cli_end_to_end": round(cli_rate, 1),
        "peak_rss_cli_mib": round(peak_kib / 1024, 1),
        "bytes_per_record": round(out_bytes / decisions) if decisions else None,
        "seconds_rule_load_and_one_session": round(load_seconds, 3),
        "main_process_rows_per_second_read_checked_handed_over": {"rows": handed, "per_second": round(handover)},
        "reference_inverter_rows": inverter_count,
        "reference_unreadable_rows": ref_unreadable,
        "reference_products_per_second_one_core": round(ref_rate, 1),
        "cli_inverter_rows_products_per_second_jobs_1": round(same_rate, 1),
        "reference_to_cli_speed_ratio_same_rows_one_core": round(ref_rate / same_rate, 1),
        "reference_compared_qualified_or_rejected": compared,
        "reference_disagreements": len(disagree),
        "reference_disagreement_examples": disagree[:SHOW],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
