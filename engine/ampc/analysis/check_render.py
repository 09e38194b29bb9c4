"""`ampc rules check`: the command, and the report as text, Markdown (the docs page) and JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from ampc.analysis.check import ERROR, NOTE, WARNING, Finding, KindCheck, Region, Report, check

SEVERITIES = (ERROR, WARNING, NOTE)


def _lines(report: Report, k: KindCheck) -> str:
    lines = sorted({report.ruleset.rule(r).then.get(report.ruleset.role("line"), "") for r in k.rules})
    return lines[0] if len(lines) == 1 else f"{lines[0]} to {lines[-1]}"


def _period(k: KindCheck) -> str:
    if k.end == k.start:
        return f"on {k.start}"
    return f"from {k.start}" + (f" to {k.end}" if k.end else "")


def _witness(report: Report, region: Region, k: KindCheck) -> str:
    """The witness's facts the class rules read (the facts that make it of its kind are in the JSON)."""
    read = {c.fact for rid in k.rules for c in _cmps(report, rid)}
    shown = [(f, v) for f, v in region.witness.items() if f in read]
    return ", ".join(f"{f} {', '.join(v) if isinstance(v, list) else _word(v)}" for f, v in shown)


def _cmps(report: Report, rule_id: str):
    from ampc.rules.model import comparisons
    return comparisons(report.ruleset.rule(rule_id).when)


def _word(value) -> str:
    return {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def _where(region: Region) -> str:
    return "; ".join(f"{fact} {words}" for fact, words in region.where) or "every product of the kind"


def _decides(region: Region) -> str:
    if region.winner:
        return f"{region.winner} decides (precedence {region.precedence})"
    return "NO PRECEDENCE decides"


def _verdict(region: Region) -> str:
    return "the engine agrees" if not region.verified else f"THE ENGINE DISAGREES: {region.verified}"


def render_text(report: Report, verbose: bool = False) -> str:
    out = []
    for k in report.kinds:
        head = (f"{k.kind} (line {_lines(report, k)}), {_period(k)}: {len(k.rules)} class rule"
                f"{'s' if len(k.rules) != 1 else ''}, {len(k.overlaps)} overlap{'s' if len(k.overlaps) != 1 else ''}, "
                f"{len(k.gaps)} gap{'s' if len(k.gaps) != 1 else ''}")
        out.append(head)
        if len(k.rules) == 1 and not verbose:
            out.append(f"  one class rule ({k.rules[0]}): a product of the kind that fails it is rejected "
                       f"(-v lists the {len(k.gaps)} region{'s' if len(k.gaps) != 1 else ''})")
            continue
        for region in k.overlaps:
            out.append(f"  overlap: {' + '.join(region.holds)}; {_decides(region)}")
            out.append(f"    where: {_where(region)}")
            out.append(f"    witness: {_witness(report, region, k)} ({_verdict(region)})")
        for region in k.gaps:
            unsettled = f" (the law leaves {', '.join(region.unsettled)} open)" if region.unsettled else ""
            out.append(f"  gap: no class rule holds{unsettled}")
            out.append(f"    where: {_where(region)}")
            out.append(f"    witness: {_witness(report, region, k)} ({_verdict(region)})")
    if report.findings:
        out.append("")
    for f in sorted(report.findings, key=lambda f: SEVERITIES.index(f.severity)):
        out.append(f"{f.severity}: {f.message}" + (f" ({f.where})" if f.where else ""))
        if f.fix:
            out.append(f"  fix: {f.fix}")
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES}
    out.append(f"\n{counts[ERROR]} error(s), {counts[WARNING]} warning(s); "
               f"{sum(len(k.overlaps) for k in report.kinds)} overlap(s) and "
               f"{sum(len(k.gaps) for k in report.kinds)} gap(s) over {len({k.kind for k in report.kinds})} kinds")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, link=None) -> str:
    """The report as Markdown: a section per kind with its overlaps and gaps in tables, then the
    findings. `link(rule_id)` gives a rule's Markdown link (the docs site), else its id in code."""
    link = link or (lambda rid: f"`{rid}`")
    out = []
    for k in report.kinds:
        out.append(f"## {k.kind}, {_period(k)}\n")
        out.append(f"Class rules (line {_lines(report, k)}): {', '.join(link(r) for r in k.rules)}.\n")
        if len(k.rules) == 1:
            out.append(f"One class rule: a product of the kind that fails it is rejected ({len(k.gaps)} "
                       f"region{'s' if len(k.gaps) != 1 else ''} of the kind that it does not take).\n")
            continue
        for title, regions in (("Overlaps", k.overlaps), ("Gaps", k.gaps)):
            out.append(f"### {title} ({len(regions)})\n")
            if not regions:
                out.append("None.\n")
                continue
            out.append("| Rules that hold | Decided by | Where | Witness | Engine |\n|---|---|---|---|---|")
            for r in regions:
                decided = f"{link(r.winner)} ({r.precedence})" if r.winner else "**no precedence**" if r.holds else "—"
                out.append(f"| {', '.join(link(x) for x in r.holds) or 'none'} | {decided} | "
                           f"{_cell(_where(r))} | {_cell(_witness(report, r, k))} | "
                           f"{'agrees' if not r.verified else '**' + _cell(r.verified) + '**'} |")
            out.append("")
    out.append("## Findings\n")
    if not report.findings:
        out.append("None.\n")
    else:
        out.append("| Severity | Finding | Where | Fix |\n|---|---|---|---|")
        for f in sorted(report.findings, key=lambda f: SEVERITIES.index(f.severity)):
            out.append(f"| {f.severity} | {_cell(f.message)} | {f.where} | {_cell(f.fix)} |")
    return "\n".join(out) + "\n"


