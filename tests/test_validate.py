"""`ampc validate` on deliberately broken rule files: every problem at file:line, with the fix."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ampc.rules.loader import validate
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken"
FIXTURES = sorted(BROKEN.glob("*.yaml"))


@pytest.fixture()
def tree(tmp_path):
    """A copy of the bundled rule set that a test may break."""
    return copy_rule_set(tmp_path)


def expectations(path: Path) -> tuple[list[str], int]:
    text = path.read_text()
    words = re.search(r"^# expect: (.*)$", text, re.M).group(1).split(" | ")
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "# <- here" in row)
    return words, line


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_broken_rule_file_is_reported_at_its_line(tree, fixture):
    target = tree / "rules" / "part_ii" / f"zz_{fixture.name}"
    shutil.copy(fixture, target)
    words, line = expectations(fixture)
    problems = validate(tree)
    assert problems, "a broken file must not validate"
    here = [p for p in problems if p.where == f"rules/part_ii/zz_{fixture.name}:{line}"]
    assert here, [str(p) for p in problems]
    text = "\n".join(str(p) for p in problems)
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
    assert all(p.fix for p in here), "every problem says how to fix it"


def test_every_problem_is_listed_not_just_the_first(tree):
    for fixture in FIXTURES[:4]:
        shutil.copy(fixture, tree / "rules" / "part_ii" / f"zz_{fixture.name}")
    problems = validate(tree)
    files = {p.where.split(":")[0] for p in problems}
    assert len(files) == 4, files


def test_a_fact_defined_twice_is_reported(tree):
    (tree / "definitions" / "facts" / "zz_again.yaml").write_text(
        "facts:\n  phase:\n    type: enum\n    values: [single]\n    label: Phase\n    description: Again.\n")
    problems = validate(tree)
    assert any("fact 'phase' is defined twice" in str(p) and p.where == "definitions/facts/zz_again.yaml:2"
               for p in problems), [str(p) for p in problems]


def test_a_parameter_of_the_wrong_kind_of_unit_is_reported(tree):
    path = tree / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text().replace("values: {2023-01-01: 650 W}", "values: {2023-01-01: 650 V}")
    path.write_text(text)
    problems = validate(tree)
    assert any("measures electric potential (voltage), not power" in str(p) for p in problems)


def test_cli_validate_exit_codes_and_no_traceback(tree):
    ok = subprocess.run([sys.executable, "-m", "ampc.cli", "validate", str(tree)],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: ")
    shutil.copy(BROKEN / "misspelt_key.yaml", tree / "rules" / "part_ii" / "zz_bad.yaml")
    bad = subprocess.run([sys.executable, "-m", "ampc.cli", "validate", str(tree)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    assert "rules/part_ii/zz_bad.yaml:" in bad.stdout and "fix:" in bad.stdout


def test_no_problem_is_reported_twice(tree):
    for fixture in FIXTURES:
        if fixture.name != "yaml_syntax.yaml":
            shutil.copy(fixture, tree / "rules" / "part_ii" / f"zz_{fixture.name}")
    problems = [str(p) for p in validate(tree)]
    assert len(problems) == len(set(problems)), [p for p in problems if problems.count(p) > 1]


def test_the_shipped_json_schemas_are_valid_draft_2020_12_schemas():
    import jsonschema

    from ampc.rules import schema as S
    for kind in (*S.KINDS, *S.TEST_KINDS, S.SHARED):
        jsonschema.Draft202012Validator.check_schema(S.schema(kind))


def test_every_bundled_file_validates_against_the_schema_of_its_kind():
    """Each file of rules/ and definitions/, as the parse step hands it over (rules files expanded)."""
    from ampc.rules import schema as S
    from ampc.rules.parse import parse
    parsed = parse(ROOT)
    assert not parsed.problems, [str(p) for p in parsed.problems]
    assert {d.kind for d in parsed.docs} == set(S.KINDS), "a kind of file without a bundled file to check"
    for doc in parsed.docs:
        errors = [e.message for e in S.validator(doc.kind).iter_errors(doc.data)]
        assert not errors, (doc.path, errors)


def test_the_schemas_and_the_code_name_the_same_roles_and_operators():
    from ampc.rules import schema as S
    facts = S.schema("facts")["properties"]["facts"]["additionalProperties"]["properties"]["role"]["enum"]
    ledger = S.schema("ledger")["properties"]["columns"]["additionalProperties"]["properties"]["role"]["enum"]
    assert facts == list(S.FACT_ROLES) and ledger == list(S.LEDGER_ROLES)
    comparison = S.schema("rules")["$defs"]["comparison"]
    assert set(comparison["properties"]) - {"fact", "clause"} == set(S.OPERATORS)
    assert [r["required"][0] for r in comparison["oneOf"]] == list(S.OPERATORS)


def _assert_reported_at_its_line(tree, path, pattern, repl, words, anchor):
    """Break `path` (pattern -> repl) and find a problem with its fix, at a line holding `anchor`,
    whose message has all of `words`."""
    target = tree / path
    text = target.read_text(encoding="utf-8")
    changed = re.sub(pattern, repl, text, count=1, flags=re.M)
    assert changed != text, pattern
    target.write_text(changed, encoding="utf-8")
    lines = changed.splitlines()
    found = [str(p) for p in validate(tree) if p.where.startswith(f"{path}:") and p.fix
             and anchor in lines[int(p.where.rpartition(":")[2]) - 1]]
    assert any(all(w in p for w in words) for p in found), found


@pytest.mark.parametrize("path, pattern, repl, words, anchor", [
    ("definitions/facts/inverters.yaml", r"^    type: bool\n", "    type: boolean\n",
     ["fact 'is_end_product' has unknown type 'boolean'", "did you mean 'bool'"], "type: boolean"),
    ("definitions/facts/inverters.yaml", r"^(  rated_output_voltage:\n    type: quantity\n)    unit: V\n", r"\1",
     ["fact 'rated_output_voltage' is missing 'unit'", "add 'unit:'"], "type: quantity"),
    ("definitions/glossary.yaml", r"^(  inverter:\n    label: Inverter\n(?:    .*\n)*?)    source: .*\n",
     r"\1", ["term 'inverter' is missing 'source'"], "label: Inverter"),
    ("rules/ruleset.yaml", r"kind: derive\b", "kind: derived", ["a stage has unknown kind 'derived'"], "kind: derived"),
    ("rules/ruleset.yaml", r"enacted_by: 2024-01-31", "enacted_by: 2024-01-32",
     ["'enacted_by' of an edition is not a date: '2024-01-32'", "YYYY-MM-DD"], "enacted_by: 2024-01-32"),
    ("definitions/form_lines.yaml", r"^    efile: AdvncMfrPrdCrOthEntitiesAmt\n",
     "    efil: AdvncMfrPrdCrOthEntitiesAmt\n",
     ["unknown key 'efil' in line '7'", "did you mean 'efile'"], "efil: AdvncMfrPrdCrOthEntitiesAmt"),
    ("definitions/interpretations.yaml", r"^(  eam\.list:\n(?:    .*\n)*?)    reading: ", r"\1    readng: ",
     ["unknown key 'readng'", "did you mean 'reading'"], "readng: "),
])
def test_a_definitions_file_of_the_wrong_shape_is_reported_at_its_line(tree, path, pattern, repl, words, anchor):
    """The JSON Schemas check definitions/ and the rule set file too; the problem names the line of the
    key at fault (or, for a missing key, of the mapping that lacks it)."""
    _assert_reported_at_its_line(tree, path, pattern, repl, words, anchor)


# A citation amended by a later act (a rule's cite_as_amended, the minerals table's redesignated
# letters), malformed: the problem names the line where it is written, what is wrong and the fix.
@pytest.mark.parametrize("path, pattern, repl, words, anchor", [
    ("rules/part_ii/line_06b_metallurgical_coal.yaml", r"^(    notes: >-\n      In force for taxable years)",
     r"    cite_as_amended: {taxable_years_beginning_after: 2027-01-01, enacted: 2026-01-01, irc: 45X(c)(6)(Q)}\n\1",
     ["'cite_as_amended' of rule 'coal.metallurgical' is missing 'by'", "add 'by:' (the act"], "cite_as_amended:"),
    ("rules/part_ii/line_06_critical_minerals.yaml", r"^    taxable_years_beginning_after: 2025-07-04$",
     "    taxable_years_beginning_after: 2025-07-34",
     ["'taxable_years_beginning_after' of 'cite_as_amended' of rule 'mineral.neodymium.converted_ndpr_oxide' "
      "is not a date: '2025-07-34'", "YYYY-MM-DD"], "2025-07-34"),
    ("rules/part_ii/line_06_critical_minerals.yaml", r"\(Z\): \(AA\)\}", "(ZZ): (AA)}",
     ["'letters' of 'redesignated' names '(ZZ)', no subparagraph of the table", "did you mean '(Z)'"], "(ZZ)"),
])
def test_a_malformed_amended_citation_is_reported_at_its_line(tree, path, pattern, repl, words, anchor):
    _assert_reported_at_its_line(tree, path, pattern, repl, words, anchor)


# A number written without its unit where the unit matters: 125 where 125 kW is meant would be read
# as 125 W and move inverters between lines 3b and 3c, so the loader refuses it at its file and line.
INVERTERS = "rules/part_ii/line_03_inverters.yaml"
UTILITY_FLOOR = r"(  inverter\.utility\.min_capacity:\n(?:    .*\n)*?    values: \{2023-01-01: )125 kW\}"


def _rewrite(tree, path, pattern, repl):
    """Change `path` of the copy (pattern -> repl, once); the 1-based line where the match ends."""
    target = tree / path
    text = target.read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.M)
    assert match, pattern
    target.write_text(text[:match.start()] + match.expand(repl) + text[match.end():], encoding="utf-8")
    return text.count("\n", 0, match.end()) + 1


def _cli_validate(tree):
    return subprocess.run([sys.executable, "-m", "ampc.cli", "validate", str(tree)],
                          capture_output=True, text=True, cwd=ROOT)


def test_a_bare_number_for_a_parameter_in_watts_exits_1_at_its_file_and_line(tree):
    line = _rewrite(tree, INVERTERS, UTILITY_FLOOR, r"\g<1>125}")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert (f"{INVERTERS}:{line}: parameter 'inverter.utility.min_capacity': the value 125 has no unit"
            in result.stdout), result.stdout
    assert "fix: write the unit: '125 kW'" in result.stdout, result.stdout


@pytest.mark.parametrize("written, watts", [("125 kW", 125_000), ("125000 W", 125_000), ("'0.125 MW'", 125_000)])
def test_the_same_parameter_with_its_unit_validates_and_is_read_in_watts(tree, written, watts):
    _rewrite(tree, INVERTERS, UTILITY_FLOOR, rf"\g<1>{written}}}")
    result = _cli_validate(tree)
    assert result.returncode == 0, result.stdout
    from ampc.rules.loader import load_ruleset
    values = load_ruleset(tree).params["inverter.utility.min_capacity"].values
    assert [v.value for v in values] == [watts]


def test_a_bare_number_in_a_list_parameter_is_refused(tree):
    line = _rewrite(tree, INVERTERS, r"(values: \{2023-01-01: \[208 V, )480 V", r"\g<1>480")
    found = [p for p in validate(tree) if p.where == f"{INVERTERS}:{line}"]
    assert any("parameter 'inverter.commercial.voltages': the value 480 has no unit" in str(p)
               and "'480 V'" in p.fix for p in found), [str(p) for p in validate(tree)]


def test_a_bare_fraction_for_a_percent_parameter_is_refused_with_both_readings(tree):
    path = "rules/part_ii/line_01_solar.yaml"
    line = _rewrite(tree, path, r"values: \{2023-01-01: 99\.999999 %\}", "values: {2023-01-01: 0.99999999}")
    found = [p for p in validate(tree) if p.where == f"{path}:{line}"]
    assert any("the value 0.99999999 has no unit" in p.message and "'99.999999 percent' if 0.99999999 is a fraction"
               in p.fix for p in found), [str(p) for p in validate(tree)]


def test_a_bare_number_for_a_count_parameter_validates(tree):
    _rewrite(tree, "rules/part_ii/line_05_batteries.yaml", r"values: \{2023-01-01: 2 count\}",
             "values: {2023-01-01: 2}")
    assert validate(tree) == []
    from ampc.rules.loader import load_ruleset
    assert [v.value for v in load_ruleset(tree).params["battery.module.min_cells"].values] == [2]


def test_a_bare_number_as_an_inline_threshold_is_refused_at_its_line(tree):
    line = _rewrite(tree, INVERTERS, r"more_than: \{param: inverter\.utility\.min_capacity\}", "more_than: 125")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert (f"{INVERTERS}:{line}: condition on 'ac_capacity': the threshold 125 has no unit"
            in result.stdout), result.stdout
    assert "write the unit: '125 kW' or '125 W', whichever is meant, or refer to a parameter" in result.stdout


def test_an_inline_threshold_with_its_unit_or_on_a_count_validates(tree):
    _rewrite(tree, INVERTERS, r"more_than: \{param: inverter\.utility\.min_capacity\}", "more_than: 125 kW")
    _rewrite(tree, "rules/part_ii/line_05_batteries.yaml",
             r"at_least: \{param: battery\.module\.min_cells\}", "at_least: 2")
    assert validate(tree) == [], [str(p) for p in validate(tree)]


def test_a_bare_number_in_a_facts_range_is_refused_at_its_line(tree):
    path = "definitions/facts/material_assistance.yaml"
    line = _rewrite(tree, path, r"range: \{min: 0 %, max: 100 %\}", "range: {min: 0 %, max: 100}")
    found = [p for p in validate(tree) if p.where == f"{path}:{line}"]
    assert any("fact 'material_assistance_cost_ratio': range max: the bound 100 has no unit" in p.message
               and "'100 percent'" in p.fix and "param" not in p.fix for p in found), [str(p) for p in validate(tree)]


def test_every_bundled_parameter_and_threshold_carries_its_unit():
    """The bundled rule set itself: it validates under the refusal of bare numbers."""
    assert validate(ROOT) == []


# What the rule set declares it must hold (rules/ruleset.yaml `requires`): an emptied or lost file, a
# line no rule concludes, a kind of component without a class rule on some day would validate file
# by file and then reject every such product as "no rule in force"; the rule set is refused instead.
RULESET = "rules/ruleset.yaml"


def _declared_at(tree, item):
    """The file:line of rules/ruleset.yaml where `requires` lists the item (`- item`)."""
    rows = (tree / RULESET).read_text(encoding="utf-8").splitlines()
    return f"{RULESET}:{next(i for i, row in enumerate(rows, start=1) if row.strip() == f'- {item}')}"


@pytest.mark.parametrize("path, text, fix", [
    ("rules/part_ii/line_02_wind.yaml", "", "restore its rules"),
    ("rules/part_ii/line_06_critical_minerals.yaml", "# the minerals are elsewhere\n", "restore its rules"),
    ("rules/special_rules/prohibited_foreign_entities.yaml", "section: {id: pfe, title: Foreign entities}\n",
     "restore its rules"),
    ("definitions/units.yaml", "", "restore its definitions"),
    ("definitions/glossary.yaml", "terms: {}\n", "restore its definitions"),
])
def test_an_emptied_declared_file_exits_1_naming_it_and_the_declaration(tree, path, text, fix):
    (tree / path).write_text(text, encoding="utf-8")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert (f"{path}: the file is empty: the rule set declares it ({_declared_at(tree, path)})\n"
            f"    fix: {fix}") in result.stdout, result.stdout


def test_a_declared_file_removed_is_reported(tree):
    path = "rules/special_rules/termination.yaml"
    (tree / path).unlink()
    problems = [p for p in validate(tree) if p.where == path]
    assert any(f"the file is missing: the rule set declares it ({_declared_at(tree, path)})" in p.message
               and f"restore {path}" in p.fix for p in problems), problems


def test_an_emptied_rules_file_leaves_its_lines_and_kinds_uncovered(tree):
    (tree / "rules" / "part_ii" / "line_02_wind.yaml").write_text("", encoding="utf-8")
    problems = {p.where + " " + p.message: p for p in validate(tree)}
    blade = f"{_declared_at(tree, 'blade')} component 'blade' has no class rule in force from 2023-01-01 on"
    assert any(k.startswith(blade) and "restore its class rules" in p.fix for k, p in problems.items()), problems
    lines = [k for k in problems if "Part II line '2b' is concluded by no rule" in k]
    assert lines and lines[0].startswith(f"{RULESET}:"), problems


def test_a_line_no_rule_concludes_is_reported_at_its_declaration(tree):
    _rewrite(tree, INVERTERS, r"then: \{line: 3f\}", "then: {line: 3e}")
    found = [p for p in validate(tree) if "Part II line '3f' is concluded by no rule" in p.message]
    assert found and found[0].where.startswith(f"{RULESET}:") and "{line: 3f}" in found[0].fix, found


BATTERIES = "rules/part_ii/line_05_batteries.yaml"


def _move_2025_battery_modules(tree, old_end, new_start):
    """Both battery module class rules (5b, 5c) of each period: the old ones to old_end, the new from new_start."""
    target = tree / BATTERIES
    text = target.read_text(encoding="utf-8")
    text = text.replace("from: 2022-01-01, to: 2025-07-04,", f"from: 2022-01-01, to: {old_end},")
    text = text.replace("in_force: {from: 2025-07-05, keyed_on: taxable_year}",
                        f"in_force: {{from: {new_start}, keyed_on: taxable_year}}")
    assert text.count(old_end) >= 2 and text.count(new_start) >= 2
    target.write_text(text, encoding="utf-8")


def test_a_kind_with_a_one_day_hole_between_its_class_rules_exits_1(tree):
    _move_2025_battery_modules(tree, "2025-07-04", "2025-07-06")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert (f"{_declared_at(tree, 'battery_module')}: component 'battery_module' has no class rule in force on "
            "2025-07-05 (keyed on the first day of the taxable year of sale)") in result.stdout, result.stdout
    assert "battery.module.with_cells.2025" in result.stdout and "in_force period that covers" in result.stdout


@pytest.mark.parametrize("old_end, new_start", [("2025-07-10", "2025-07-11"), ("2025-07-10", "2025-07-01")])
def test_contiguous_or_overlapping_class_rules_cover_their_kind(tree, old_end, new_start):
    _move_2025_battery_modules(tree, old_end, new_start)
    assert not [p for p in validate(tree) if "battery_module" in p.message], [str(p) for p in validate(tree)]


def test_a_kind_that_loses_its_first_class_rules_is_uncovered_from_the_laws_start(tree):
    target = tree / BATTERIES
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("from: 2022-01-01, to: 2025-07-04,", "from: 2024-01-01, to: 2025-07-04,"),
                      encoding="utf-8")
    found = [str(p) for p in validate(tree)]
    assert any("component 'battery_module' has no class rule in force from 2022-01-01 to 2023-12-31" in p
               for p in found), found


def test_a_kind_added_later_needs_its_class_rules_from_its_declared_date(tree):
    _rewrite(tree, RULESET, r"metallurgical_coal: 2025-07-05", "metallurgical_coal: 2025-01-01")
    found = [p for p in validate(tree) if "component 'metallurgical_coal'" in p.message]
    assert found and "from 2025-01-01 to 2025-07-04" in found[0].message and "components_from" in found[0].fix, found


def test_the_declared_kinds_and_lines_must_match_the_vocabulary(tree):
    _rewrite(tree, RULESET, r"^    - blade\n", "    - blades\n")
    problems = validate(tree)
    assert any(p.where == _declared_at(tree, "blades") and "names 'blades', not a value of the fact 'component'"
               in p.message and "did you mean 'blade'" in p.message for p in problems), [str(p) for p in problems]
    assert any(p.where.startswith("definitions/facts/common.yaml:") and "'blade', a value of the fact 'component', "
               "is not in 'components' of 'requires'" in p.message for p in problems), [str(p) for p in problems]


def test_a_rule_set_that_declares_nothing_is_refused(tree):
    target = tree / RULESET
    text = target.read_text(encoding="utf-8")
    target.write_text(text[:text.index("\nrequires:")] + "\n", encoding="utf-8")
    assert any("is missing 'requires'" in str(p) for p in validate(tree)), [str(p) for p in validate(tree)]


# A negative threshold for a fact that cannot be negative (its declared range starts at 0): the
# condition would hold, or fail, for every product.
PFE = "rules/special_rules/prohibited_foreign_entities.yaml"


def test_a_negative_inline_threshold_for_a_fact_that_cannot_be_negative_exits_1_at_its_line(tree):
    line = _rewrite(tree, PFE, r"(material_assistance_cost_ratio, at_least: )\{param: pfe\.macr\.threshold\.solar\}",
                    r"\g<1>-50 %")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert (f"{PFE}:{line}: condition on 'material_assistance_cost_ratio' in rule 'pfe.material_assistance.solar': "
            "the threshold -50 percent is negative, but 'material_assistance_cost_ratio' cannot be negative "
            "(its range starts at 0 percent, definitions/facts/material_assistance.yaml:") in result.stdout, \
        result.stdout
    assert "fix: write a threshold of 0 percent or more" in result.stdout


def test_a_negative_value_of_a_parameter_compared_with_such_a_fact_is_reported_at_its_line(tree):
    line = _rewrite(tree, PFE, r"(values: \{2026-01-01: 50 %, 2027-01-01: )60 %", r"\g<1>-60 %")
    found = [p for p in validate(tree) if p.where == f"{PFE}:{line}"]
    assert any("parameter 'pfe.macr.threshold.solar': the value -60 percent from 2027-01-01 is negative" in p.message
               and "cannot be negative" in p.message and "write a value of 0 percent or more" in p.fix
               for p in found), [str(p) for p in validate(tree)]


def test_zero_and_positive_thresholds_for_such_a_fact_validate(tree):
    _rewrite(tree, PFE, r"(material_assistance_cost_ratio, at_least: )\{param: pfe\.macr\.threshold\.solar\}",
             r"\g<1>0 %")
    assert validate(tree) == [], [str(p) for p in validate(tree)]


# A parameter without a unit is read as no values at all (build reads each value in the parameter's
# unit); compared with a fact that has a unit, every condition on it would be undetermined.
@pytest.mark.parametrize("unit_line, repl", [("    unit: W\n", '    unit: ""\n'), ("    unit: W\n", "")])
def test_a_parameter_without_a_unit_compared_with_a_quantity_exits_1(tree, unit_line, repl):
    _rewrite(tree, INVERTERS, r"(  inverter\.utility\.min_capacity:\n(?:    (?!unit:).*\n)*?)" + re.escape(unit_line),
             r"\g<1>" + repl)
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert ("parameter 'inverter.utility.min_capacity' (rules/part_ii/line_03_inverters.yaml:" in result.stdout
            and "has no unit, so none of its values is read, but 'ac_capacity' is in W" in result.stdout), result.stdout
    assert "fix: give the parameter 'unit: W'" in result.stdout


# Binary garbage in a rules file: reported at the line it is on, not as a byte offset or a traceback.
@pytest.mark.parametrize("garbage, words", [
    (b"\x00", "the file holds NUL (U+0000) at column 3"),
    (b"\xff\xfe", "the file is not UTF-8 text: byte 0xff at column 3"),
    (b"\x89PNG\r\x1a\x00\xd8\xff garbage", "the file is not UTF-8 text: byte 0x89 at column 3"),
    (bytes(range(1, 9)), "the file holds a control character (U+0001) at column 3"),
])
def test_binary_garbage_in_a_rules_file_is_reported_at_its_line(tree, garbage, words):
    path = "rules/special_rules/termination.yaml"
    target = tree / path
    rows = target.read_bytes().split(b"\n")
    at = next(i for i in range(len(rows) // 2, len(rows)) if len(rows[i]) > 2)  # inside the file, in a line of text
    rows[at] = rows[at][:2] + garbage + rows[at][2:]
    target.write_bytes(b"\n".join(rows))
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{path}:{at + 1}: {words}" in result.stdout, result.stdout
    assert "fix: remove the stray bytes at that line" in result.stdout


@pytest.mark.parametrize("unit", ["USD/W/", "**", "(W", "W/0"])
def test_a_unit_that_cannot_be_parsed_is_reported_at_its_line_once(tree, unit):
    """A parameter's unit that is not one is a problem at its line, and the credit line that uses
    the parameter is not reported again for the unit it lacks."""
    path = "rules/credit/amounts.yaml"
    line = _rewrite(tree, path, r"(  credit\.rate\.1a:\n(?:    .*\n)*?    unit: )USD/W", rf"\g<1>'{unit}'")
    result = _cli_validate(tree)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert (f"{path}:{line}: parameter 'credit.rate.1a': unknown unit '{unit}'\n"
            "    fix: use a unit such as") in result.stdout, result.stdout
    assert "1 problem(s)" in result.stdout, result.stdout


@pytest.mark.parametrize("path, pattern, repl, words, anchor", [
    ("definitions/facts/common.yaml", r"^    role: kind$", "    role: {}", ["role"], "role: {}"),
    ("definitions/ledger.yaml", r"^    role: (\w+)$", "    role: [a]", ["role"], "role: [a]"),
    ("rules/part_ii/line_06_critical_minerals.yaml", r"^        - fact: mineral$", "        - fact: []",
     ["fact"], "fact: []"),
])
def test_a_mapping_or_list_where_a_word_belongs_is_reported_at_its_line(tree, path, pattern, repl, words, anchor):
    _assert_reported_at_its_line(tree, path, pattern, repl, words, anchor)


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing left\n"])
def test_an_emptied_ruleset_file_is_the_one_problem_reported(tree, text):
    (tree / "rules" / "ruleset.yaml").write_text(text, encoding="utf-8")
    result = _cli_validate(tree)
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("rules/ruleset.yaml: the file is empty: it must give the rule set's name, "
                                    "stages and requires\n    fix: restore rules/ruleset.yaml"), result.stdout
    assert "1 problem(s)" in result.stdout, result.stdout


def test_a_refusal_made_of_an_unknown_unit_is_reported(tree):
    _assert_reported_at_its_line(tree, "definitions/units.yaml", r"made_of: \[volt, ampere\]",
                                 "made_of: [volt, amperezz]", ["refusal of 'volt_ampere'", "unknown unit 'amperezz'"],
                                 "made_of:")
