"""A bounded load check of the HTTP API: N concurrent clients on loopback posting /v1/decide for S
seconds to `ampc serve`, started here in its own process. Each client posts one product after
another on a kept-alive connection, cycling through a few products of different kinds and outcomes
(so the server's reuse of a decision for identical facts is part of what is measured, as it is for a
catalog with repeated products). Prints the machine, the requests made, the errors (any answer
but 200, or a record of the wrong outcome), the throughput and the latency percentiles. Exit status 1
on any error.

    .venv/bin/python bench/load_api.py [--clients 100] [--seconds 30] [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from machine import machine

BASE = {"component": "inverter", "is_end_product": True, "converts_dc_to_ac": True, "dc_source": ["solar_module"],
        "connects_to_one_module": False, "used_with_certified_distributed_wind": False,
        "produced_in": "united_states", "sold_in_trade_or_business": True, "sold_to_related_person": False,
        "facility_48c_credit_taken": False, "production_date": "2024-01-01", "sale_date": "2024-03-01"}
PRODUCTS = [  # (facts, the outcome and line the record must have)
    ({**BASE, "connects_to_one_module": True, "phase": "single", "rated_output_voltage": "240 V",
      "ac_capacity": "300 W", "suitable_for": ["residence"]}, ("qualified", "3e")),
    ({**BASE, "phase": "single", "rated_output_voltage": "240 V", "ac_capacity": "7.6 kW",
      "suitable_for": ["residence"]}, ("qualified", "3d")),
    ({**BASE, "phase": "three", "rated_output_voltage": "480 V", "ac_capacity": "100 kW",
      "suitable_for": ["commercial"]}, ("qualified", "3c")),
    ({**BASE, "phase": "three", "rated_output_voltage": "480 V", "ac_capacity": "500 kW",
      "suitable_for": ["commercial"]}, ("rejected", None)),
    ({**BASE, "phase": "three", "rated_output_voltage": "600 V", "suitable_for": ["utility_scale"]},
     ("undetermined", None)),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    ampc = Path(sys.executable).with_name("ampc")
    proc = subprocess.Popen([str(ampc), "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/editions", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")


async def client(base: str, index: int, stop: float, latencies: list[float], errors: list[str]) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        k = index
        while time.monotonic() < stop:
            facts, (outcome, line) = PRODUCTS[k % len(PRODUCTS)]
            k += 1
            began = time.perf_counter()
            try:
                r = await http.post("/v1/decide", json={"facts": {"product": f"P{k % len(PRODUCTS)}", **facts}})
            except httpx.HTTPError as exc:
                errors.append(f"client {index}: {type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - began)
            if r.status_code != 200:
                errors.append(f"client {index}: HTTP {r.status_code}: {r.text[:200]}")
                continue
            body = r.json()
            if (body["outcome"], body.get("line")) != (outcome, line):
                errors.append(f"client {index}: {body['product']} {body['outcome']} {body.get('line')}, "
                              f"expected {outcome} {line}")


async def load(base: str, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    began = time.monotonic()
    stop = began + seconds
    await asyncio.gather(*(client(base, i, stop, latencies, errors) for i in range(clients)))
    return latencies, errors, time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args()
    port = args.port or free_port()
    print(json.dumps(machine()))
    proc = start_server(port)
    try:
        latencies, errors, took = asyncio.run(load(f"http://127.0.0.1:{port}", args.clients, args.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    n = len(latencies)
    print(f"{args.clients} clients, {took:.1f} s: {n:,} requests answered, {len(errors)} error(s), "
          f"{n / took:,.0f} requests/s")
    if latencies:
        print(f"latency: p50 {percentile(latencies, 0.50) * 1000:.1f} ms, p90 {percentile(latencies, 0.90) * 1000:.1f} "
              f"ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms, "
              f"mean {statistics.fmean(latencies) * 1000:.1f} ms")
    for e in errors[:10]:
        print(f"  {e}")
    print(f"server: ampc serve on 127.0.0.1:{port}, one process (pid {proc.pid}), cores {os.cpu_count()}")
    return 1 if errors or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
