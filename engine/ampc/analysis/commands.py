"""The commands kept outside cli.py (`ampc test`, `ampc rules check`, `ampc serve`), each in the module
of what it runs."""

from __future__ import annotations

import click


def register(main: click.Group, rules: click.Group) -> None:
    from ampc.analysis.cases import test_command
    from ampc.analysis.check_render import check_command
    from ampc.web.command import serve_command
    main.add_command(test_command)
    main.add_command(serve_command)
    rules.add_command(check_command)
