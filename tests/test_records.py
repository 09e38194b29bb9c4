"""The typed record as auditors use it: it validates against the shipped schema, reads back to the
same bytes, and `ampc verify` decides it again from its own inputs: identical under the same rules,
and under a changed parameter exactly the records and clauses that moved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import msgspec
import pytest
from click.testing import CliRunner

from ampc.cli import main
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_rows, read
from ampc.records import record as R
from ampc.records.verify import verify
from ampc.rules.loader import load_ruleset
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEMO = [EXAMPLES / "catalog.csv", EXAMPLES / "catalog_part_ii.yaml", EXAMPLES / "catalog_minerals.yaml",
        EXAMPLES / "catalog_2025_amendments.yaml", EXAMPLES / "catalog_with_errors.csv"]
AS_OF = "2025-06-30"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def demo_jsonl(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("records") / "records.jsonl"
    result = run("classify", *DEMO, "--format", "jsonl", "--detail", "full", "-o", out)
    assert result.exit_code == 1  # catalog_with_errors.csv has error rows, reported and kept
    return out


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_every_demo_record_validates_against_the_shipped_schema(demo_jsonl):
    validator = jsonschema.Draft202012Validator(json.loads(run("schema", "record").output))
    errors = jsonschema.Draft202012Validator(json.loads(run("schema", "error").output))
    lines = _lines(demo_jsonl)
    rows = sum(len(_rows(path)) for path in DEMO)
    assert len(lines) == rows  # rows in = records + errors
    kinds = set()
    for line in lines:
        data = json.loads(line)
        validator.validate(data)
        kinds.add(data["record"])
        if data["record"] == "error":
            errors.validate(data)
            assert data["error"]["where"] and data["error"]["fix"]
    assert kinds == {"decision", "error"}


def _rows(path: Path) -> list:
    return read([path], load_ruleset(ROOT))


def test_the_schema_refuses_what_a_record_is_not(demo_jsonl):
    validator = jsonschema.Draft202012Validator(R.schema("record"))
    data = json.loads(_lines(demo_jsonl)[0])
    broken = dict(data, outcome="probably")
    assert not validator.is_valid(broken)
    quantity = dict(data, facts={**data["facts"], "ac_capacity": {"type": "quantity", "value": "2 MW"}})
    assert not validator.is_valid(quantity)  # a quantity carries its unit apart from its exact value


def test_a_record_reads_back_to_the_same_bytes(demo_jsonl):
    for line in _lines(demo_jsonl):
        assert R.encode(R.decode(line)).decode() == line


def test_a_record_holds_values_typed_not_as_display_text(demo_jsonl):
    data = [json.loads(line) for line in _lines(demo_jsonl)]
    record = next(d for d in data if d["product"] == "INV-480-1000")
    assert record["inputs"]["values"]["ac_capacity"] == "1000 kW"  # as given
    assert record["facts"]["ac_capacity"] == {"type": "quantity", "value": "1000000", "unit": "W"}
    utility = next(c for c in record["considered"] if c["rule"] == "inverter.utility")
    voltage = next(c for c in utility["clauses"] if c["fact"] == "rated_output_voltage")
    assert voltage["threshold"] == {"type": "quantity", "value": "600", "unit": "V"}
    assert voltage["actual"] == {"type": "quantity", "value": "480", "unit": "V"}
    assert voltage["verdict"] == "false" and voltage["decisive"] is True
    assert voltage["param"] == "inverter.utility.min_voltage" and voltage["param_from"] == "2023-01-01"
    assert utility["cite"]["irc"] == "45X(c)(2)(G)"
    assert record["software"]["durable_rules"] == "2.0.28" and record["software"]["python"]
    missing = next(d for d in data if d["outcome"] == "undetermined" and d["missing"])
    unknown = [c for r in missing["considered"] for c in r.get("clauses", []) if c["verdict"] == "unknown"]
    assert unknown and all(c["actual"] == {"type": "not_given"} for c in unknown
                           if c["threshold"]["type"] != "not_stated_by_law")
    text = "\n".join(_lines(demo_jsonl))
    for repr_ in ("Decimal(", "datetime.date(", "frozenset(", "PhaseOut("):
        assert repr_ not in text


def test_the_same_inputs_give_the_same_bytes(demo_jsonl, tmp_path):
    again = tmp_path / "again.jsonl"
    run("classify", *DEMO, "--format", "jsonl", "--detail", "full", "-o", again)
    assert again.read_bytes() == demo_jsonl.read_bytes()


def test_verify_finds_every_demo_record_identical(demo_jsonl):
    result = run("verify", demo_jsonl)
    assert result.exit_code == 0, result.output
    count = len(_lines(demo_jsonl))
    assert result.output.strip().splitlines()[-1] == f"{count} records verified: {count} identical"


@pytest.mark.parametrize("detail", ["full", "compact"])
def test_verify_under_a_changed_parameter_names_exactly_the_records_and_clauses_that_changed(
        detail, demo_jsonl, compact_jsonl, tmp_path):
    root = copy_rule_set(tmp_path / "copy")
    path = root / "rules" / "part_ii" / "line_03_inverters.yaml"
    text = path.read_text(encoding="utf-8")
    block = re.search(r"  inverter\.commercial\.max_capacity:\n(?:    .*\n)+", text).group(0)
    path.write_text(text.replace(block, block.replace("{2023-01-01: 125 kW}", "{2023-01-01: 150 kW}")),
                    encoding="utf-8")
    # the records that state a clause on that parameter (the full records name it; a compact one keeps
    # it where it failed or is unknown, the threshold raised makes none fail): exactly those must differ
    uses = {r.product for r in map(R.decode, _lines(demo_jsonl)) if isinstance(r, R.Decision) and any(
        c.param == "inverter.commercial.max_capacity" and (detail == "full" or c.verdict != "true")
        for k in r.considered for c in k.clauses)}
    written = demo_jsonl if detail == "full" else compact_jsonl
    records = [(n, R.decode(line)) for n, line in enumerate(_lines(written), start=1)]
    assert uses
    results = list(verify(records, load_ruleset(root)))
    assert all(v.rules_differ for v in results)
    different = {v.product: v for v in results if v.status == "different"}
    assert set(different) == uses
    for v in different.values():
        clauses = [c for c in v.changes if c.what == "clause"]
        assert {(c.rule, c.field) for c in clauses} >= {("inverter.commercial", "threshold")}
        moved = next(c for c in clauses if c.rule == "inverter.commercial" and c.field == "threshold")
        assert moved.recorded == {"type": "quantity", "value": "125000", "unit": "W"}
        assert moved.now == {"type": "quantity", "value": "150000", "unit": "W"}
    others = {v.status for v in results if v.product not in uses}  # the rest: the same decision
    assert others == {"same_decision"}
    out = run("verify", written, "--rules", root).output
    assert "clause inverter.commercial all[6] threshold: 125,000 W -> 150,000 W" in out
    assert out.strip().splitlines()[-1].startswith(f"{len(records)} records verified: {len(uses)} different")


def test_verify_reports_a_line_that_is_not_a_record(tmp_path, demo_jsonl):
    path = tmp_path / "r.jsonl"
    path.write_text(_lines(demo_jsonl)[0] + "\n{\"record\": \"decision\", \"product\": 3}\n", encoding="utf-8")
    result = run("verify", path)
    assert result.exit_code == 1
    assert f"{path}:2: not a decision record" in result.output and "1 records verified: 1 identical" in result.output


def test_an_error_record_names_row_column_and_fix_and_the_rest_are_decided(ruleset, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("product,component,ac_capacity\nA,inverter,5 kW\nB,inverter,5 kVA\nC,inverter,7 kW\n")
    with Decider(ruleset) as d:
        out = list(decide_rows(read([path], ruleset), d))
    assert [type(r).__name__ for r in out] == ["Decision", "ErrorRecord", "Decision"]
    error = out[1].error
    assert error.where == f"{path} row 3, ac_capacity" and error.key == "ac_capacity"
    assert "apparent power" in error.message and error.fix == "give the value in W (or a multiple such as kW)"
    assert out[1].inputs.values == {"component": "inverter", "ac_capacity": "5 kVA"}


@pytest.fixture(scope="module")
def compact_jsonl(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compact") / "records.jsonl"
    run("classify", *DEMO, "--format", "jsonl", "-o", out)  # compact is the default
    return out


def test_a_compact_record_leaves_the_rules_words_to_the_rule_set_and_keeps_every_verdict(compact_jsonl, demo_jsonl):
    validator = jsonschema.Draft202012Validator(R.schema("record"))
    for small, full in zip(_lines(compact_jsonl), _lines(demo_jsonl)):
        a, b = json.loads(small), json.loads(full)
        validator.validate(a)
        if a["record"] == "error":
            assert small == full  # an error record has no rules' words to leave out
            continue
        assert len(small) < len(full)
        assert a["detail"] == "compact" and b["detail"] == "full"
        given = {k: v for k, v in b["inputs"]["values"].items() if v not in ("", None)}
        assert a["inputs"]["values"] == given  # every cell that holds a value; an empty one gives none
        verdicts = [(c["rule"], c["result"]) for c in a["considered"]]
        assert verdicts == [(c["rule"], c["result"]) for c in b["considered"]]
        for x, y in zip(a["considered"], b["considered"]):
            assert "text" not in x and "cite" not in x and "label" not in x
            assert "stage" not in x and "line" not in x  # the rule's, from the rule set
            for clause in x.get("clauses", []):  # the clause's at its path, from the rule set
                assert not {"fact", "op", "param", "param_from", "clause", "rule"} & clause.keys(), clause
            not_held = [c for c in y.get("clauses", []) if c["verdict"] != "true"]
            assert [c["path"] for c in x.get("clauses", []) if c["verdict"] != "true"] == [c["path"] for c in not_held]


def test_expand_restores_the_words_from_the_rule_set_it_names(compact_jsonl, demo_jsonl, ruleset):
    from ampc.records.detail import Unresolved, expand
    small = R.decode(next(line for line in _lines(compact_jsonl) if "INV-480-1000" in line))
    full = R.decode(next(line for line in _lines(demo_jsonl) if "INV-480-1000" in line))
    restored = expand(small, ruleset)
    for c in restored.considered:
        assert all(x.rule == c.rule for x in c.clauses)
        f = full.considered_rule(c.rule)
        assert (c.label, c.text, c.cite, c.source, c.in_force) == (f.label, f.text, f.cite, f.source, f.in_force)
        words = {x.path: x.clause for x in f.clauses}
        assert all(x.clause == words[x.path] for x in c.clauses)
    other = msgspec.structs.replace(small, ruleset=msgspec.structs.replace(small.ruleset, sha256="0" * 64))
    with pytest.raises(Unresolved, match="--detail full"):
        expand(other, ruleset)


def test_expand_restores_every_clause_as_the_full_record_has_it(compact_jsonl, demo_jsonl, ruleset):
    """Each clause a compact record keeps, expanded, is the full record's clause at the same path:
    its fact, operator, parameter, the date the parameter's value is in force from, and its words;
    and each rule its stage and line; and its threshold and actual value, written bare, typed again as
    they were, of every kind of value the demo's clauses hold."""
    from ampc.records.detail import expand
    clauses = with_param = 0
    kinds: set[str] = set()
    for small, full in zip(map(R.decode, _lines(compact_jsonl)), map(R.decode, _lines(demo_jsonl))):
        if isinstance(small, R.ErrorRecord):
            continue
        for c in expand(small, ruleset).considered:
            f = full.considered_rule(c.rule)
            assert (c.stage, c.line) == (f.stage, f.line)
            at = {x.path: x for x in f.clauses}
            for x in c.clauses:
                assert x == at[x.path], (small.product, c.rule, x.path)
                clauses += 1
                with_param += x.param_from is not None
                kinds |= {type(x.threshold).__name__, type(x.actual).__name__}
    assert clauses > 100 and with_param > 10, (clauses, with_param)
    assert kinds == {"Quantity", "Boolean", "Text", "Members", "Day", "OneOf", "NotGiven", "NotStatedByLaw"}, kinds


