"""The mkdocs hook (mkdocs.yml names this file by its path): regenerates the pages into docs_dir
and sets the navigation before every `mkdocs build` or `mkdocs serve`. Imports are absolute, since
mkdocs loads this file outside the package. Also the entry of `ampc docs` (ampc.cli)."""

from __future__ import annotations

from typing import Any

from ampc.docs.errors import DocsError
from ampc.docs.rules_page import check_rules
from ampc.docs.site import Site, build_site, generate

__all__ = ["DocsError", "Site", "build_site", "check_rules", "generate", "on_config"]


def on_config(config: Any) -> Any:
    """mkdocs hook: regenerate the pages into docs_dir and set the navigation before the build."""
    try:
        site = generate(out=config["docs_dir"])
    except DocsError as exc:
        from mkdocs.exceptions import Abort
        raise Abort(f"ampc docs: {exc}")
    config["nav"] = site.nav
    return config
