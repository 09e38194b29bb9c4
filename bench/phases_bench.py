"""Benchmark: where the time of one product goes, step by step, on the mixed catalog.

Writes the seeded mixed CSV of bench/mixed_bench.py (every kind of component, values at and around
the thresholds, some facts left empty, about 1 % bad rows), then runs `ampc classify CATALOG --format
jsonl --jobs 1 --quiet` in this process with each step's function wrapped in a timer: normalizing a
row, the engine, the explainer, the agreement check, building the record, making it compact and
encoding it. Prints the microseconds a row each step took and the total, with the machine. The
wrappers add a little to every step; the figures are for seeing where the time goes, the products
per second of bench/mixed_bench.py are those to quote.

    .venv/bin/python bench/phases_bench.py [--count 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from ampc import cli
from ampc.decide import batch, compile, decider
from ampc.io import catalog, rowcheck
from ampc.records import record
from ampc.rules.loader import load_ruleset
from machine import machine
from mixed_bench import generate

STEPS = [  # (module or class, function, the step it is)
    (catalog, "normalize", "normalize the row"),  # where the row is read (with --missing)
    (rowcheck, "normalize", "normalize the row"),  # where it is decided (ampc classify)
    (compile.Session, "decide", "engine"),
    (decider.Decider, "explain", "explainer"),
    (decider.Decider, "_agree", "agreement check"),
    (decider.Decider, "_record", "build the record"),
    (batch, "compact", "make it compact"),
    (record, "encode", "encode it as JSON"),
]


def timed(owner, name: str, step: str, spent: Counter) -> None:
    """Wrap owner.name so that the time spent in it is added to spent[step]."""
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[step] += time.perf_counter() - started
    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    spent: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "mixed.csv", Path(tmp) / "out.jsonl"
        generate(path, args.count, args.seed, load_ruleset())
        for owner, name, step in STEPS:
            timed(owner, name, step, spent)
        started = time.perf_counter()
        try:
            cli.main(["classify", str(path), "--format", "jsonl", "-o", str(out), "--quiet", "--jobs", "1"],
                     standalone_mode=False)
        except SystemExit:
            pass
        total = time.perf_counter() - started
    per_row = {step: round(spent[step] * 1e6 / args.count) for _, _, step in STEPS}
    per_row["the rest (reading the CSV, each row's bookkeeping, writing; loading the rules)"] = round(
        total * 1e6 / args.count - sum(per_row.values()))
    print(json.dumps({"machine": machine(), "rows": args.count, "seed": args.seed,
                      "microseconds_a_row": per_row, "total_microseconds_a_row": round(total * 1e6 / args.count)},
                     indent=2))


if __name__ == "__main__":
    main()
