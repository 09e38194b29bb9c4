"""What the code reads a fact for is declared in YAML (`role:`): an analyst who renames a fact or a
ledger column moves its role with it and edits no Python; a role given twice or to none is refused."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from ampc.cli import main
from ampc.rules.loader import validate
from caselib import copy_rule_set

ROOT = Path(__file__).resolve().parent.parent


def _sub(path: Path, pattern: str, repl: str) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(pattern, repl, text, flags=re.M)
    assert new != text, pattern
    path.write_text(new, encoding="utf-8")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def test_a_renamed_ledger_column_keeps_its_role(tmp_path):
    root = copy_rule_set(tmp_path / "ruleset")
    _sub(root / "definitions" / "ledger.yaml", r"^  facility:$", "  plant:")
    sales = tmp_path / "sales.csv"
    sales.write_text((ROOT / "examples" / "credit" / "sales.csv").read_text().replace("facility,", "plant,", 1))
    args = ["credit", "--catalog", ROOT / "examples" / "credit" / "catalog.yaml", "--sales", sales,
            "--tax-year", "2025"]
    renamed = run(*args, "--rules", root)
    original = run(*args[:4], ROOT / "examples" / "credit" / "sales.csv", *args[5:])
    assert renamed.exit_code == original.exit_code == 0, renamed.output
    assert "Form 7207 worksheet: facility PLANT-A" in renamed.output
    def strip(text: str, sales_file: Path) -> str:  # the copy's hash and the ledger's path differ
        return re.sub(r"sha256 \w+", "", text).replace(str(sales_file), "SALES")
    assert strip(renamed.output, sales) == strip(original.output, ROOT / "examples" / "credit" / "sales.csv")


def test_a_role_given_to_no_fact_or_to_two_is_refused(tmp_path):
    root = copy_rule_set(tmp_path / "ruleset")
    _sub(root / "definitions" / "facts" / "taxpayer.yaml", r"^    role: taxable_year_begins\n", "")
    problems = [str(p) for p in validate(root)]
    assert any("no fact has the role 'taxable_year_begins'" in p and "add 'role: taxable_year_begins'" in p
               for p in problems), problems
    root = copy_rule_set(tmp_path / "two")
    _sub(root / "definitions" / "facts" / "qualification.yaml", r"^    role: production_date$", "    role: sale_date")
    problems = [str(p) for p in validate(root)]
    assert any("the role 'sale_date' is given to" in p for p in problems), problems


def test_a_role_on_a_fact_of_the_wrong_type_is_refused(tmp_path):
    root = copy_rule_set(tmp_path / "ruleset")
    _sub(root / "definitions" / "facts" / "taxpayer.yaml", r"^    role: taxable_year_begins$", "    role: kind")
    problems = [str(p) for p in validate(root)]
    assert any("has role 'kind', which needs a enum fact, not date" in p for p in problems), problems
