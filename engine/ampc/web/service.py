"""What the web page and the HTTP API do, with no web framework in it: decide one product, run the
interview, classify a catalog, figure the worksheet. Each reads the one pipeline and hands out the
typed records; the page and the API only render them.

durable-rules keeps process-global state, so one Decider serves the process and a lock lets one
request at a time use it (FastAPI runs the endpoints in a thread pool).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_mappings, decide_rows
from ampc.errors import InputError, Problem, did_you_mean
from ampc.io.catalog import iter_catalog
from ampc.records import record as R
from ampc.rules.model import FactDef, Rule, RuleSet, When, comparisons

# the order the interview asks a kind's facts in: what it is, then which line, then the sale
STAGE_ORDER = ("derive", "choose", "require")
DATE_ROLES = ("sale_date", "production_date", "taxable_year_begins")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One fact the rules for a kind read, as the page asks it: the unit beside the box, the enum
    values as choices, several at once for a set."""

    fact: str
    label: str
    description: str
    type: str  # bool | enum | set | quantity | text | date
    unit: str = ""
    choices: tuple[Choice, ...] = ()
    rules: tuple[str, ...] = ()  # the rules that read it


@dataclass(frozen=True)
class Kind:
    value: str
    label: str
    lines: tuple[str, ...]


@dataclass
class Interview:
    kind: Kind
    record: R.Record
    questions: list[Question]
    answers: dict[str, Any]
    next: Question | None = None  # the fact that would settle most of the rules still open
    settles: int = 0  # how many rules list it among the facts that would settle them
    unanswered: list[Question] = field(default_factory=list)


