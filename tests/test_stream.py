"""A catalog decided as a stream: the JSON lines are the same bytes for one worker or two, every row
read is a record or an error record (in order), and a bad JSON line is an error for that line alone."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main

HEADER = ("product,component,is_end_product,converts_dc_to_ac,dc_source,suitable_for,phase,rated_output_voltage,"
          "ac_capacity,connects_to_one_module,used_with_certified_distributed_wind,produced_in,"
          "sold_in_trade_or_business,sold_to_related_person,related_person_election,"
          "integrated_into_component_sold_to_unrelated,facility_48c_credit_taken,production_date,sale_date")
CAPACITIES = ["650 W", "650.001 W", "20 kW", "125 kW", "125.001 kW", "1000 kW", "2 MW", "125 kVA", "12 kg", ""]


def catalog(path: Path, count: int, seed: int = 3) -> tuple[Path, int]:
    """Inverters at and around the class boundaries; about one row in ten cannot be read."""
    rng = random.Random(seed)
    bad = 0
    lines = [HEADER]
    for n in range(count):
        capacity = rng.choice(CAPACITIES)
        phase = rng.choice(["single", "three", "thre"])
        bad += capacity in ("125 kVA", "12 kg") or phase == "thre"
        lines.append(f"P{n},inverter,yes,yes,solar_module,{rng.choice(['residence', 'commercial', 'utility_scale'])},"
                     f"{phase},{rng.choice(['240 V', '480 V', '600 V'])},{capacity},{rng.choice(['yes', 'no'])},"
                     "no,United States,yes,no,no,no,no,2025-03-01,2025-04-01")
    path.write_text("\n".join(lines) + "\n")
    return path, bad


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stream")
    path, bad = catalog(tmp / "catalog.csv", 700)
    out = {}
    for jobs in (1, 2):
        target = tmp / f"jobs{jobs}.jsonl"
        result = run("classify", path, "--format", "jsonl", "--as-of", "2025-06-30", "--jobs", jobs, "-o", target)
        assert result.exit_code == 1  # some rows cannot be read: they are error records, the rest decided
        out[jobs] = (target.read_bytes(), result.stderr)
    return out, bad


def test_one_worker_and_two_write_the_same_bytes(written):
    out, _ = written
    assert out[1][0] == out[2][0]


def test_a_row_read_where_it_is_decided_or_where_it_is_read_gives_the_same_record(tmp_path):
    """Rows are read into facts by the worker that decides them, unless the --missing triage needs
    their facts where the file is read: the records are the same bytes either way, bad rows too."""
    path, bad = catalog(tmp_path / "catalog.csv", 300, seed=5)
    written = {}
    for jobs in (1, 2):
        for triage in ((), ("--missing",)):
            target = tmp_path / f"{jobs}{''.join(triage)}.jsonl"
            result = run("classify", path, "--format", "jsonl", "--as-of", "2025-06-30", "--jobs", jobs, "-o", target,
                         *triage)
            assert ("missing facts:" in result.stderr) == bool(triage)
            written[jobs, triage] = target.read_bytes()
    assert bad > 0 and len(set(written.values())) == 1


def test_every_row_read_is_a_record_or_an_error_in_input_order(written):
    out, bad = written
    lines = out[2][0].decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["product"] for r in records] == [f"P{n}" for n in range(700)]
    errors = [r for r in records if r["record"] == "error"]
    assert len(errors) == bad > 0
    assert f"700 rows read = {700 - bad} records + {bad} errors" in out[2][1]


def test_a_bad_json_line_is_an_error_for_that_line_alone(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"product": "A", "component": "inverter"}\n{"product": "B", "component": \n'
                    '{"product": "C", "component": "inverter"}\n')
    result = run("classify", path, "--format", "jsonl", "--as-of", "2025-06-30")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["record"] for r in records] == ["decision", "error", "decision"]
    assert records[1]["error"]["where"] == f"{path} line 2" and "not JSON" in records[1]["error"]["message"]
    assert result.exit_code == 1 and "3 rows read = 2 records + 1 errors" in result.stderr
