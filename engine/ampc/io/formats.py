"""The output format of a command: the one asked for (--format), else the one the output file's
extension names, else the text table. A workbook goes to a file named .xlsx (spreadsheet programs
open it by that name), never to the terminal; a format that contradicts the file's extension is
refused rather than written under a name that says otherwise; an extension that names no format
(.txt, .out) takes any text format."""

from __future__ import annotations

from pathlib import Path

from ampc.errors import AmpcError

WHAT = {"xlsx": "an XLSX workbook", "csv": "CSV", "json": "JSON", "jsonl": "JSON lines", "markdown": "Markdown",
        "table": "a text table"}
EXTENSION = {"xlsx": ".xlsx", "csv": ".csv", "json": ".json", "jsonl": ".jsonl", "markdown": ".md", "table": ".txt"}


class FormatError(AmpcError):
    """The output format asked for cannot be written where the output goes; the message names the fix."""


def choose_format(fmt: str | None, output: Path | None, formats: tuple[str, ...], example: str = "FILE") -> str:
    """The format to write, of `formats` (each named by its extension in EXTENSION); `example`
    names the file in the fix for a workbook asked for without one."""
    by_extension = {EXTENSION[f]: f for f in formats if f != "table"}
    named = by_extension.get(output.suffix.lower()) if output is not None else None
    chosen = fmt or named or "table"
    if chosen == "xlsx" and output is None:
        raise FormatError(f"--format xlsx writes a workbook, which cannot go to the terminal (fix: add -o "
                          f"{example}.xlsx)")
    if chosen == "xlsx" and named != "xlsx":
        raise FormatError(f"--format xlsx writes a workbook, and {output.name} is not named .xlsx, which "
                          f"spreadsheet programs need to open it (fix: -o {output.with_suffix('.xlsx').name})")
    if fmt is not None and named is not None and fmt != named:
        raise FormatError(f"--format {fmt} writes {WHAT[fmt]}, but the output file {output.name} is named as "
                          f"{WHAT[named]} (fix: drop --format and the file's extension chooses, or write to "
                          f"{output.with_suffix(EXTENSION[fmt]).name})")
    return chosen
