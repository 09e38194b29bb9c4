"""Text as the pages print it: Markdown-safe prose and table cells, code spans, relative links,
values in the words of ampc.io.report, and the tidying of a rendered page."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from ampc.io import report
from ampc.records import record as R

PROJECT = Path(__file__).resolve().parents[3]  # engine/ampc/docs/text.py -> the project


def words(text: Any) -> str:
    """Text on one line, its runs of white space folded."""
    return " ".join(str(text or "").split())


def md(text: Any) -> str:
    """Text safe in Markdown prose: no accidental emphasis, links or HTML."""
    out = str(text)
    for ch in ("\\", "*", "_", "[", "]", "`"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;")


def cell(text: Any) -> str:
    """Text safe in a Markdown table cell: as md(), with no pipe or line break."""
    return md(text).replace("|", "\\|").replace("\n", " ")


def breakable(text: Any) -> str:
    """A table cell whose long words may wrap after an underscore or a slash (copper_beryllium_master_alloy,
    USD/W): the browser may break there (<wbr>), and a copy of the text is unchanged."""
    return cell(text).replace("\\_", "\\_<wbr>").replace("/", "/<wbr>")


def code(text: Any) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "p"


def link(from_page: str, to_page: str, anchor: str = "") -> str:
    """A link from one generated page to another (or to an anchor on the same page)."""
    if to_page == from_page and anchor:
        return f"#{anchor}"
    rel = posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")
    return rel + (f"#{anchor}" if anchor else "")


def mirror(rules_file: str) -> str:
    """rules/part_ii/line_03_inverters.yaml -> part_ii/line_03_inverters.md"""
    rel = rules_file.split("rules/", 1)[-1] if rules_file.startswith("rules/") else rules_file
    return Path(rel).with_suffix(".md").as_posix()


def value(val: Any, unit: str = "") -> str:
    """A value the rules state (a parameter's, a threshold's), in the words of report.value_text."""
    if val is None:
        return "no value (ends)"
    return report.value_text(val if isinstance(val, R.NotStatedByLaw) else R.typed(val, unit))


def tidy(text: str) -> str:
    """At most one blank line between blocks (the templates leave more), never inside a code block."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line.rstrip() if not fenced else line)
    return "\n".join(out).rstrip() + "\n"
