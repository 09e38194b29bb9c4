"""Benchmark: the engine and the explainer agree on N random products of every kind (default 1,000,000).

The products are those of the property test (engine/ampc/analysis/products.py): every fact at, just inside and just
outside each threshold its rules state, facts left out, computed facts reached through their inputs,
as-of dates around every change in force. Drawn here with a seeded random.Random, in chunks that
worker processes share out (each loads the rules and builds its own Decider: durable-rules keeps
process-global state). The same seed gives the same products, whatever the number of workers.
Prints the machine, the products per kind, how many rules the products reached, the count of
disagreements with the first few (and their facts), products per second and the time taken.
Exit status 1 if the engine and the explainer disagreed on any product.

    .venv/bin/python bench/agreement_bench.py [--n 1000000] [--jobs N] [--seed 7] [--rules DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from ampc.analysis.products import Products, compare
from ampc.decide.decider import Decider
from ampc.rules.loader import load_ruleset
from ampc.rules.units import plain as plain_decimal
from machine import machine

CHUNK = 2000  # products per task: small enough to share out evenly, large enough to be cheap
SHOW = 5  # disagreements shown in full

_worker: dict = {}


def plain(value):
    """A fact value as JSON shows it: decimals and dates as text, sets as sorted lists."""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def _start(root: str) -> None:
    ruleset = load_ruleset(Path(root))
    _worker["generator"] = Products(ruleset)
    _worker["decider"] = Decider(ruleset)


def run_chunk(task: tuple[int, int, int]) -> dict:
    """Draw and check `count` products with the chunk's own seed; what they came to."""
    seed, index, count = task
    generator, decider = _worker["generator"], _worker["decider"]
    rng = random.Random(f"{seed}:{index}")

    def pick(options):
        return options[rng.randrange(len(options))]

    kinds: Counter = Counter()
    held: set[str] = set()
    failed: set[str] = set()
    bad: list[dict] = []
    disagreements = errors = 0
    for _ in range(count):
        kind = pick(generator.kinds)
        facts, when = generator.product(kind, pick), generator.when(pick)
        kinds[kind] += 1
        try:
            problem, results = compare(decider, facts, when)
        except Exception as exc:  # an engine or explainer failure is a finding too
            problem, results = f"{type(exc).__name__}: {exc}", {}
            errors += 1
        else:
            disagreements += problem is not None
        held.update(rid for rid, r in results.items() if r.result is True)
        failed.update(rid for rid, r in results.items() if r.result is False)
        if problem is not None and len(bad) < SHOW:
            bad.append({"problem": problem, "as_of": when.to_dict(),
                        "facts": {k: plain(v) for k, v in facts.items()}})
    return {"kinds": kinds, "held": held, "failed": failed, "bad": bad,
            "disagreements": disagreements, "errors": errors, "count": count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="products to check (default 1,000,000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", default=str(Path(__file__).resolve().parent.parent),
                        help="the directory holding rules/ and definitions/")
    args = parser.parse_args(argv)

    print(json.dumps({"machine": machine(), "products": args.n, "jobs": args.jobs, "seed": args.seed}, indent=2))
    ruleset = load_ruleset(Path(args.rules))
    rules = {r.id for r in ruleset.rules}
    tasks = [(args.seed, i, min(CHUNK, args.n - start)) for i, start in enumerate(range(0, args.n, CHUNK))]
    total = {"kinds": Counter(), "held": set(), "failed": set(), "bad": [], "disagreements": 0, "errors": 0,
             "count": 0}
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # nothing of durable-rules' state crosses over
    with context.Pool(args.jobs, initializer=_start, initargs=(args.rules,)) as pool:
        for done in pool.imap_unordered(run_chunk, tasks):
            total["kinds"].update(done["kinds"])
            total["held"] |= done["held"]
            total["failed"] |= done["failed"]
            total["bad"].extend(done["bad"][:SHOW - len(total["bad"])])
            for key in ("disagreements", "errors", "count"):
                total[key] += done[key]
            if len(tasks) > 10 and total["count"] % (CHUNK * max(1, len(tasks) // 10)) == 0:
                rate = total["count"] / (time.perf_counter() - started)
                print(f"  {total['count']:,} products, {rate:,.0f}/s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started

    print("\nproducts per kind:")
    for kind, count in sorted(total["kinds"].items()):
        print(f"  {kind:<30} {count:>10,}")
    print(f"rules reached: {len(total['held'] & rules)} of {len(rules)} held on some product, "
          f"{len(total['failed'] & rules)} failed on some product")
    never = sorted(rules - total["held"])
    if never:
        print(f"  never held: {', '.join(never[:10])}{' ...' if len(never) > 10 else ''}")
    print(f"disagreements: {total['disagreements']:,}   engine or explainer errors: {total['errors']:,}")
    for bad in total["bad"]:
        print(json.dumps(bad, indent=2, default=str))
    print(f"checked {total['count']:,} products in {elapsed:,.1f} s ({total['count'] / elapsed:,.0f} products/s, "
          f"{args.jobs} workers)")
    return 1 if total["disagreements"] or total["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
