"""The machine a benchmark ran on, printed with its figures: platform, CPU, cores, memory, Python,
durable-rules."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def machine() -> dict:
    mem = ""
    try:
        with open("/proc/meminfo") as handle:
            mem = handle.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(), "durable-rules": metadata.version("durable-rules")}
