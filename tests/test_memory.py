"""A catalog too large to hold is decided in flat memory: the peak RSS of `ampc classify` to JSON
lines is about the same for 4,000 rows and for 60,000 (measured in a subprocess of its own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_stream import HEADER

ROW = ("{n},inverter,yes,yes,solar_module,{use},{phase},{volts},{cap},{one},no,United States,yes,no,no,no,no,"
       "2025-03-01,2025-04-01")
SPECS = [dict(use=use, phase=phase, volts=volts, cap=cap, one=one)
         for use in ("residence", "commercial") for phase in ("single", "three")
         for volts in ("240 V", "480 V") for cap in ("650 W", "20 kW", "125 kW", "200 kW") for one in ("yes", "no")]
# The peak of this process's own memory: VmHWM, not ru_maxrss, which on Linux keeps the peak of
# the process it was forked from (a test process of some hundreds of MiB).
PEAK = ("import sys\nfrom ampc.cli import main\nsys.argv = ['ampc'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "print(int(hwm.split()[1]), file=sys.stderr)")


def _peak_kib(tmp_path: Path, rows: int) -> int:
    catalog = tmp_path / f"c{rows}.csv"
    with catalog.open("w") as handle:
        handle.write(HEADER + "\n")
        for n in range(rows):
            handle.write(ROW.format(n=f"P{n}", **SPECS[n % len(SPECS)]) + "\n")
    out = tmp_path / f"r{rows}.jsonl"
    done = subprocess.run([sys.executable, "-c", PEAK, "classify", str(catalog), "--format", "jsonl", "--jobs", "1",
                           "--quiet", "--as-of", "2025-06-30", "-o", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert sum(1 for _ in out.open()) == rows, done.stderr
    return int(done.stderr.strip().splitlines()[-1])


def test_memory_stays_flat_whatever_the_catalog_size(tmp_path):
    small, large = _peak_kib(tmp_path, 4_000), _peak_kib(tmp_path, 60_000)
    assert large - small < 40 * 1024, f"peak RSS {small // 1024} MiB at 4,000 rows, {large // 1024} MiB at 60,000"


def _mixed_peak_kib(tmp_path: Path, rows: int) -> int:
    """Peak RSS deciding a seeded mixed catalog (bench/mixed_bench.py's: every kind of component,
    dates around every change of the law, some facts left empty, some bad rows)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    try:
        from mixed_bench import generate
    finally:
        sys.path.pop(0)
    from ampc.rules.loader import load_ruleset
    catalog = tmp_path / f"mixed{rows}.csv"
    generate(catalog, rows, 7, load_ruleset())
    out = tmp_path / f"mixed{rows}.jsonl"
    done = subprocess.run([sys.executable, "-c", PEAK, "classify", str(catalog), "--format", "jsonl", "--jobs", "1",
                           "--quiet", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert sum(1 for _ in out.open()) == rows, done.stderr
    return int(done.stderr.strip().splitlines()[-1])


def test_memory_stays_flat_on_a_mixed_catalog_over_every_change_of_the_law(tmp_path):
    """Products of every kind on dates around every change in force: the engine compiled for the
    law's states must not grow with them (one session per kind, over every date)."""
    small, large = _mixed_peak_kib(tmp_path, 3_000), _mixed_peak_kib(tmp_path, 12_000)
    assert large - small < 40 * 1024, f"peak RSS {small // 1024} MiB at 3,000 rows, {large // 1024} MiB at 12,000"
    assert large < 250 * 1024, f"peak RSS {large // 1024} MiB at 12,000 rows"
