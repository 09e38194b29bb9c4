"""Rules files as analysts write them (file-level defaults, the critical-minerals table) expand into
exactly the rules that were written out by hand before (engine/ampc/rules/expand.py).

The snapshot tests/fixtures/rules_before.json holds every rule and precedence order of the rule set
as it stood before the defaults and the table existed (commit 6fb327c, rules/ written out in full),
each by its model fields except `where` (the file:line, which moves when a file gets shorter). It
was made once, from a checkout of that commit, with this file's own `freeze`:

    git worktree add /tmp/before 6fb327c
    cd /tmp/before && PYTHONPATH=engine python /work/main/tests/test_expand.py snapshot . \\
        > /work/main/tests/fixtures/rules_before.json

The test compares the rule set built from today's rules/ with it field by field, in order (rule
order, condition order and citation order all reach the decision records). A deliberate change of
a rule's content makes it fail: write the snapshot again, as above but from the changed tree
(`python tests/test_expand.py snapshot . > tests/fixtures/rules_before.json`), and review its diff.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "rules_before.json"


def _value(value):
    """A literal as exact JSON: the type is kept (Decimal('650') is not 650, 'true' is not true)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {"mapping": [[str(k), _value(v)] for k, v in value.items()]}
    return {type(value).__name__: str(value)}


def _cond(cond) -> dict:
    from ampc.rules.model import All, AnyOf, Cmp, Not
    if isinstance(cond, Cmp):
        return {"fact": cond.fact, "op": cond.op, "literal": _value(cond.literal), "param": cond.param,
                "clause": cond.clause}
    if isinstance(cond, Not):
        return {"not": _cond(cond.item)}
    kind = "all" if isinstance(cond, All) else "any"
    assert isinstance(cond, (All, AnyOf))
    return {kind: [_cond(c) for c in cond.items]}


def freeze(ruleset) -> dict:
    """Every rule and precedence order as plain JSON, in order, without file:line positions."""
    rules = []
    for r in ruleset.rules:
        rules.append({
            "id": r.id, "file": r.file, "stage": r.stage, "family": r.family, "families": list(r.families),
            "line": r.line, "label": r.label, "text": r.text, "cite": [[k, _value(v)] for k, v in r.cite.items()],
            "cite_as_amended": [{"after": _value(a.after), "enacted": _value(a.enacted), "by": a.by,
                                 "cite": [[k, _value(v)] for k, v in a.cite.items()]} for a in r.cite_as_amended],
            "in_force_from": _value(r.in_force_from), "in_force_to": _value(r.in_force_to),
            "keyed_on": r.keyed_on, "when": _cond(r.when), "then": [[k, _value(v)] for k, v in r.then.items()],
            "notes": r.notes, "review": r.review, "review_when": list(r.review_when),
            "review_if": _cond(r.review_if) if r.review_if else None,
            "enacted": _value(r.enacted), "ended": _value(r.ended)})
    precedence = [{"id": p.id, "family": p.family, "order": list(p.order), "reason": p.reason,
                   "review": p.review} for p in ruleset.precedence]
    return {"rules": rules, "precedence": precedence}


@pytest.fixture(scope="module")
def before() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def after(ruleset) -> dict:
    return json.loads(json.dumps(freeze(ruleset)))


def test_the_rules_are_the_same_rules_in_the_same_order(before, after):
    assert [r["id"] for r in after["rules"]] == [r["id"] for r in before["rules"]]


def test_each_rule_is_exactly_as_written_out_before(before, after):
    now = {r["id"]: r for r in after["rules"]}
    differ = []
    for old in before["rules"]:
        new = now.get(old["id"])
        if new is None:
            differ.append(f"rule '{old['id']}' is gone")
            continue
        differ += [f"rule '{old['id']}', {k}: was {old[k]!r}, is {new.get(k)!r}" for k in old if old[k] != new.get(k)]
    assert not differ, "\n".join(differ)


def test_the_precedence_orders_are_exactly_as_before(before, after):
    assert after["precedence"] == before["precedence"]


# --- file-level defaults ---------------------------------------------------------------------------

