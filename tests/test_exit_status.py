"""The exit statuses `ampc --help` documents, one test per status per command (classify, credit,
validate, explain): 0 every row decided, 1 some rows were errors (each listed with its row and fix,
the rest decided), 2 the input or the rules could not be used at all. For validate: 0 no problem,
1 the problems listed, 2 the command line is wrong. Never a traceback."""

from __future__ import annotations

import shutil
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CATALOG, WITH_ERRORS = EXAMPLES / "catalog.csv", EXAMPLES / "catalog_with_errors.csv"
CREDIT_CATALOG, SALES = EXAMPLES / "credit" / "catalog.yaml", EXAMPLES / "credit" / "sales.csv"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken" / "misspelt_key.yaml"


def run(*args) -> object:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)))
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def broken_rules(tmp_path_factory):
    """A copy of the bundled rule set with one misspelt key: it cannot be used at all."""
    tree = copy_rule_set(tmp_path_factory.mktemp("broken"))
    shutil.copy(BROKEN, tree / "rules" / "part_ii" / "zz_broken.yaml")
    return tree


def test_the_statuses_are_documented_in_ampc_help():
    text = run("--help").output
    assert "Exit status" in text
    for status in ("0 ", "1 ", "2 "):
        assert f"  {status}" in text, text


# --- classify

def test_classify_0_every_row_decided():
    result = run("classify", CATALOG, "--as-of", "2025-06-30", "--format", "jsonl", "--quiet")
    assert result.exit_code == 0, result.output
    assert '"record":"error"' not in result.stdout


def test_classify_1_some_rows_are_errors_the_rest_decided():
    result = run("classify", WITH_ERRORS, "--as-of", "2025-06-30", "--format", "jsonl", "--quiet")
    assert result.exit_code == 1, result.output
    kinds = [line.split('"record":"', 1)[1].split('"', 1)[0] for line in result.stdout.splitlines()]
    assert "error" in kinds and "decision" in kinds
    assert len(kinds) == len(WITH_ERRORS.read_text().strip().splitlines()) - 1


def test_classify_2_a_catalog_that_cannot_be_read(tmp_path):
    result = run("classify", tmp_path / "missing.csv")
    assert result.exit_code == 2 and "no such file" in result.stderr, result.output


def test_classify_2_a_rule_set_that_cannot_be_used(broken_rules):
    result = run("classify", CATALOG, "--rules", broken_rules)
    assert result.exit_code == 2 and "the rule set has" in result.stderr, result.output


# --- credit

def test_credit_0_every_sale_computed_or_rejected():
    result = run("credit", "--catalog", CREDIT_CATALOG, "--sales", SALES, "--tax-year", "2025")
    assert result.exit_code == 0, result.output


def test_credit_1_some_ledger_rows_are_errors(tmp_path):
    sales = tmp_path / "sales.csv"
    lines = SALES.read_text().splitlines()
    sales.write_text("\n".join([*lines, "PLANT-A,CELL-TF-100,abc,2025-02-10,,,,1a"]) + "\n")
    result = run("credit", "--catalog", CREDIT_CATALOG, "--sales", sales, "--tax-year", "2025", "--format", "json")
    assert result.exit_code == 1, result.output
    assert f"row {len(lines) + 1}" in result.stderr and "fix:" in result.stderr, result.stderr


def test_credit_2_a_ledger_that_cannot_be_read(tmp_path):
    result = run("credit", "--catalog", CREDIT_CATALOG, "--sales", tmp_path / "sales.txt")
    assert result.exit_code == 2 and "error:" in result.stderr, result.output


# --- validate

def test_validate_0_no_problem():
    result = run("validate")
    assert result.exit_code == 0 and result.stdout.startswith("ok: "), result.output


def test_validate_1_the_problems_listed(broken_rules):
    result = run("validate", broken_rules)
    assert result.exit_code == 1, result.output
    assert "rules/part_ii/zz_broken.yaml:" in result.stdout and "fix:" in result.stdout, result.stdout


def test_validate_2_the_command_line_is_wrong():
    result = run("validate", ROOT / "README.md")  # a file where a directory is asked for
    assert result.exit_code == 2 and "is a file" in result.output, result.output


# --- explain

def test_explain_0_the_product_decided():
    result = run("explain", CATALOG, "--product", "INV-SUN-250", "--as-of", "2025-06-30")
    assert result.exit_code == 0 and "INV-SUN-250" in result.stdout, result.output


def test_explain_1_the_product_row_is_an_error():
    result = run("explain", WITH_ERRORS, "--product", "INV-KG-125", "--as-of", "2025-06-30")
    assert result.exit_code == 1, result.output
    assert "row 4" in result.stdout and "fix:" in result.stdout, result.stdout


def test_explain_2_no_such_product():
    result = run("explain", CATALOG, "--product", "NOPE")
    assert result.exit_code == 2 and "has no product 'NOPE'" in result.stderr, result.output
