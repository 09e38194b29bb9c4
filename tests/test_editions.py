"""Editions of the law and `ampc rules diff`: what the 2025 act changed, product by product."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from ampc.analysis.diff import diff, resolve
from ampc.cli import main
from ampc.credit.worksheet import unit_credit_text
from ampc.rules.loader import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
AMENDMENTS = ROOT / "examples" / "catalog_2025_amendments.yaml"


def test_the_2024_edition_leaves_out_what_the_2025_act_enacted(ruleset):
    old = load_ruleset(ROOT, known_on=dt.date(2024, 1, 31))
    enacted_later = {r.id for r in ruleset.rules if r.enacted and r.enacted > dt.date(2024, 1, 31)}
    assert enacted_later, "the 2025 act's rules carry their enactment date"
    assert not enacted_later & {r.id for r in old.rules}
    assert old.ident()["law_as_enacted_by"] == "2024-01-31"
    # a rule the 2025 act ended was open-ended before it
    ended = [r for r in ruleset.rules if r.ended]
    assert ended and all(old.rule(r.id).in_force_to is None for r in ended)


def test_diff_between_editions_shows_the_wind_coal_and_mineral_changes_with_their_rules():
    old, _ = resolve("2024-01")
    new, _ = resolve("current")
    report = diff(old, new, [AMENDMENTS])
    changes = {c.product: c for c in report.changes}
    blade = changes["BLADE-SOLD-2028"]
    assert (blade.old.outcome, blade.new.outcome) == ("qualified", "rejected")
    assert any(r.startswith("termination.wind") for r in blade.new.decided_by)
    coal = changes["COAL-2026"]
    assert (coal.old.outcome, coal.new.outcome, coal.new.line) == ("rejected", "qualified", "6b")
    mineral = changes["LIOH-2031"]
    assert mineral.what == ("credit",) and mineral.new.credit.phase_out.percent == 75
    assert (mineral.old.figure, mineral.new.figure) == (Decimal(10), Decimal("7.5"))  # percent of the costs
    assert "75 % phase-out" in unit_credit_text(mineral.new.outcome, mineral.new.credit, new)
    assert report.counts()["changed"] == len(report.changes) >= 3


def test_an_ended_rule_still_applies_in_the_edition_before_the_end():
    old, _ = resolve("2024-01")
    new, _ = resolve("current")
    report = diff(old, new, [AMENDMENTS])
    module = {c.product: c for c in report.changes}["MOD-NO-EQUIP-2026"]
    assert module.old.outcome == "qualified" and module.new.outcome == "rejected"


def test_rules_diff_cli_table_json_and_bad_edition():
    runner = CliRunner()
    table = runner.invoke(main, ["rules", "diff", "2024-01", "current", "--catalog", str(AMENDMENTS)])
    assert table.exit_code == 0, table.output
    assert "BLADE-SOLD-2028" in table.output and "products compared" in table.output
    data = json.loads(runner.invoke(main, ["rules", "diff", "2024-01", "current", "--catalog", str(AMENDMENTS),
                                           "--format", "json"]).output)
    assert data["summary"]["changed"] == len(data["changes"])
    same = runner.invoke(main, ["rules", "diff", "current", str(ROOT), "--catalog", str(AMENDMENTS)])
    assert same.exit_code == 0 and "0 changed" in same.output
    latest = runner.invoke(main, ["rules", "diff", "2025-12", "current", "--catalog", str(AMENDMENTS)])
    assert latest.exit_code == 0 and "0 changed" in latest.output, latest.output  # current: the latest
    bad = runner.invoke(main, ["rules", "diff", "2024-1", "current", "--catalog", str(AMENDMENTS)])
    assert bad.exit_code == 2 and "did you mean '2024-01'" in bad.output


def test_as_of_reads_the_law_on_that_date():
    runner = CliRunner()
    catalog = str(AMENDMENTS)
    on_sale_dates = json.loads(runner.invoke(main, ["classify", catalog, "--format", "json"]).stdout)
    blade = next(r for r in on_sale_dates if r["product"] == "BLADE-SOLD-2028")
    assert blade["outcome"] == "rejected" and blade["dates"]["sale"] == "2028-01-01"
    earlier = json.loads(runner.invoke(main, ["classify", catalog, "--format", "json",
                                              "--as-of", "2027-12-31"]).stdout)
    blade = next(r for r in earlier if r["product"] == "BLADE-SOLD-2028")
    assert blade["dates"]["sale"] == "2027-12-31" and blade["dates"]["sale_from"] == "option"
