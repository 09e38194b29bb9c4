"""The docs: pages generated from the rules in the instructions' order, with the class boundaries and
examples decided by the engine; they follow a changed threshold; a rule without its text or citation
fails the build, named; and the site builds under mkdocs --strict with search."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ampc.docs.hook import DocsError, check_rules, generate
from ampc.docs.text import md, slug
from ampc.io.report import value_text
from ampc.records import record as R
from ampc.rules.loader import load_ruleset
from ampc.rules.model import Cmp, Not
from caselib import copy_rule_set, load_cases

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2025, 6, 30)
LINE_3 = "part_ii/line_03_inverters.md"
CLASSES = ["inverter.central", "inverter.utility", "inverter.commercial", "inverter.residential",
           "inverter.micro", "inverter.distributed_wind"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    return generate(ROOT, out, as_of=AS_OF), out


def _section(text: str, heading: str) -> str:
    """The Markdown under a heading, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading)
    stop = re.search(rf"^#{{1,{level}}} ", text[start + len(heading):], re.M)
    return text[start: start + len(heading) + stop.start()] if stop else text[start:]


def _cmps(cond):
    if isinstance(cond, Cmp):
        return [cond]
    if isinstance(cond, Not):
        return _cmps(cond.item)
    return [c for item in cond.items for c in _cmps(item)]


def _boundaries(ruleset, rule_id: str) -> list[str]:
    """How the class table must print each threshold of a rule: '1,000,000 W', '120 V or 240 V'."""
    out = []
    for cmp in _cmps(ruleset.rule(rule_id).when):
        if cmp.param:
            out.append(value_text(R.typed(ruleset.params[cmp.param].at(AS_OF), ruleset.facts[cmp.fact].unit)))
    return out


def test_pages_follow_the_instructions_table_of_contents(built):
    site, out = built
    chapters = [next(iter(entry)) for entry in site.nav]
    assert chapters[:4] == ["Home", "General Instructions", "Part I—Facility Information",
                            "Part II—Eligible Components"]
    general = [next(iter(e)) for e in site.nav[1]["General Instructions"]]
    assert general[:3] == ["Purpose of form and elections", "Special rules: qualified sales",
                           "Special rules: phase out and termination"]
    part_ii = [next(iter(e)) for e in site.nav[3]["Part II—Eligible Components"]]
    lines = [t for t in part_ii if t.startswith("Line")]
    assert lines[:7] == ["Line 1. Solar energy components", "Line 2. Wind energy components", "Line 3. Inverters",
                         "Line 4. Electrode active materials", "Line 5. Battery components",
                         "Line 6. Critical minerals (Part IV)", "Lines 7 and 8. Credit from other entities and total"]
    for path, _title, _chapter in site.pages:
        assert (out / path).is_file(), path
    assert (out / "index.md").is_file() and (out / "reference" / "coverage.md").is_file()
    # the page of a rules file sits at the same path as the file
    assert (out / LINE_3).is_file()


def test_line_3_shows_the_six_classes_and_their_boundaries_in_one_table(built):
    _site, out = built
    ruleset = load_ruleset(ROOT)
    page = (out / LINE_3).read_text(encoding="utf-8")
    table = _section(page, "## The classes at a glance: inverter")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| \w+ \| [^|]+ \| \[`([\w.]+)`\].*$", table, re.M)}
    assert list(rows) == CLASSES
    for rule_id in CLASSES:
        assert f"| {ruleset.rule(rule_id).line} |" in rows[rule_id]
        for boundary in _boundaries(ruleset, rule_id):
            assert boundary in rows[rule_id], (rule_id, boundary)
    assert "&gt; 1,000,000 W" in rows["inverter.central"]
    assert "&gt; 125,000 W and ≤ 1,000,000 W" in rows["inverter.utility"]
    assert "≥ 20,000 W and ≤ 125,000 W" in rows["inverter.commercial"]


