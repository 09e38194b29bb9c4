"""The chunk function on a Dask distributed cluster: `--scheduler` writes the same JSON lines, byte for
byte, as `--jobs 2`, each worker process compiles the rules once, and an address where no scheduler
answers is an error naming it (exit 2), not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from ampc.decide import batch
from test_stream import catalog, run

ROWS = 3000
AMPC = Path(sys.executable).with_name("ampc")


@pytest.fixture(scope="module")
def cluster():
    # durable-rules keeps process-global state: worker processes, one thread each
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster


def test_a_dask_cluster_writes_the_same_bytes_as_two_worker_processes(cluster, tmp_path, ruleset):
    path, bad = catalog(tmp_path / "catalog.csv", ROWS, seed=11)
    out = {}
    for name, option in (("dask", ("--scheduler", cluster.scheduler_address)), ("jobs", ("--jobs", 2))):
        target = tmp_path / f"{name}.jsonl"
        result = run("classify", path, "--format", "jsonl", "--as-of", "2025-06-30", *option, "-o", target)
        assert result.exit_code == 1  # some rows cannot be read: they are error records, the rest decided
        assert f"{ROWS:,} rows read = {ROWS - bad:,} records + {bad:,} errors" in result.stderr
        out[name] = target.read_bytes()
    assert out["dask"] == out["jobs"]
    products = [json.loads(line)["product"] for line in out["dask"].splitlines()]
    assert products == [f"P{n}" for n in range(ROWS)] and bad > 0  # every row, in input order
    with Client(cluster) as client:
        loaded = client.run(lambda: [key[2] for key in batch._worker])
    assert list(loaded.values()) == [[ruleset.sha256]] * 2  # both workers decided, each with one engine


def test_an_address_where_no_scheduler_answers_is_an_error_naming_it(tmp_path):
    path, _ = catalog(tmp_path / "catalog.csv", 10)
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = subprocess.run([AMPC, "classify", path, "--format", "jsonl", "--scheduler", "tcp://127.0.0.1:1"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    error, fix = result.stderr.splitlines()
    assert error.startswith("error: --scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there")
    assert fix.strip().startswith("fix: check the address")
