"""`ampc serve`: the web page and the HTTP API on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default, loopback, serves this machine only; 0.0.0.0 serves every "
                   "network the machine is on).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory holding rules/ and definitions/ (default: the bundled rule set).")
@click.option("--max-upload", default=20, show_default=True, type=click.FloatRange(0, min_open=True),
              metavar="MB", help="The largest upload accepted, in megabytes; larger ones get 413.")
def serve_command(host: str, port: int, rules_dir: Path | None, max_upload: float) -> None:
    """Serve the page for one product (an interview), a catalog and the worksheet, and the HTTP API
    under /v1 (its OpenAPI document at /openapi.json, interactive docs at /docs). The rules are
    loaded once, at start."""
    import uvicorn

    from ampc.cli import _load
    from ampc.web.app import create_app
    _load(rules_dir)  # a rule set with problems is reported as `ampc classify` reports it, before serving
    app = create_app(rules_dir, int(max_upload * 1024 * 1024))
    click.echo(f"ampc: serving http://{host}:{port}/ (API under /v1, docs at /docs); Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