RULES = "rules/part_ii/zz.yaml"
DEFAULTS = """\
section: {id: test.x, title: A test file}
defaults:
  stage: classify
  family: inverter
  line: "3"
  in_force: {from: 2023-01-01}
  cite:
    instructions: "Form 7207 instructions (Rev. 01-2024), Part II, line {line}"
    irc: 45X(c)(2)
rules:
  - id: t.identify
    stage: identify
    cite: {irc: (A)}
    then: {is_inverter: true}
  - id: t.class
    cite: {statute: Pub. L. 1, irc: (B)(ii)}
    then: {line: 3b}
  - id: t.own
    line: 3c
    family: [inverter, blade]
    in_force: {from: 2025-07-05, keyed_on: taxable_year}
    cite:
      instructions: Form 7207 (Rev. 12-2025), Special Rules
      irc: 7701(a)(52)
    then: {line: 3d}
"""


def _expanded(text: str):
    from ampc.rules.expand import expand
    from ampc.rules.yamlio import load_yaml
    data, problems = load_yaml(RULES, RULES, text=text)
    assert not problems
    return expand(data, RULES)


def test_a_rule_takes_the_defaults_it_does_not_state_and_keeps_its_own():
    data, problems = _expanded(DEFAULTS)
    assert not problems and "defaults" not in data
    identify, cls, own = data["rules"]
    assert (identify["stage"], identify["family"], identify["line"]) == ("identify", "inverter", "3")
    assert dict(identify["cite"]) == {"instructions": "Form 7207 instructions (Rev. 01-2024), Part II, line 3",
                                      "irc": "45X(c)(2)(A)"}
    assert (cls["stage"], cls["line"]) == ("classify", "3b")  # the line it concludes
    assert list(cls["cite"].items()) == [("instructions", "Form 7207 instructions (Rev. 01-2024), Part II, line 3b"),
                                         ("irc", "45X(c)(2)(B)(ii)"), ("statute", "Pub. L. 1")]
    assert (own["line"], own["family"]) == ("3c", ["inverter", "blade"])  # its own line beats what it concludes
    assert dict(own["in_force"]) == {"from": dt.date(2025, 7, 5), "keyed_on": "taxable_year"}  # whole, not merged
    assert dict(own["cite"]) == {"instructions": "Form 7207 (Rev. 12-2025), Special Rules", "irc": "7701(a)(52)"}


def test_a_default_keeps_the_line_where_it_is_written_and_the_rule_its_own_place():
    data, _ = _expanded(DEFAULTS)
    text = DEFAULTS.splitlines()
    identify = data["rules"][0]
    assert "id: t.identify" in text[identify.line_of("id") - 1]
    assert text[identify.line_of("in_force") - 1].strip().startswith("in_force:")
    assert text[identify["in_force"].line - 1].strip().startswith("in_force:")
    assert text[identify["cite"].line_of("instructions") - 1].strip().startswith("instructions:")


def test_a_wrong_date_in_the_defaults_is_reported_where_the_defaults_say_it(tmp_path):
    from ampc.rules.loader import validate
    from caselib import copy_rule_set
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("  in_force: {from: 2023-01-01}\n") == 1
    path.write_text(text.replace("  in_force: {from: 2023-01-01}\n", "  in_force: {from: 2023-02-30}\n"),
                    encoding="utf-8")
    line = next(n for n, row in enumerate(path.read_text().splitlines(), start=1) if "2023-02-30" in row)
    dates = [p for p in validate(root) if "is not a date" in p.message]
    assert len(dates) == 7 and {p.where for p in dates} == {f"rules/part_ii/line_03_inverters.yaml:{line}"}, dates
    assert "rule 'inverter.utility'" in " ".join(p.message for p in dates)  # each rule is named


def test_an_unknown_default_is_reported_with_its_line_and_the_keys_defaults_may_give():
    _, problems = _expanded(DEFAULTS.replace("  stage: classify\n", "  stage: classify\n  lable: x\n"))
    assert [(p.where, p.key) for p in problems] == [(f"{RULES}:4", "lable")]
    assert "unknown key 'lable' in defaults" in problems[0].message and "line, in_force" in problems[0].fix


# The metadata a rule needs, stated nowhere (neither by the rule nor by its file's defaults, nor,
# for its line, by what it concludes), is refused naming the file and the key. This replaces the
# check in tests/test_corpus.py that deleted the key from the rule alone.
@pytest.mark.parametrize("key", ["id", "line", "label", "text", "cite", "in_force", "when", "stage", "family",
                                 "cite.irc", "cite.instructions"])
