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


def _law_changes(ruleset) -> dict[str, set[dt.date]]:
    """For each date a rule or parameter is keyed to, the days a rule starts or ends or a parameter
    takes a value on."""
    days: dict[str, set[dt.date]] = {"sale": set(), "production": set(), "taxable_year": set()}
    for rule in ruleset.rules:
        days[rule.keyed_on].update(d for d in (rule.in_force_from, rule.in_force_to) if d is not None)
    for param in ruleset.params.values():
        days[param.keyed_on].update(v.start for v in param.values)
    return days


def _decided_on_each_date(ruleset, kinds: tuple[str, ...]) -> set[str]:
    """Decide products of these kinds at, the day before and the day after every day the law
    changes on, in a shuffled order, with one decider; each record must list the rules in force on
    its own dates and name the edition those dates read. The editions named."""
    import random

    from ampc.decide.decider import Decider
    from ampc.rules.model import When

    base = When(dt.date(2026, 6, 30), dt.date(2026, 6, 30), dt.date(2026, 1, 1))
    dates = sorted({When(**dict(vars(base), **{key: day + dt.timedelta(days=step)}))
                    for key, cut in _law_changes(ruleset).items() for day in cut for step in (-1, 0, 1)},
                   key=lambda w: (w.sale, w.production, w.taxable_year))
    random.Random(7207).shuffle(dates)
    assert len(dates) > 40
    editions = set()
    with Decider(ruleset, detail="compact") as decider:
        for when in dates:
            for kind in kinds:
                record = decider.decide("P", {"component": kind}, when)
                in_force = {r.id for r in ruleset.rules if r.applies_to(kind) and r.in_force(when)}
                assert {c.rule for c in record.considered} == in_force, (kind, when)
                assert record.ruleset.edition == ruleset.edition_deciding(when), (kind, when)
                editions.add(record.ruleset.edition)
    return editions


def test_the_rules_in_force_and_the_edition_deciding_are_those_of_each_date(ruleset):
    """One decider reads the rules in force and the edition deciding once for all the dates of an
    era (between two days the law changes on); each record still reads its own dates."""
    assert len(_decided_on_each_date(ruleset, ("inverter", "critical_mineral", "metallurgical_coal", "blade"))) > 1


def test_a_rule_that_ends_on_a_day_of_its_own_is_out_of_force_the_day_after(ruleset):
    """The same, where a rule ends on a day the law changes on for no other reason, and a parameter
    stops having a value on another: the day after each is another era."""
    from dataclasses import replace

    from ampc.rules.model import ParamValue, When

    micro = ruleset.rule("inverter.micro")
    param = next(p for p in ruleset.params.values() if p.keyed_on == "sale" and p.values)
    ends, stops = dt.date(2026, 3, 17), dt.date(2026, 5, 21)
    assert not any(ends + dt.timedelta(days=1) in d or stops in d for d in _law_changes(ruleset).values())
    changed = replace(ruleset, rules=tuple(replace(r, in_force_to=ends) if r is micro else r for r in ruleset.rules),
                      params=dict(ruleset.params, **{param.id: replace(param, values=tuple(sorted(
                          (*param.values, ParamValue(stops, None)), key=lambda v: v.start)))}))
    _decided_on_each_date(changed, ("inverter",))
    day = dt.timedelta(days=1)

    def on(d: dt.date) -> When:
        return When(d, d, dt.date(2026, 1, 1))
    assert micro.in_force(on(ends + day)) and not changed.rule("inverter.micro").in_force(on(ends + day))
    assert changed.era(on(ends)) != changed.era(on(ends + day))
    assert changed.era(on(stops - day)) != changed.era(on(stops))
