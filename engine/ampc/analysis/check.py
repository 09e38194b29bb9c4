"""Static analysis of a rule set: overlaps and gaps between the class rules of each kind."""

from __future__ import annotations

import click


@click.command("check")
def check_command() -> None:
    """Overlaps and gaps between class rules, rules that never fire, unused parameters and facts."""
    click.echo("not built yet", err=True)
    raise SystemExit(2)