def _region_json(region: Region) -> dict:
    return {"holds": list(region.holds), "winner": region.winner, "precedence": region.precedence,
            "where": dict(region.where), "witness": region.witness, "engine_agrees": not region.verified,
            **({"engine_says": region.verified} if region.verified else {}),
            **({"unsettled": list(region.unsettled)} if region.unsettled else {})}


def _finding_json(f: Finding) -> dict:
    return {"severity": f.severity, "what": f.what, "subject": f.subject, "message": f.message, "where": f.where,
            "fix": f.fix}


def to_json(report: Report) -> dict:
    return {
        "rules": report.ruleset.ident(), "as_of": report.as_of.isoformat() if report.as_of else None,
        "kinds": [{"kind": k.kind, "from": k.start.isoformat(), "to": k.end.isoformat() if k.end else None,
                   "rules": list(k.rules), "overlaps": [_region_json(r) for r in k.overlaps],
                   "gaps": [_region_json(r) for r in k.gaps], "never_hold": k.never_hold,
                   "never_decide": k.never_decide} for k in report.kinds],
        "findings": [_finding_json(f) for f in report.findings],
        "errors": len(report.errors), "warnings": sum(1 for f in report.findings if f.severity == WARNING)}


@click.command("check")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Analyse the law in force on this date only "
              "(default: every period, from the first date a class rule is in force).")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory holding rules/ and definitions/ (default: the bundled rule set).")
@click.option("--edition", metavar="NAME", help="Read the rules as an edition of the law (2024-01, current).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="List the regions of kinds with one class rule too.")
def check_command(as_of: str | None, rules_dir: Path | None, edition: str | None, fmt: str, verbose: bool) -> None:
    """Overlaps and gaps between the class rules of each kind, with witness products; rules that can
    never hold or never decide; parameters and facts nothing reads; editions of a rule whose periods
    overlap or leave a hole.

    Each overlap is shown with the precedence that decides it, each overlap and gap with a witness
    product that the engine decides to confirm it. Exit status: 0 no error (warnings may be listed),
    1 errors (an overlap no precedence decides, editions in force together, a witness the engine
    decides otherwise), 2 the rule set could not be read or the command line is wrong.
    """
    import sys

    from ampc.cli import EXIT_FOUND, EXIT_INPUT, EXIT_OK, _load
    from ampc.rules.loader import edition as edition_of
    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise click.BadParameter(f"'{as_of}' is not a date; write YYYY-MM-DD, e.g. 2025-06-30",
                                     param_hint="--as-of") from None
    ruleset = _load(rules_dir)
    if edition is not None:
        name = ruleset.edition_named(edition)
        if name is None:
            click.echo(f"error: no edition '{edition}'; the rule set has {', '.join(ruleset.editions)}", err=True)
            sys.exit(EXIT_INPUT)
        if ruleset.editions[name].enacted_by is not None:
            ruleset = edition_of(ruleset, ruleset.editions[name].enacted_by)
    report = check(ruleset, day)
    if fmt == "json":
        click.echo(json.dumps(to_json(report), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(f"rules: {ruleset.name} (sha256 {ruleset.sha256[:12]})" + (f"; on {day}" if day else ""), err=True)
        click.echo(render_text(report, verbose), nl=False)
    sys.exit(EXIT_FOUND if report.errors else EXIT_OK)