def test_metadata_stated_nowhere_is_refused_naming_file_and_key(tmp_path, key):
    import yaml

    from ampc.rules.loader import validate
    from caselib import copy_rule_set
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == ("inverter.identify" if key == "line" else "inverter.utility"))
    outer, _, inner = key.partition(".")
    for holder in (rule, data["defaults"]):
        if inner:
            (holder.get(outer) or {}).pop(inner, None)
        else:
            holder.pop(outer, None)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    problems = [p for p in validate(root) if f"missing '{inner or outer}'" in p.message]
    assert problems, f"a rule without '{key}' was accepted"
    assert all(p.where.startswith("rules/part_ii/line_03_inverters.yaml:") for p in problems), problems


# --- the critical-minerals table ------------------------------------------------------------------

TABLE = """\
section: {id: test.t, title: A table}
defaults: {stage: classify, family: critical_mineral, line: 6a, in_force: {from: 2023-01-01},
           cite: {instructions: "Form 7207 instructions (Rev. 01-2024), Part II, line 6", irc: 45X(c)(6)}}
precedence:
  - {id: p, family: critical_mineral, order: minerals, reason: r, review: v}
rules:
  - id: hand.written
    label: L
minerals:
  rule:
    cite: {irc: "{irc}", form: "Part IV, line {part_iv}"}
    when:
      - {fact: mineral, is: "{mineral}", clause: "{Mineral}"}
      - {fact: process, is: "{process}", clause: "{process}"}
    then: {line: 6a, part_iv_line: "{part_iv}"}
  clause_only:
    purity: {at_least: {param: "{id}.min_purity"}}
  subparagraphs:
    (H):
      text: Cobalt which is converted to cobalt sulfate, or purified.
    (Z):
      text: Other Minerals.
      label: "{Mineral} purified"
      purity: {at_least: {param: mineral.other.min_purity}, clause: "to 99%"}
  rows:
    - id: mineral.cobalt.converted
      part_iv: 16
      irc: (H)
      label: Cobalt converted to cobalt sulfate
      converted_to: {is: cobalt_sulfate, clause: "converted to cobalt sulfate"}
    - id: mineral.cobalt.purified
      part_iv: 17
      irc: (H)
      label: Cobalt purified
      process: {clause: "purified to"}
      purity: "to 99.6% cobalt"
      notes: A note.
    - {id: mineral.zinc.purified, part_iv: 72, irc: (Z)(xxiv)}
"""


def test_each_row_is_one_rule_after_the_hand_written_ones_in_row_order():
    data, problems = _expanded(TABLE)
    assert not problems and "minerals" not in data
    assert [r["id"] for r in data["rules"]] == ["hand.written", "mineral.cobalt.converted", "mineral.cobalt.purified",
                                               "mineral.zinc.purified"]
    assert list(data["precedence"][0]["order"]) == ["mineral.cobalt.converted", "mineral.cobalt.purified",
                                                    "mineral.zinc.purified"]
    converted, purified, zinc = data["rules"][1:]
    assert (converted["label"], converted["text"]) == ("Cobalt converted to cobalt sulfate",
                                                       "Cobalt which is converted to cobalt sulfate, or purified.")
    assert list(converted["cite"].items()) == [
        ("instructions", "Form 7207 instructions (Rev. 01-2024), Part II, line 6"), ("irc", "45X(c)(6)(H)"),
        ("form", "Part IV, line 16")]
    assert [dict(c) for c in converted["when"]["all"]] == [
        {"fact": "mineral", "is": "cobalt", "clause": "Cobalt"},
        {"fact": "process", "is": "converted", "clause": "converted"},
        {"fact": "converted_to", "is": "cobalt_sulfate", "clause": "converted to cobalt sulfate"}]
    assert dict(converted["then"]) == {"line": "6a", "part_iv_line": "16"}
    assert (converted["stage"], converted["line"], converted["family"]) == ("classify", "6a", "critical_mineral")
    assert [dict(c) for c in purified["when"]["all"]][1:] == [  # the process clause changed in place
        {"fact": "process", "is": "purified", "clause": "purified to"},
        {"fact": "purity", "at_least": {"param": "mineral.cobalt.purified.min_purity"}, "clause": "to 99.6% cobalt"}]
    assert purified["notes"] == "A note."
    assert (zinc["label"], zinc["text"]) == ("Zinc purified", "Other Minerals.")
    assert zinc["cite"]["irc"] == "45X(c)(6)(Z)(xxiv)"
    assert dict(zinc["when"]["all"][2]) == {"fact": "purity", "at_least": {"param": "mineral.other.min_purity"},
                                            "clause": "to 99%"}