class Service:
    def __init__(self, ruleset: RuleSet):
        self.ruleset = ruleset
        self.decider = Decider(ruleset)
        self.lock = threading.Lock()
        self.kind_fact = ruleset.role("kind")

    def close(self) -> None:
        self.decider.close()

    # -- the vocabulary ---------------------------------------------------------------------------

    def kinds(self) -> list[Kind]:
        out = []
        for value in self.ruleset.facts[self.kind_fact].values:
            rules = [r for r in self.ruleset.rules if r.family == value]
            identify = [r for r in rules if self.ruleset.stage_kind(r.stage) == "derive"]
            classes = [r for r in rules if self.ruleset.stage_kind(r.stage) == "choose"]
            lines = tuple(dict.fromkeys(str(r.then.get(self.ruleset.role("line"), r.line)) for r in classes))
            label = identify[0].label if identify else value.replace("_", " ").capitalize()
            out.append(Kind(value, label, lines))
        return out

    def kind(self, value: str) -> Kind:
        for k in self.kinds():
            if k.value == value:
                return k
        raise InputError(Problem(self.kind_fact, f"'{value}' is no kind of component",
                                 f"one of {', '.join(self.ruleset.facts[self.kind_fact].values)}"
                                 f"{did_you_mean(value, self.ruleset.facts[self.kind_fact].values)}",
                                 key=self.kind_fact))

    def questions(self, kind: str, when: When | None = None) -> list[Question]:
        """The facts the rules for the kind read (in force on the dates, if given), in stage order:
        the facts a catalog gives (a computed fact's inputs in its place), never a concluded one."""
        rules = [r for r in self.ruleset.rules if r.applies_to(kind) and (when is None or r.in_force(when))]
        rules.sort(key=lambda r: STAGE_ORDER.index(self.ruleset.stage_kind(r.stage)))
        readers: dict[str, list[str]] = {}
        for rule in rules:
            for name in self._asked(rule):
                readers.setdefault(name, []).append(rule.id)
        dates = [self.ruleset.roles[r] for r in DATE_ROLES]
        order = [f for f in readers if f not in dates] + [f for f in dates if f in readers or f == dates[0]]
        return [self.question(self.ruleset.facts[f], tuple(dict.fromkeys(readers.get(f, ())))) for f in order
                if f != self.kind_fact]

    def _asked(self, rule: Rule) -> Iterator[str]:
        from ampc.rules.formula import facts_used
        for cmp in comparisons(rule.when):
            yield from self._givable(cmp.fact, facts_used)

    def _givable(self, name: str, facts_used) -> Iterator[str]:
        fact = self.ruleset.facts[name]
        if fact.derived:
            return
        if fact.computed and not fact.given_instead_of:
            for used in facts_used(fact.computed):
                yield from self._givable(used, facts_used)
            return
        yield name

    def question(self, fact: FactDef, rules: tuple[str, ...] = ()) -> Question:
        choices = tuple(Choice(v, fact.value_labels.get(v, v.replace("_", " "))) for v in fact.values)
        return Question(fact.name, fact.label or fact.name, fact.description, fact.type, fact.unit, choices, rules)

    # -- deciding ---------------------------------------------------------------------------------

    def decide(self, facts: dict[str, Any], as_of: dt.date | None = None, label: str = "request") -> R.Record:
        """One product's facts, as a catalog row gives them (units in the values), to its record."""
        item = {"product": str(facts.get("product") or "product"), **{k: v for k, v in facts.items() if k != "product"}}
        with self.lock:
            return decide_mappings([item], label, self.decider, as_of)[0]

    def interview(self, kind: str, answers: dict[str, Any], as_of: dt.date | None = None) -> Interview:
        """The outcome on the facts known so far, and while it is undetermined the fact to ask next:
        the one that the most of the rules still open list as settling them."""
        k = self.kind(kind)
        given = {f: v for f, v in answers.items() if v not in (None, "", [])}
        record = self.decide({"product": f"{kind} (interview)", self.kind_fact: kind, **given}, as_of, "interview")
        when = None
        if isinstance(record, R.Decision):
            when = When(record.dates.sale, record.dates.production, record.dates.taxable_year_begins)
        questions = self.questions(kind, when)
        out = Interview(k, record, questions, given)
        out.unanswered = [q for q in questions if q.fact not in given]
        if isinstance(record, R.Decision) and record.outcome == "undetermined":
            counts: Counter[str] = Counter()
            for c in record.considered:
                counts.update(c.missing)
            counts.update(record.missing)
            by_fact = {q.fact: q for q in out.unanswered}
            ranked = sorted((f for f in counts if f in by_fact),
                            key=lambda f: (-counts[f], [q.fact for q in questions].index(f)))
            if ranked:
                out.next, out.settles = by_fact[ranked[0]], counts[ranked[0]]
        return out

    def classify(self, path: Path, as_of: dt.date | None = None) -> list[R.Record]:
        """A catalog file's records, in its order (an unreadable row is an error record); rows are
        located by the file's name, not the folder it is held in."""
        with self.lock, _named(path):
            return list(decide_rows(iter_catalog(path, self.ruleset, shown=path.name), self.decider, as_of))

    def credit(self, catalog: Path, ledger: Path, tax_year: str | None = None, as_of: dt.date | None = None):
        """The worksheet run for a catalog and a sales ledger (ampc.credit.compute)."""
        from ampc.credit import compute
        from ampc.credit.ledger import iter_ledger
        from ampc.credit.model import TaxYear
        try:
            year = TaxYear.parse(tax_year, None) if tax_year else None
        except ValueError as exc:
            raise InputError(Problem("tax_year", str(exc), "a year (2025) or its first and last day, "
                                     "2025-07-01..2026-06-30", key="tax_year")) from None
        with self.lock, _named(catalog), _named(ledger):
            catalog_rows = list(iter_catalog(catalog, self.ruleset, shown=catalog.name))
            sales = list(iter_ledger(ledger, self.ruleset, shown=ledger.name))
            return compute.compute(catalog_rows, sales, self.ruleset, year, as_of, None, None)


@contextmanager
def _named(path: Path) -> Iterator[None]:
    """A file that cannot be used at all is named as it was sent, not by the folder holding it."""
    try:
        yield
    except InputError as exc:
        p = exc.problem
        where = path.name + p.where[len(str(path)):] if p.where.startswith(str(path)) else p.where
        raise InputError(Problem(where, p.message, p.fix, p.key)) from None
