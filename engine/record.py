"""Decision records: plain frozen data that every renderer reads and none re-decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evaluate import Check

QUALIFIED, REJECTED, UNDETERMINED, ERROR = "qualified", "rejected", "undetermined", "error"


@dataclass(frozen=True)
class Considered:
    """One rule as considered for this product."""

    rule: str
    stage: str
    line: str
    label: str
    result: str  # "holds" | "fails" | "undetermined" | "not in force"
    citation: str
    text: str
    where: str
    checks: tuple[Check, ...]
    failed: tuple[Check, ...] = ()  # the clauses that made it fail
    missing: tuple[str, ...] = ()  # facts that would settle it
    in_force: str = ""  # the edition that applied: "sold from 2023-01-01", "in taxable years beginning from ..."
    held_by: tuple[Check, ...] = ()  # the clauses that made it hold (the alternative met, for an any)
    relevant: bool = True  # False: a candidate that failed on the kind it names (mineral tin is not aluminum)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "stage": self.stage, "line": self.line, "label": self.label,
                "result": self.result, "citation": self.citation, "text": self.text, "source": self.where,
                "in_force": self.in_force, "relevant": self.relevant,
                "failed": [c.to_dict() for c in self.failed], "missing": list(self.missing),
                "checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class Flag:
    """Something a reviewer must look at: an overlap decided by precedence, an open reading."""

    kind: str  # "overlap" | "interpretation" | "undeclared_overlap"
    message: str
    review: str = ""
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "review": self.review, "rules": list(self.rules)}


@dataclass(frozen=True)
class Decision:
    product: str
    outcome: str
    line: str | None
    reason: str
    as_of: str
    ruleset: dict
    description: str = ""
    chain: tuple[str, ...] = ()
    considered: tuple[Considered, ...] = ()
    missing: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()
    facts: dict = field(default_factory=dict)
    possible_lines: tuple[str, ...] = ()
    error: dict | None = None
    row: int | None = None
    classified_line: str | None = None  # the line whose definition it meets, qualified or not
    derived: dict = field(default_factory=dict)  # what the rules concluded (line, part_iv_line, ...)
    dates: dict = field(default_factory=dict)  # the dates the law was read at: sale, production, taxable year
    decided_by: tuple[str, ...] = ()  # the rules that settled the outcome

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "product": self.product, "description": self.description, "outcome": self.outcome,
            "line": self.line, "classified_line": self.classified_line, "reason": self.reason,
            "explanation": {
                "chain": list(self.chain),
                "considered": [c.to_dict() for c in self.considered],
                "missing": list(self.missing),
                "possible_lines": list(self.possible_lines),
                "flags": [f.to_dict() for f in self.flags],
                "derived": self.derived,
                "decided_by": list(self.decided_by),
            },
            "facts": self.facts, "ruleset": self.ruleset, "as_of": self.as_of, "dates": self.dates,
        }
        if self.row is not None:
            data["row"] = self.row
        if self.error is not None:
            data["error"] = self.error
        return data