def test_a_generated_rule_is_placed_at_its_row_and_its_conditions_at_their_columns():
    data, _ = _expanded(TABLE)
    text = TABLE.splitlines()
    purified = data["rules"][2]
    assert text[purified.line_of("id") - 1] == "    - id: mineral.cobalt.purified"
    assert text[purified["when"]["all"][2].line_of("at_least") - 1].strip().startswith("purity:")
    assert "id: mineral.zinc.purified" in text[data["rules"][3].line_of("id") - 1]


BAD_ROWS = {  # what is changed in the first row, the words of the problem and of its fix
    "lable": (("      label: Cobalt", "      lable: Cobalt"), "unknown column 'lable' (did you mean 'label'?)",
              "the columns are id, part_iv, irc, label"),
    "label": (("      label: Cobalt converted to cobalt sulfate\n", ""), "is missing 'label'", "Part IV line's words"),
    "part_iv": (("      part_iv: 16\n", ""), "is missing 'part_iv'", "Part IV line"),
    "part_iv_number": (("part_iv: 16", "part_iv: 16a"), "part_iv '16a' is not a Part IV line number", "part_iv: 17"),
    "irc": (("      irc: (H)\n      label: Cobalt converted", "      irc: (Q)\n      label: Cobalt converted"),
            "irc '(Q)' names no subparagraph", "subparagraphs"),
    "id": (("id: mineral.cobalt.converted", "id: mineral.cobalt.refined"), "the id is not <prefix>.<mineral>.<form>",
           "mineral.cobalt.converted"),
    "clause_only": (("      converted_to: {is: cobalt_sulfate, clause: \"converted to cobalt sulfate\"}",
                     "      converted_to: converted to cobalt sulfate"),
                    "'converted_to' is written as its clause alone", "{is: <value>, clause: <words>}"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_reported_at_its_line_with_the_fix_and_the_others_still_expand(case):
    (old, new), words, fix = BAD_ROWS[case]
    assert TABLE.count(old) >= 1
    broken = TABLE.replace(old, new, 1)
    data, problems = _expanded(broken)
    lines = broken.splitlines()
    row = next(n for n, line in enumerate(lines, start=1) if "id: mineral.cobalt." in line)
    after = next(n for n, line in enumerate(lines, start=1) if n > row and line.startswith("    - "))
    assert problems and all(p.where in [f"{RULES}:{n}" for n in range(row, after)] for p in problems), problems
    assert any(words in p.message and fix in p.fix for p in problems), problems
    assert [r["id"] for r in data["rules"]][-2:] == ["mineral.cobalt.purified", "mineral.zinc.purified"]  # the rest


def test_a_misspelt_fact_in_a_row_of_the_bundled_table_is_reported_at_the_row(tmp_path):
    from ampc.rules.loader import validate
    from caselib import copy_rule_set
    root = copy_rule_set(tmp_path / "ruleset")
    path = root / "rules" / "part_ii" / "line_06_critical_minerals.yaml"
    text = path.read_text(encoding="utf-8")
    old = "      converted_to: {is: cobalt_sulfate,"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "      converted_too: {is: cobalt_sulfate,"), encoding="utf-8")
    line = next(n for n, row in enumerate(path.read_text().splitlines(), start=1) if "converted_too" in row)
    problems = validate(root)
    assert [p.where for p in problems] == [f"rules/part_ii/line_06_critical_minerals.yaml:{line}"], problems
    assert "unknown fact 'converted_too' (did you mean 'converted_to'?)" in problems[0].message


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "snapshot":
        print("usage: python tests/test_expand.py snapshot <root holding rules/ and definitions/>", file=sys.stderr)
        return 2
    from ampc.rules.loader import load_ruleset
    root = Path(argv[1]).resolve()
    frozen = freeze(load_ruleset(root))
    print(json.dumps(frozen, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