def test_a_compact_clause_writes_its_values_bare_and_a_threshold_the_law_does_not_state_typed(ruleset):
    """The threshold and actual value of a compact clause: plain JSON, the unit once; typed again by
    the clause's fact, the same values (a threshold the law does not state is kept as it is)."""
    import datetime as dt

    from ampc.records.detail import bare, typed
    facts = ruleset.facts
    given = [("ac_capacity", R.quantity(125000, "W"), "125000"),
             ("rated_output_voltage", R.OneOf((R.quantity(120, "V"), R.quantity(240, "V"))), ["120", "240"]),
             ("is_end_product", R.Boolean(False), False), ("phase", R.Text("three"), "three"),
             ("suitable_for", R.Members(("commercial", "residence")), ["commercial", "residence"]),
             ("sale_date", R.Day(dt.date(2023, 1, 1)), "2023-01-01"),
             ("ac_capacity", R.NotStatedByLaw("inverter.commercial.max_capacity", dt.date(2033, 1, 1)),
              {"type": "not_stated_by_law", "param": "inverter.commercial.max_capacity", "date": "2033-01-01"})]
    for name, value, written in given:
        assert json.loads(R.encode(bare(value))) == written
        unit = next((v.unit for v in (value, *getattr(value, "values", ())) if isinstance(v, R.Quantity)), "")
        read = msgspec.json.decode(R.encode(bare(value)), type=R.Value | R.Bare)
        assert typed(read, facts[name], unit, actual=isinstance(value, R.Members)) == value, name
    assert bare(R.NotGiven()) is None and typed(None, facts["ac_capacity"], "W", actual=True) == R.NotGiven()


