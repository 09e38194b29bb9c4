"""Typed errors: every problem names where it is (file, line, row, key) and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located and with its fix."""

    where: str  # "rules/part_ii/line_03.yaml:42" or "examples/catalog.csv row 7"
    message: str
    fix: str = ""
    key: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text

    def to_dict(self) -> dict:
        return {"where": self.where, "key": self.key, "message": self.message, "fix": self.fix}


class AmpcError(Exception):
    """Base of every error ampc reports to a person."""


class ValidationFailed(AmpcError):
    """The rule set (rules/ and definitions/) has problems; all of them are listed."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(AmpcError):
    """A catalog value, row or file cannot be read as the vocabulary requires."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class EngineError(AmpcError):
    """The rule engine failed or disagreed with the explainer: a bug, never a silent non-decision."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def written(value: object) -> str:
    """A value as a person wrote it, for a message: 'kVA', 0.996, 2025-02-30, {value: 1, unit: kW};
    never a Python repr."""
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(written(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)