def test_line_3_shows_a_rejected_200_kw_480_v_inverter_with_why(built):
    _site, out = built
    page = (out / LINE_3).read_text(encoding="utf-8")
    example = _section(page, "### A 200 kW inverter at 480 V three-phase")
    assert "**REJECTED**" in example
    assert "3b rated\\_output\\_voltage 480 V is less than 600 V" in example  # the one-line reason
    assert "NO  rated_output_voltage 480 V is less than 600 V" in example  # the explanation, clause by clause
    assert "NO  ac_capacity 200,000 W is more than 125,000 W" in example
    assert '"(iii) and not greater than 125 kilowatts"' in example


def test_each_paragraph_has_a_status(built):
    _site, out = built
    page = (out / LINE_3).read_text(encoding="utf-8")
    assert "| [Line 3b. Utility inverter](#line-3b-utility-inverter) |" in page
    lines_7_8 = (out / "part_ii" / "lines_07_08.md").read_text(encoding="utf-8")
    assert "**Status: not modelled.** A credit passed through from another entity" in lines_7_8
    coverage = (out / "reference" / "coverage.md").read_text(encoding="utf-8")
    for rule in load_ruleset(ROOT).rules:
        assert f"`{rule.id}`" in coverage, f"{rule.id} is missing from the coverage table"
    for words in ("Line 7", "Line 8a", "Pre-Filing Registration", "Elective Payment Election"):
        row = next(line for line in coverage.splitlines() if words in line)
        assert "| not modelled |" in row, row


def test_a_changed_threshold_shows_on_the_page_and_moves_the_examples(tmp_path, built):
    _site, out = built
    before = (out / LINE_3).read_text(encoding="utf-8")
    assert "250,000 W" not in _section(before, "## The classes at a glance: inverter")
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text(encoding="utf-8")
    block = re.search(r"  inverter\.commercial\.max_capacity:\n(?:    .*\n)+", text).group(0)
    assert "{2023-01-01: 125 kW}" in block
    path.write_text(text.replace(block, block.replace("{2023-01-01: 125 kW}", "{2023-01-01: 250 kW}")),
                    encoding="utf-8")
    generate(root, tmp_path / "docs", as_of=AS_OF)
    after = (tmp_path / "docs" / LINE_3).read_text(encoding="utf-8")
    table = _section(after, "## The classes at a glance: inverter")
    row = next(line for line in table.splitlines() if "`inverter.commercial`" in line)
    assert "≥ 20,000 W and ≤ 250,000 W" in row
    assert "| `inverter.commercial.max_capacity` |" in after and "**250,000**" in after
    example = _section(after, "### A 200 kW inverter at 480 V three-phase")
    assert "**QUALIFIED (line 3c)**" in example
    assert "ok  ac_capacity 200,000 W is at most 250,000 W" in example
    boundary_rows = [line for line in _section(after, "## Just inside and just outside each threshold").splitlines()
                     if line.startswith("| [`inverter.commercial`]") and "≤ 250,000 W" in line]
    assert [row.split(" | ")[4] for row in boundary_rows] == ["250,000 W (just inside)", "250,000.001 W (just outside)"]


def test_a_rule_without_its_text_or_citation_fails_the_docs_build_naming_it(tmp_path):
    ruleset = load_ruleset(ROOT)
    for broken in (dict(text=" "), dict(cite={"instructions": "Form 7207 instructions (Rev. 01-2024)"})):
        rules = tuple(dataclasses.replace(r, **broken) if r.id == "inverter.utility" else r for r in ruleset.rules)
        bad = dataclasses.replace(ruleset, rules=rules)
        with pytest.raises(DocsError, match=r"rule 'inverter\.utility' \(rules/part_ii/line_03_inverters\.yaml:\d+\)"):
            check_rules(bad)
        with pytest.raises(DocsError, match="inverter.utility"):
            generate(ruleset=bad, out=tmp_path / "out")
    # the same from files: the text removed from a copy of the rules
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: inverter.utility\n")
    head, rule = text[:start], text[start:]
    rule = re.sub(r"    text: >-\n(?:      .*\n)+", "", rule, count=1)
    path.write_text(head + rule, encoding="utf-8")
    with pytest.raises(DocsError, match=r"rule 'inverter\.utility' is missing 'text'"):
        generate(root, tmp_path / "out2")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """The site as mkdocs builds it (its hook generates the pages), and the build's output."""
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                            cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))  # mkdocs-material's banner
    return site, result


