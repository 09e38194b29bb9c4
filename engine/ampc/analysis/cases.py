"""The YAML test cases of a rule set, run through the one pipeline: `ampc test`, and pytest.

A case file (tests/cases/**/*.yaml, checked against rules/schemas/cases.schema.json) names products
by the facts they give and says what the rules must decide for each: the outcome and line, the rules
that hold, fail (with the facts of the clauses that made them fail) or are undetermined, the
missing facts, the flags; or, for an input the case expects refused, the column and words of the
message and of the fix. A case is decided as a one-row catalog, exactly as `ampc classify` decides a
row, and every difference from what it expects is a Mismatch holding the expected and the actual
value and the clauses that explain it (each with its rule, actual value, threshold and parameter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ampc.errors import Problem
from ampc.records import record as R

CASES_DIR = Path("tests") / "cases"


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the case file, as shown (relative to the cases' root)
    line: int  # the line of the case in it
    facts: dict[str, Any]
    expect: dict[str, Any]
    as_of: dt.date | None = None

    @property
    def id(self) -> str:
        return f"{self.file}: {self.name}"


@dataclass(frozen=True)
class Mismatch:
    """One way the decision differs from the case: `what` names the part of the expectation."""

    what: str  # outcome | line | holds | fails | undetermined | missing | flags | error | expect
    expected: Any
    actual: Any
    rule: str | None = None  # the rule it is about (holds, fails, undetermined)
    clauses: tuple[R.Clause, ...] = ()  # the clauses that explain it, with values and thresholds


@dataclass(frozen=True)
class CaseResult:
    case: Case
    record: R.Record
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass
class CaseRun:
    """Every case read and decided, and the problems of the files that could not be read."""

    cases_dir: Path
    results: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


# ---------------------------------------------------------------------------------------------------
# reading

def case_files(cases_dir: Path) -> list[Path]:
    return sorted(p for p in cases_dir.rglob("*.y*ml") if p.is_file())


def load_file(path: Path, shown: str) -> tuple[list[Case], list[Problem]]:
    """The cases of one file, or its problems (a syntax error; a key the schema does not know, with
    "did you mean"; a missing name or expectation), each at file:line. A file with a problem gives
    no case: what it expects cannot be trusted."""
    from ampc.rules.parse import Doc
    from ampc.rules.validate import check_doc
    from ampc.rules.yamlio import line_of, load_yaml

    data, problems = load_yaml(path, shown)
    if problems:
        return [], problems
    if data is None:
        return [], [Problem(shown, "the file is empty", "add 'cases:' with a list of cases, or remove the file")]
    problems = check_doc(Doc("cases", shown, data))
    if problems:
        return [], problems
    defaults = data.get("defaults") or {}
    cases = []
    for index, item in enumerate(data["cases"]):
        facts = {**(defaults.get("facts") or {}), **(item.get("facts") or {})}
        line = data["cases"].line_of_item(index) if hasattr(data["cases"], "line_of_item") else line_of(item)
        cases.append(Case(str(item["name"]), shown, line, facts, dict(item["expect"]),
                          item.get("as_of", defaults.get("as_of"))))
    return cases, []


def load_cases(cases_dir: Path, patterns: Iterable[str] = ()) -> tuple[list[Case], list[Problem]]:
    """Every case under the directory whose 'file: name' holds one of the patterns (all when none),
    and the problems of the files that could not be read."""
    wanted = [p.casefold() for p in patterns]
    cases_dir = cases_dir.resolve()
    cases, problems = [], []
    for path in case_files(cases_dir):
        shown = path.relative_to(_shown_from(cases_dir)).as_posix()
        found, trouble = load_file(path, shown)
        problems += trouble
        cases += [c for c in found if not wanted or any(w in c.id.casefold() for w in wanted)]
    names = [c.id for c in cases]
    for case in cases:
        if names.count(case.id) > 1:
            problems.append(Problem(f"{case.file}:{case.line}", f"case '{case.name}' is named twice in the file",
                                    "give each case of a file its own name"))
            names = [n for n in names if n != case.id]
    return cases, problems


def _shown_from(cases_dir: Path) -> Path:
    """Where a case file's shown path starts: the project for tests/cases (tests/cases/part_ii/...),
    else the directory above the cases (mycases/part_ii/...)."""
    cases_dir = cases_dir.resolve()
    return cases_dir.parent.parent if cases_dir.parent.name == "tests" else cases_dir.parent


# ---------------------------------------------------------------------------------------------------
# deciding and comparing

def decide(case: Case, decider) -> R.Record:
    """The case as a one-row catalog, decided through the pipeline `ampc classify` uses."""
    from ampc.decide.pipeline import decide_mappings
    item = {"product": case.name, **({"as_of": case.as_of} if case.as_of else {}), **case.facts}
    return decide_mappings([item], case.file, decider)[0]


def run_case(case: Case, decider) -> CaseResult:
    record = decide(case, decider)
    return CaseResult(case, record, tuple(compare(case.expect, record)))


def run(cases_dir: Path, decider, patterns: Iterable[str] = ()) -> CaseRun:
    cases, problems = load_cases(cases_dir, patterns)
    out = CaseRun(cases_dir, problems=problems)
    out.results = [run_case(case, decider) for case in cases]
    return out


def compare(expect: dict, record: R.Record) -> list[Mismatch]:
    """Every difference between what the case expects and the record."""
    if ("error" in expect) == ("outcome" in expect):
        return [Mismatch("expect", "an outcome or an error", "both" if "error" in expect else "neither")]
    if "error" in expect:
        return _error(expect["error"], record)
    if isinstance(record, R.ErrorRecord):
        return [Mismatch("outcome", expect["outcome"], "error", clauses=()),
                Mismatch("error", None, {"key": record.error.key, "message": record.error.message,
                                         "fix": record.error.fix})]
    out = []
    why_not = _why_not(record, expect.get("line"))
    if record.outcome != expect["outcome"]:
        out.append(Mismatch("outcome", expect["outcome"], record.outcome, clauses=why_not))
    if record.line != expect.get("line"):
        out.append(Mismatch("line", expect.get("line"), record.line, clauses=why_not if not out else ()))
    for rule, facts in (expect.get("fails") or {}).items():
        considered = record.considered_rule(rule)
        if considered is None or considered.result != "fails":
            out.append(_result(rule, "fails", considered, facts))
            continue
        failed = [c for c in considered.clauses if c.decisive]
        if sorted({c.fact for c in failed}) != sorted(facts):
            out.append(Mismatch("fails", sorted(facts), sorted({c.fact for c in failed}), rule, tuple(failed)))
    for word in ("holds", "undetermined"):
        for rule in expect.get(word) or []:
            considered = record.considered_rule(rule)
            if considered is None or considered.result != ("holds" if word == "holds" else "undetermined"):
                out.append(_result(rule, word, considered))
    if "missing" in expect and list(record.missing) != list(expect["missing"]):
        out.append(Mismatch("missing", list(expect["missing"]), list(record.missing)))
    flags = sorted(f.kind for f in record.flags)
    if flags != sorted(expect.get("flags") or []):
        out.append(Mismatch("flags", sorted(expect.get("flags") or []), flags))
    return out


def _result(rule: str, wanted: str, considered: R.Considered | None, facts: Iterable[str] = ()) -> Mismatch:
    """A rule whose result is not the one expected, with the clauses that gave it: those that failed
    or are unknown; for a rule that holds where it should fail, its clauses on the facts expected to
    fail it."""
    if considered is None:
        return Mismatch(wanted, wanted, "not considered", rule)
    if considered.result == "holds":
        named = set(facts)
        shown = tuple(c for c in considered.clauses if c.fact in named) or _from_the_law(considered)
    else:
        shown = tuple(c for c in considered.clauses if c.decisive or c.verdict == "unknown")
    return Mismatch(wanted, wanted, considered.result, rule, shown)


def _from_the_law(considered: R.Considered) -> tuple[R.Clause, ...]:
    """The clauses of a rule that compare with a number the law states (a parameter): where an edit
    of the rules moves a boundary."""
    return tuple(c for c in considered.clauses if c.param) or considered.clauses


def _error(wanted: dict, record: R.Record) -> list[Mismatch]:
    if not isinstance(record, R.ErrorRecord):
        return [Mismatch("error", wanted, record.outcome, clauses=_why_not(record, record.line))]
    error, out = record.error, []
    if error.key != wanted["key"]:
        out.append(Mismatch("error key", wanted["key"], error.key))
    for part in ("message", "fix"):
        absent = [w for w in wanted[part] if w not in getattr(error, part)]
        if absent:
            out.append(Mismatch(f"error {part}", absent, getattr(error, part)))
    return out


def _why_not(record: R.Decision, line: str | None) -> tuple[R.Clause, ...]:
    """The clauses that kept the product off the expected line (of its rules that did not hold),
    and those of the rules that decided otherwise."""
    out: list[R.Clause] = []
    for rule in record.considered:
        if line and rule.line == line and rule.result != "holds":
            out += [c for c in rule.clauses if c.decisive or c.verdict == "unknown"]
    for rid in record.decided_by:
        rule = record.considered_rule(rid)
        if rule is not None and rule.line != line:
            out += _from_the_law(rule) if rule.result == "holds" else [c for c in rule.clauses if c.decisive]
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------------
# rendering

def render_text(run_: CaseRun, verbose: bool = False) -> str:
    from ampc.io.report import sentence
    lines = [str(p) for p in run_.problems]
    for result in run_.results:
        if result.passed:
            if verbose:
                lines.append(f"ok    {result.case.file}:{result.case.line}: {result.case.name}")
            continue
        lines.append(f"FAIL  {result.case.file}:{result.case.line}: {result.case.name}")
        for m in result.mismatches:
            about = f" {m.rule}" if m.rule else ""
            lines.append(f"  {m.what}{about}: expected {_words(m.expected)}, got {_words(m.actual)}")
            for c in m.clauses:
                rule = f"{c.rule}: " if c.rule else ""
                param = f" ({c.param})" if c.param else ""
                lines.append(f"      {rule}{sentence(c)}{param}")
    failed, total = len(run_.failed), len(run_.results)
    summary = f"{total} case(s): {total - failed} passed, {failed} failed"
    if run_.problems:
        summary += f"; {len(run_.problems)} problem(s) in the case files"
    lines.append(("" if len(lines) == 0 else "\n") + summary)
    return "\n".join(lines).lstrip("\n") + "\n"


def _words(value: Any) -> str:
    if value is None:
        return "no line"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "; ".join(f"{k} {v!s}" for k, v in value.items())
    return str(value)


def to_json(run_: CaseRun) -> dict:
    def mismatch(m: Mismatch) -> dict:
        return {"what": m.what, "rule": m.rule, "expected": m.expected, "actual": m.actual,
                "clauses": [R.to_builtins(c) for c in m.clauses]}
    return {"cases": len(run_.results), "passed": len(run_.results) - len(run_.failed), "failed": len(run_.failed),
            "problems": [p.to_dict() for p in run_.problems],
            "failures": [{"case": r.case.name, "file": r.case.file, "line": r.case.line,
                          "mismatches": [mismatch(m) for m in r.mismatches]} for r in run_.failed]}


# ---------------------------------------------------------------------------------------------------
# the command

def find_cases(root: Path, given: Path | None) -> Path:
    """The cases: --cases, else ROOT/tests/cases, else ROOT/cases, else the bundled project's."""
    from ampc.errors import InputError
    from ampc.rules.loader import default_root
    if given is not None:
        if not given.is_dir():
            raise InputError(Problem(str(given), "no such directory of cases",
                                     "give the directory that holds the YAML case files"))
        return given
    for candidate in (root / CASES_DIR, root / "cases", default_root() / CASES_DIR):
        if candidate.is_dir():
            return candidate
    raise InputError(Problem(str(root), "no test cases here (tests/cases/ or cases/)",
                             "give the directory of the YAML case files with --cases DIR"))