def test_expand_restores_the_facts_and_flags_a_compact_record_leaves_out(compact_jsonl, demo_jsonl, ruleset):
    from ampc.records.detail import expand
    flagged = 0
    for small, full in zip(map(R.decode, _lines(compact_jsonl)), map(R.decode, _lines(demo_jsonl))):
        if isinstance(small, R.ErrorRecord):
            continue
        assert not small.facts and all(f.note == "" for f in small.flags)
        restored = expand(small, ruleset)
        assert restored.facts == full.facts  # the inputs read again by the rule set: the same facts
        assert restored.flags == full.flags  # each flag's words put back from its rule or precedence
        flagged += any(f.note for f in full.flags)
    assert flagged  # the demo catalogs have flags with words (overlaps, open readings)


def test_explain_and_verify_read_compact_records(compact_jsonl):
    assert run("verify", compact_jsonl).output.strip().endswith("identical")
    out = run("explain", compact_jsonl, "--product", "INV-480-1000").output
    assert "REJECTED" in out and "rated_output_voltage 480 V is less than 600 V" in out
    assert '"(ii) a rated output of not less than 600 volt"' in out and "IRC 45X(c)(2)(G)" in out


def test_a_record_made_compact_as_it_is_built_is_the_full_record_made_compact(ruleset):
    """`ampc classify` writes compact records as the decider builds them, never making the words and
    clauses it leaves out: each is byte for byte `compact()` of the full record, for products of
    every kind at and around every threshold and date (given again, reused), with cells left empty in
    its inputs, and for a sale the credit dates (whose facts a compact record keeps)."""
    import random

    from ampc.analysis.products import Products, kinds
    from ampc.records.detail import compact
    rng, generator = random.Random(7207), Products(ruleset)
    drawn = [(generator.product(kind, rng.choice), generator.when(rng.choice))
             for kind in kinds(ruleset) for _ in range(60)]
    drawn += drawn[::7]  # the same facts and dates again: the decision is reused
    compared = ledger = kept = 0
    with Decider(ruleset) as full, Decider(ruleset, detail="compact") as small:
        for n, (facts, when) in enumerate(drawn):
            inputs = R.Inputs({"product": f"P{n}", "component": str(facts.get("component", "")), "note": ""})
            sale_from = "ledger" if n % 5 == 0 else "option"
            made = [d.decide(f"P{n}", facts, when, "a product", R.Source("c.csv", n, f"c.csv row {n}"), inputs,
                             sale_from) for d in (full, small)]
            assert made[1].detail == "compact"
            assert R.encode(made[1]) == R.encode(compact(made[0])), (n, facts)
            compared += 1
            ledger += sale_from == "ledger" and bool(made[1].facts)
            kept += sum(len(c.clauses) for c in made[1].considered)
    assert compared > 1000 and ledger > 100 and kept > 1000, (compared, ledger, kept)
