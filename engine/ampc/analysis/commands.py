"""The analyst's commands (`ampc test`, `ampc rules check`), each in the module of its analysis."""

from __future__ import annotations

import click


def register(main: click.Group, rules: click.Group) -> None:
    from ampc.analysis.cases import test_command
    from ampc.analysis.check_render import check_command
    main.add_command(test_command)
    rules.add_command(check_command)
