"""Parse: every YAML file of rules/ and definitions/ read with its line numbers, each rules file expanded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampc.errors import Problem
from ampc.rules.expand import expand
from ampc.rules.yamlio import load_yaml

RULESET_FILE = "ruleset.yaml"


@dataclass
class Doc:
    """One parsed file: its kind (a schema of ampc/rules/schemas/), its path as shown, its data."""

    kind: str  # ruleset | rules | facts | ledger | units | glossary | interpretations | facilities | form_lines
    path: str  # relative to the root, e.g. rules/part_ii/line_03_inverters.yaml
    data: Any  # Located mappings and LocatedLists, as yamlio reads them


@dataclass
class Parsed:
    root: Path
    docs: list[Doc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True  # False: rules/ or definitions/ is missing, nothing further to check

    def of(self, kind: str) -> list[Doc]:
        return [d for d in self.docs if d.kind == kind]


def parse(root: Path) -> Parsed:
    """Read the rule set at root: the rule set file, the facts, units, ledger, glossary, the rules files."""
    out = Parsed(root)
    for sub in ("rules", "definitions"):
        if not (root / sub).is_dir():
            out.problems.append(Problem(str(root / sub), f"no {sub}/ directory here",
                                        "run from the project root, or pass the directory that holds "
                                        "rules/ and definitions/"))
    if out.problems:
        out.complete = False
        return out
    ruleset = root / "rules" / RULESET_FILE
    if ruleset.is_file():
        _read(out, "ruleset", ruleset)
        shown = _rel(root, ruleset)
        if not out.docs and not any(p.where.split(":")[0] == shown for p in out.problems):
            out.problems.append(Problem(shown, "the file is empty: it must give the rule set's name, stages and "
                                        "requires", "restore rules/ruleset.yaml (name, stages, editions, requires)"))
    else:
        out.problems.append(Problem(_rel(root, ruleset), "missing",
                                    "create rules/ruleset.yaml with name and stages"))
    fact_files = sorted((root / "definitions" / "facts").glob("*.y*ml"))
    if not fact_files:
        out.problems.append(Problem("definitions/facts/", "no fact files",
                                    "define the fact vocabulary in definitions/facts/*.yaml, each with 'facts:'"))
    for path in fact_files:
        _read(out, "facts", path)
    for kind, name in (("units", "units.yaml"), ("ledger", "ledger.yaml"), ("glossary", "glossary.yaml"),
                       ("interpretations", "interpretations.yaml"), ("facilities", "facilities.yaml"),
                       ("form_lines", "form_lines.yaml")):
        if (root / "definitions" / name).is_file():
            _read(out, kind, root / "definitions" / name)
    for path in sorted((root / "rules").rglob("*.y*ml")):
        if path.name != RULESET_FILE:
            _read(out, "rules", path)
    return out


def _read(out: Parsed, kind: str, path: Path) -> None:
    shown = _rel(out.root, path)
    data, problems = load_yaml(path, shown)
    out.problems.extend(problems)
    if data is None:
        return  # an empty file, or a syntax error already reported
    if kind == "rules":
        data, problems = expand(data, shown)  # file-level defaults and tables, as data
        out.problems.extend(problems)
    out.docs.append(Doc(kind, shown, data))


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
