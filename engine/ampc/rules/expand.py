"""Expanding a rules file as an analyst writes it into the rules the loader builds: file-level
defaults a rule overrides only where it differs, and tables (the critical minerals) that stand for
one rule per row. Runs on the parsed YAML, before its shape is checked."""

from __future__ import annotations

from typing import Any

from ampc.errors import Problem


def expand(data: Any, where: str) -> tuple[Any, list[Problem]]:
    """The rules file's data with its defaults applied and its tables expanded, and any problems
    (each naming the file and line). Today: the data as written."""
    return data, []
