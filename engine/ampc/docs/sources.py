"""The YAML source pages: each rules file cut into one block per rule (each with the line it starts
on and an anchor the rule's block links to), and each vocabulary file whole."""

from __future__ import annotations

from pathlib import Path

from ampc.rules.model import Rule, RuleSet

SUFFIXES = (".yaml", ".yml", ".csv")


def source_page(file: str) -> str:
    """rules/part_ii/line_03_inverters.yaml -> source/rules/part_ii/line_03_inverters.md"""
    return f"source/{Path(file).with_suffix('.md').as_posix()}"


def rules_files(rs: RuleSet, root: Path) -> list[str]:
    """The sections' rules files in order, then any other file under rules/ (a table, ruleset.yaml)."""
    files = [s.file for s in rs.sections]
    for path in sorted((root / "rules").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix in SUFFIXES and rel not in files:
            files.append(rel)
    return files


def fact_files(root: Path) -> list[str]:
    """The vocabulary files shown as YAML: the facts, then the sales ledger's columns if there is one."""
    files = [p.relative_to(root).as_posix() for p in sorted((root / "definitions" / "facts").glob("*.y*ml"))]
    return files + (["definitions/ledger.yaml"] if (root / "definitions" / "ledger.yaml").is_file() else [])


def chunks(root: Path, rel: str, rules: list[Rule]) -> tuple[list[dict], dict[str, str]]:
    """A file cut into its head and one block per rule written in it (the comments above a rule go
    with it), and rule id -> the anchor of its block; rules starting on one line share a block."""
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    starts: dict[int, list[str]] = {}
    for rule in rules:
        file, _, line = rule.where.rpartition(":")
        if file == rel and line.isdigit() and 0 < int(line) <= len(lines):
            starts.setdefault(int(line), []).append(rule.id)
    cuts = []
    for line in sorted(starts):
        start = line - 1
        while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith("#")):
            start -= 1
        if cuts and start <= cuts[-1][0]:
            start = line - 1
        cuts.append((start, starts[line], line))
    out = [{"id": "", "ids": [], "line": 1, "text": "\n".join(lines[:cuts[0][0] if cuts else len(lines)]).rstrip()}]
    anchors = {}
    for i, (start, ids, line) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(lines)
        out.append({"id": ids[0], "ids": ids, "line": line, "text": "\n".join(lines[start:end]).rstrip()})
        anchors.update({rid: ids[0] for rid in ids})
    return [c for c in out if c["text"]], anchors
