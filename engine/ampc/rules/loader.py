"""Load rules/ and definitions/ into a RuleSet in three steps, parse, validate, build; every problem at file:line.

parse.py reads each YAML file with its line numbers (and expands each rules file), validate.py checks
each against the JSON Schema of its kind (schemas/), build.py makes the frozen rule set and checks
what spans files (resolve.py). Every problem of every step is reported, not only the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from ampc.errors import Problem, ValidationFailed
from ampc.rules import validate as shapes
from ampc.rules.build import build
from ampc.rules.model import RuleSet
from ampc.rules.parse import RULESET_FILE, parse
from ampc.rules.resolve import ANY_FAMILY

__all__ = ["ANY_FAMILY", "RULESET_FILE", "content_hash", "default_root", "edition", "load_ruleset", "validate"]


def default_root() -> Path:
    """The bundled rule set: the directory holding rules/ and definitions/."""
    here = Path.cwd()
    project = Path(__file__).resolve().parents[3]  # engine/ampc/rules/loader.py -> the project
    for candidate in (here, *here.parents, project):
        if (candidate / "rules" / RULESET_FILE).is_file() and (candidate / "definitions").is_dir():
            return candidate
    return project


def content_hash(root: Path) -> str:
    """sha256 over the relative path and bytes of every file under rules/ and definitions/."""
    digest = hashlib.sha256()
    for sub in ("rules", "definitions"):
        for path in sorted((root / sub).rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml"):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_ruleset(root: Path | str | None = None, known_on: dt.date | None = None) -> RuleSet:
    """The rule set at root, or ValidationFailed listing every problem found.

    known_on: the edition of the law as enacted by that date; rules and parameters enacted later
    (the `enacted:` key) are left out, so one set of YAML files gives every edition.
    """
    ruleset, problems = _load(Path(root) if root else default_root())
    if problems:
        raise ValidationFailed(problems)
    assert ruleset is not None
    return edition(ruleset, known_on) if known_on else ruleset


def edition(ruleset: RuleSet, known_on: dt.date) -> RuleSet:
    """The rule set as the law stood when enacted by known_on."""
    from dataclasses import replace

    def known(item) -> bool:
        return item.enacted is None or item.enacted <= known_on
    params = {k: p for k, p in ruleset.params.items() if known(p)}
    credits = {line: replace(c, phase_out=tuple(p for p in c.phase_out if p.param in params))
               for line, c in ruleset.credits.items() if c.rate in params}
    # a rule ended by a later law was open-ended in this edition
    rules = tuple(r if r.ended is None or r.ended <= known_on else replace(r, in_force_to=None, ended=None)
                  for r in ruleset.rules if known(r))
    # a citation amended by a later law was cited as first enacted in this edition
    rules = tuple(replace(r, cite_as_amended=tuple(a for a in r.cite_as_amended if known(a)))
                  if r.cite_as_amended else r for r in rules)
    return replace(ruleset, rules=rules, params=params, credits=credits, known_on=known_on)


def validate(root: Path | str | None = None) -> list[Problem]:
    """Every problem of the rule set at root; none: it loads."""
    return _load(Path(root) if root else default_root())[1]


def _load(root: Path) -> tuple[RuleSet | None, list[Problem]]:
    parsed = parse(root)
    if not parsed.complete:
        return None, parsed.problems
    problems = parsed.problems + shapes.check(parsed.docs)
    ruleset, more = build(parsed, content_hash(root))
    problems += more
    return (None, problems) if problems else (ruleset, [])