@click.command("test")
@click.argument("root", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--cases", "cases_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The directory of YAML case files (default: ROOT/tests/cases, else ROOT/cases, else the "
                   "bundled project's tests/cases).")
@click.option("-k", "patterns", multiple=True, metavar="PATTERN",
              help="Run only the cases whose 'file: name' holds PATTERN (any case; repeatable: any of them).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="List the cases that pass too.")
@click.option("--boundaries", is_flag=True,
              help="Also decide generated products at, one step inside and one step outside every comparison's "
                   "threshold, and every is/one_of clause met and not met, in every edition of the rules; and "
                   "report every clause that no test makes both true and false.")
def test_command(root: Path | None, cases_dir: Path | None, patterns: tuple[str, ...], fmt: str,
                 verbose: bool, boundaries: bool) -> None:
    """Run the YAML test cases against the rule set in ROOT (default: the bundled one).

    Each case is decided as a one-row catalog, as `ampc classify` decides it; each difference from
    what the case expects is listed with the clauses that explain it (rule, actual value, threshold,
    parameter). Exit status: 0 every case passed, 1 some failed or a case file has problems (listed at
    file:line), 2 the rule set or the cases could not be read at all.
    """
    import json
    import sys

    from ampc.cli import EXIT_FOUND, EXIT_OK, _fail, _load
    from ampc.decide.decider import Decider
    from ampc.errors import InputError
    from ampc.rules.loader import default_root

    ruleset = _load(root)
    try:
        where = find_cases(root or default_root(), cases_dir)
    except InputError as exc:
        _fail(exc)
    with Decider(ruleset) as decider:
        result = run(where, decider, patterns)
    generated = edition_boundaries(ruleset, where, patterns) if boundaries else []
    if not result.results and not result.problems:
        click.echo(f"no case matches {' or '.join(map(repr, patterns))} in {where}" if patterns
                   else f"no cases in {where}", err=True)
    from ampc.analysis.boundaries import boundaries_json, render_boundaries
    if fmt == "json":
        click.echo(json.dumps({"rules": {"name": ruleset.name, "sha256": ruleset.sha256}, "cases_dir": str(where),
                               **to_json(result),
                               **({"boundaries": [boundaries_json(b) for b in generated]} if boundaries else {})},
                              indent=2, default=str))
    else:
        click.echo(f"rules: {ruleset.name} (sha256 {ruleset.sha256[:12]}); cases: {where}", err=True)
        click.echo(render_text(result, verbose), nl=False)
        for b in generated:
            click.echo(render_boundaries(b), nl=False)
    clean = all(not b.wrong and not b.coverage.uncovered() for b in generated)
    sys.exit(EXIT_OK if result.ok and clean else EXIT_FOUND)


def edition_boundaries(ruleset, where: Path, patterns: Iterable[str] = ()) -> list:
    """The generated boundary products of the rule set as loaded and of each earlier edition of it
    (the law as enacted by that edition's date), each from the cases decided under that edition."""
    from ampc.analysis.boundaries import run_boundaries
    from ampc.decide.decider import Decider
    from ampc.rules.loader import edition
    cases, _problems = load_cases(where, patterns)
    out = []
    sets = [(f"{ruleset.name} as loaded", ruleset)]
    if ruleset.known_on is None:
        for name, e in sorted(ruleset.editions.items(), key=lambda e: e[1].enacted_by or dt.date.max):
            if e.enacted_by is not None:
                sets.append((f"edition {name} (the law as enacted by {e.enacted_by})", edition(ruleset, e.enacted_by)))
    for label, rules in sets:
        with Decider(rules) as decider:
            decided = [(case, decide(case, decider)) for case in cases]
            out.append(run_boundaries(rules, decider, decided, label))
    return out

