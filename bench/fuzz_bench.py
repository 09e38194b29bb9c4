"""Benchmark and long fuzz run: the generators of tests/test_fuzz.py, every defect kind included
(those the test suite leaves to its strict xfails too), over many more rows and rule mutations.

Catalog rows in batches of every format (CSV, XLSX, JSON, JSON lines, YAML), decided through the one
pipeline and checked against the invariants (no exception; rows in = records out; every error at
file and row with its fix; a row with a defect an error record, a valid row a decision); a few
whole files through `ampc classify --format jsonl`; sales ledgers through the credit and every
worksheet renderer; mutated copies of the rule set through validate (and load, where it validates).
Prints the machine, the figures (rows, errors by kind, mutations by kind, timings) and every distinct
failure with its count and a reproduction. Exit status 1 if a failure is of a kind that
tests/test_fuzz.py does not list in KNOWN or NEW (a new finding), else 0.

    .venv/bin/python bench/fuzz_bench.py [--rows 10000] [--ledger-rows 2000] [--mutations 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from click.testing import CliRunner  # noqa: E402

import test_fuzz as F  # noqa: E402  (the generators and checks, shared with the test suite)
from ampc.cli import main as cli  # noqa: E402
from ampc.decide.decider import Decider  # noqa: E402
from ampc.rules.loader import load_ruleset  # noqa: E402

EVERY_KIND = F.VALUE_KINDS + F.ROW_KINDS + F.EITHER_KINDS
LISTED = set(F.KNOWN) | set(F.NEW)


class Findings:
    """Failures grouped by what failed, its kind and its message without the numbers and paths."""

    def __init__(self):
        self.groups: dict[tuple, list] = {}

    def add(self, failures: list) -> None:
        for f in failures:
            key = (f.what, f.kind, f.sig or _shape(f.detail))
            self.groups.setdefault(key, []).append(f)

    def report(self) -> list[str]:
        out = []
        for (what, kind, _), items in sorted(self.groups.items(), key=lambda kv: -len(kv[1])):
            first = items[0]
            listed = "listed" if kind in LISTED else "NEW FINDING"
            reason = F.KNOWN.get(kind) or F.NEW.get(kind) or ""
            out.append(f"- [{what}] kind {kind or '(file)'} x{len(items)} ({listed}; formats "
                       f"{', '.join(sorted({i.fmt for i in items}))}){': ' + reason if reason else ''}")
            out.append(f"    {first.detail[:400]}")
            if first.repro:
                out.append("    reproduce with this file:")
                out.extend("      " + line for line in first.repro.splitlines()[:8])
        return out

    def unlisted(self) -> int:
        return sum(len(v) for (_, kind, _), v in self.groups.items() if kind not in LISTED)


def _shape(text: str) -> str:
    import re
    text = re.sub(r"/\S+", "PATH", text)
    return re.sub(r"[-+]?\d[\d.,eE+-]*", "N", text)[:160]


def catalogs(rnd, ruleset, rows: int, batch: int, tmp: Path, findings: Findings, tally: Counter) -> float:
    start = time.perf_counter()
    with Decider(ruleset) as decider:
        n = 0
        while tally["catalog rows"] < rows:
            fmt = F.FORMATS[n % len(F.FORMATS)]
            b = F.make_batch(rnd, ruleset, fmt, batch, EVERY_KIND)
            path = F.write(b, tmp / f"catalog{n}.{fmt}")
            failures, errors = F.check_catalog(b, path, ruleset, decider, tmp)
            findings.add(failures)
            tally["catalog rows"] += len(b.rows)
            tally[f"rows {fmt}"] += len(b.rows)
            for row in b.rows:
                tally[f"kind {row.kind}"] += 1
            for kind, count in errors.items():
                tally[f"errors {kind}"] += count
            tally["error records"] += sum(errors.values())
            n += 1
    return time.perf_counter() - start


def through_cli(rnd, ruleset, files: int, tmp: Path, findings: Findings, tally: Counter) -> float:
    import json
    start = time.perf_counter()
    for n in range(files):
        fmt = F.FORMATS[n % len(F.FORMATS)]
        b = F.make_batch(rnd, ruleset, fmt, 40, [k for k in EVERY_KIND if k not in F.SKIP])
        path = F.write(b, tmp / f"cli{n}.{fmt}")
        result = CliRunner().invoke(cli, ["classify", str(path), "--format", "jsonl", "--strict", "--quiet"])
        tally["cli runs"] += 1
        tally["cli rows"] += len(b.rows)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed or "Traceback" in result.output or result.exit_code not in (0, 1, 2):
            findings.add([F.Failure("crash", "cli", fmt, f"exit {result.exit_code}: {result.exception!r}")])
            continue
        lines = result.stdout.splitlines()
        if result.exit_code == 2 and any(r.kind in F.WHOLE_FILE for r in b.rows):
            continue
        if len(lines) != len(b.rows):
            findings.add([F.Failure("lost rows", "cli", fmt, f"{len(b.rows)} rows in, {len(lines)} records out")])
            continue
        errors = sum(json.loads(line)["record"] == "error" for line in lines)
        if result.exit_code != (1 if errors else 0):
            findings.add([F.Failure("exit status", "cli", fmt, f"exit {result.exit_code} with {errors} error records")])
    return time.perf_counter() - start


def ledgers(rnd, ruleset, rows: int, tmp: Path, findings: Findings, tally: Counter) -> float:
    start = time.perf_counter()
    products = F.credit_products()
    n = 0
    while tally["ledger rows"] < rows:
        fmt = F.FORMATS[n % len(F.FORMATS)]
        b = F.make_ledger(rnd, fmt, 50, F.LEDGER_KINDS, products)
        failures = F.check_ledger(b, F.write(b, tmp / f"sales{n}.{fmt}"), ruleset, rnd.choice([None, 2025]))
        findings.add(failures)
        tally["ledger rows"] += len(b.rows)
        for row in b.rows:
            tally[f"ledger kind {row.kind}"] += 1
        n += 1
    return time.perf_counter() - start


def mutations(rnd, count: int, tmp: Path, findings: Findings, tally: Counter) -> float:
    start = time.perf_counter()
    tree = F.RuleTree(tmp / "rules")
    with tree.cache:
        while tally["mutations"] < count:
            m = F.mutate(rnd, tree.files, rnd.choice(F.MUTATION_KINDS))
            if m is None:
                continue
            tree.apply(m)
            try:
                before = F.COUNTS["mutations reported"]
                findings.add(F.check_mutation(tree, m))
                tally["mutations reported"] += F.COUNTS["mutations reported"] - before
            finally:
                tree.restore(m)
            tally["mutations"] += 1
            tally[f"mutation {m.kind}"] += 1
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="catalog rows to generate")
    parser.add_argument("--batch", type=int, default=50, help="rows per catalog file")
    parser.add_argument("--cli", type=int, default=20, help="whole catalog files through `ampc classify`")
    parser.add_argument("--ledger-rows", type=int, default=2_000, help="sales ledger rows to generate")
    parser.add_argument("--mutations", type=int, default=1_000, help="rule-set mutations to validate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print("machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    rnd = random.Random(args.seed)
    ruleset = load_ruleset(ROOT)
    findings, tally = Findings(), Counter()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        times = {"catalogs": catalogs(rnd, ruleset, args.rows, args.batch, tmp, findings, tally),
                 "cli": through_cli(rnd, ruleset, args.cli, tmp, findings, tally),
                 "ledgers": ledgers(rnd, ruleset, args.ledger_rows, tmp, findings, tally),
                 "mutations": mutations(rnd, args.mutations, tmp, findings, tally)}

    rows = tally["catalog rows"]
    print(f"\ncatalog rows: {rows:,} in {times['catalogs']:.1f} s ({rows / times['catalogs']:,.0f} rows/s), "
          + ", ".join(f"{f} {tally['rows ' + f]:,}" for f in F.FORMATS))
    print(f"  error records: {tally['error records']:,}; rows by kind (generated / error records):")
    kinds = sorted(k[5:] for k in tally if k.startswith("kind "))
    for i in range(0, len(kinds), 4):
        print("    " + "   ".join(f"{k} {tally['kind ' + k]}/{tally['errors ' + k]}" for k in kinds[i:i + 4]))
    print(f"cli: {tally['cli runs']} files, {tally['cli rows']:,} rows in {times['cli']:.1f} s")
    ledger = tally["ledger rows"]
    print(f"ledger rows: {ledger:,} in {times['ledgers']:.1f} s ({ledger / times['ledgers']:,.0f} rows/s), "
          f"errors {F.COUNTS['ledger errors']:,}; by kind: "
          + ", ".join(f"{k[12:]} {v}" for k, v in sorted(tally.items()) if k.startswith("ledger kind ")))
    muts = tally["mutations"]
    print(f"mutations: {muts:,} in {times['mutations']:.1f} s ({muts / times['mutations']:,.1f}/s), "
          f"{tally['mutations reported']:,} reported by validate; by kind: "
          + ", ".join(f"{k[9:]} {v}" for k, v in sorted(tally.items()) if k.startswith("mutation m")))
    total = sum(len(v) for v in findings.groups.values())
    print(f"\nfailures: {total} ({len(findings.groups)} distinct; {findings.unlisted()} of kinds not listed "
          f"in tests/test_fuzz.py KNOWN or NEW)")
    for line in findings.report():
        print(line)
    return 1 if findings.unlisted() else 0


if __name__ == "__main__":
    sys.exit(main())