def test_the_site_builds_strictly_with_search(html):
    site, result = html
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (site / "part_ii" / "line_03_inverters" / "index.html").is_file()
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    texts = " ".join(doc["text"] for doc in index["docs"])
    assert "Utility inverter means an inverter" in texts


# A Python repr: PhaseOut(param=..., Decimal('0.99'), datetime.date(2025, 1, 1), frozenset({...}).
REPR = re.compile(r"PhaseOut\(|Decimal\(|datetime\.date\(|CreditLine\(|Cmp\(|frozenset\(|\b[A-Z]\w*\([a-z_]+=")


def test_no_python_repr_reaches_a_page(built, html):
    _site, out = built
    site, result = html
    assert result.returncode == 0, result.stdout + result.stderr
    pages = sorted(out.rglob("*.md")) + sorted(site.rglob("*.html")) + [site / "search" / "search_index.json"]
    assert len(pages) > 40
    found = {}
    for path in pages:
        hits = [m.group(0) for m in REPR.finditer(path.read_text(encoding="utf-8"))]
        if hits:
            found[str(path)] = sorted(set(hits))
    assert not found, found
    # the credit lines' phase-out schedules are written in words
    line_6 = (out / "part_ii" / "line_06_critical_minerals.md").read_text(encoding="utf-8")
    assert ("parameter `credit.phase_out.critical_minerals`, for components in taxable years beginning from "
            "2025-07-05") in line_6


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, unescaped as a reader sees them."""
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [re.sub(r"\\(.)", r"\1", c.strip()).replace("&lt;", "<").replace("&gt;", ">") for c in cells]


def test_every_test_case_on_the_site_shows_the_outcome_and_line_it_expects(built):
    """Each YAML case is on the page of its rules file, with the outcome and line its case asserts."""
    _site, out = built
    pages = {path: path.read_text(encoding="utf-8") for path in out.rglob("*.md")}
    shown: dict[Path, dict[str, list[str]]] = {}
    for path, text in pages.items():
        if "## Test cases" in text:
            table = _section(text, "## Test cases")
            rows = [_cells(line) for line in table.splitlines() if line.startswith("| ") and not
                    line.startswith("| Case |")]
            shown[path] = {cells[0]: cells for cells in rows}
            assert len(shown[path]) == len(rows), f"{path}: two rows name the same case"
    cases = load_cases()
    wrong, matched = [], 0
    for name, case, _data in cases:
        page = [p for p, text in pages.items() if f"test cases: `{case['file']}`" in text]
        assert len(page) == 1, f"{case['file']} is listed on {len(page)} pages"
        row = shown[page[0]].get(case["name"])
        assert row is not None, f"{name}: not in the test cases table of {page[0].relative_to(out)}"
        _title, outcome, line, _why = row
        expect = case["expect"]
        if "error" in expect:
            ok = (outcome, line) == ("INPUT REFUSED", "")
        elif expect.get("line") is not None:
            ok = (outcome, line) == (expect["outcome"].upper(), expect["line"])
        else:  # no line: none printed, or the lines still possible ("3a/3b?") of an undetermined product
            ok = outcome == expect["outcome"].upper() and (line == "" or (outcome == "UNDETERMINED"
                                                                          and line.endswith("?")))
        if ok:
            matched += 1
        else:
            wrong.append(f"{name}: the page shows {outcome} {line!r}, the case expects "
                         f"{expect.get('outcome', 'an input error')} {expect.get('line')!r}")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases differ:\n" + "\n".join(wrong)
    assert matched == len(cases) == sum(len(rows) for rows in shown.values())


OPEN_MARK = '!!! warning "Open interpretation"'


def test_open_interpretation_is_marked_only_where_a_reading_is_declared_open(built):
    """A rule block carries the mark exactly when the rule declares its reading open (`review:`); a
    precedence with `review:` carries it on its page; each mark links to its entry."""
    _site, out = built
    ruleset = load_ruleset(ROOT)
    page = (out / LINE_3).read_text(encoding="utf-8")
    status = _section(page, "## Paragraphs and their status")
    opened = {r.id for r in ruleset.rules if r.review}
    for rule_id in CLASSES:  # a class is marked exactly when it declares a reading (3f: its rated output)
        heading = next(p for p in status.splitlines() if f"`{rule_id}`" in p)
        assert ("| encoded |" in heading) is (rule_id not in opened), heading
    assert "inverter.distributed_wind" in opened
    assert page.count(OPEN_MARK) == 1 + len(opened & set(CLASSES))  # the precedence, and each such class
    precedence = _section(page, "## Precedence")
    assert OPEN_MARK in precedence and "../reference/interpretations.md#reading-inverter-overlap" in precedence
    marked = set()
    for path in out.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^#### .* \{#([\w.]+)\}$", text, re.M):
            block = text[m.end():]
            stop = re.search(r"^#{1,4} ", block, re.M)
            if OPEN_MARK in (block[:stop.start()] if stop else block):
                marked.add(m.group(1))
    assert marked == {r.id for r in ruleset.rules if r.review}
    interpretations = (out / "reference" / "interpretations.md").read_text(encoding="utf-8")
    for item in [r for r in ruleset.rules if r.review] + [p for p in ruleset.precedence if p.review]:
        assert f"`{item.id}`" in interpretations, item.id
    assert "{#reading-inverter-overlap}" in interpretations


def test_each_declared_interpretation_has_its_question_reading_alternatives_and_rules(built):
    _site, out = built
    ruleset = load_ruleset(ROOT)
    page = (out / "reference" / "interpretations.md").read_text(encoding="utf-8")
    for iid, reading in ruleset.interpretations.items():
        entry = _section(page, f"### {md(reading.title)} {{#reading-{slug(iid)}}}")
        assert f"Id `{iid}`" in entry and md(reading.reading) in entry
        assert all(md(a) in entry for a in reading.alternatives)
        users = [r.id for r in ruleset.rules if r.review == iid] + [p.id for p in ruleset.precedence if p.review == iid]
        users += [f"line {c.line}" for c in ruleset.credits.values() if c.review == iid]
        assert users and all(u in entry for u in users), (iid, users)


def test_no_page_cites_a_file_outside_the_project_or_a_fixed_version(built, html):
    """The pages cite the project's own interpretations page, and name editions, not a version."""
    _site, out = built
    site, result = html
    assert result.returncode == 0
    for path in [*out.rglob("*.md"), *site.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert "law-45x" not in text and "ampc-rules 2024.01" not in text, path


def test_part_iv_and_each_edition_have_a_page(built):
    site, out = built
    ruleset = load_ruleset(ROOT)
    chapters = [next(iter(entry)) for entry in site.nav]
    assert chapters.index("Part IV—Critical Minerals") == chapters.index("Part II—Eligible Components") + 1
    part_iv = (out / "part_iv" / "critical_minerals.md").read_text(encoding="utf-8")
    lines = [int(m.group(1)) for m in re.finditer(r"^\| (\d+) \| ", part_iv, re.M)]
    assert lines == sorted(lines) and lines[-1] == 74
    assert len(lines) == 1 + sum(1 for r in ruleset.rules if r.then.get("part_iv_line"))
    for name in ruleset.editions:
        assert (out / "editions" / f"{name}.md").is_file(), name
    first = (out / "editions" / "2024-01.md").read_text(encoding="utf-8")
    later = _section(first, "## Compared with [edition 2025-12]")
    assert "`coal.metallurgical`" in later and "Rules only in edition 2025-12" in later
