"""The `ampc` command line, one command: classify, explain, verify, schema, credit, rules diff,
validate, facts, docs (and test, rules check, serve, registered from the modules they run:
ampc.analysis.commands). Each subcommand's options and help live beside it, so
that `ampc --help` and this file read as the same list; the work is in the modules it calls. Over
400 lines because of that: each command's options, help and exit codes, and the two options every
command that reads a catalog shares (--map, --strict), nothing else."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from ampc import __version__
from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_rows, has_errors
from ampc.decide.pipeline import read as read_catalogs
from ampc.errors import AmpcError, InputError, ValidationFailed, did_you_mean, written
from ampc.io import report
from ampc.records import record as R
from ampc.rules.loader import default_root, load_ruleset
from ampc.rules.loader import validate as validate_rules

EXIT_OK, EXIT_FOUND, EXIT_INPUT = 0, 1, 2


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{written(value)} is not a date; write YYYY-MM-DD, e.g. 2025-06-30")


rules_option = click.option("--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
                            help="Directory holding rules/ and definitions/ (default: the bundled rule set).")
as_of_option = click.option("--as-of", callback=_date, metavar="YYYY-MM-DD",
                            help="Read the law as in force on this date (default: the row's as_of, else its "
                                 "sale_date, else today).")


def _fail(exc: AmpcError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_INPUT)


def _load(rules_dir: Path | None):
    try:
        return load_ruleset(rules_dir)
    except ValidationFailed as exc:
        click.echo(f"error: the rule set has {len(exc.problems)} problem(s); run `ampc validate` for the list:",
                   err=True)
        for problem in exc.problems[:5]:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ampc")
def main() -> None:
    """ampc: does a product qualify for the 45X credit (Form 7207), on which line, and why.

    \b
    Exit status, every command:
      0  every row decided (validate: the rule set has no problem)
      1  some rows were errors, each listed with its row and fix; the rest decided
         (validate: the problems, each at file:line)
      2  the input or the rules could not be used at all, or the command line is wrong
    """


def columns_options(command):
    """--map and --strict: how a catalog's column headers are read (ampc.io.columns)."""
    command = click.option("--strict", is_flag=True, help="A column that names no fact is an error for each row "
                           "that fills it (default: reported once, its cells left out).")(command)
    return click.option("--map", "map_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
                        help="YAML mapping of column headers to facts, e.g. 'Cap AC (kW)': ac_capacity.")(command)


def _columns(ruleset, map_file: Path | None, strict: bool, vocabulary=None, reserved=None, notice=None):
    """How headers are read: a column that names nothing is reported on stderr once per file. One
    mapping file serves the catalog and the ledger: each reads the entries that name its columns."""
    from ampc.io.columns import RESERVED, Columns, read_mapping, target_name
    vocabulary = ruleset.facts if vocabulary is None else vocabulary
    reserved = tuple(RESERVED) if reserved is None else reserved
    try:
        mapping = read_mapping(map_file, {**ruleset.facts, **ruleset.ledger}, tuple(RESERVED)) if map_file else {}
    except InputError as exc:
        _fail(exc)
    mapping = {k: v for k, v in mapping.items() if target_name(v) in vocabulary or target_name(v) in reserved}
    return Columns(vocabulary, reserved, mapping=mapping, strict=strict,
                   notify=notice or (lambda p: click.echo(f"warning: {p}", err=True)))


def _read(catalogs: tuple[Path, ...], ruleset, columns=None):
    try:
        return read_catalogs(catalogs, ruleset, columns)
    except InputError as exc:
        _fail(exc)


@main.command()
@click.argument("catalogs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl", "xlsx", "csv"]), default=None,
              help="Output format (default: the one the -o file's extension names, .xlsx, .csv, .json or .jsonl; "
                   "else table). xlsx: a Decisions and a Clauses sheet; csv: the Decisions sheet.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option("--jobs", "-j", type=click.IntRange(1, None), default=None,
              help="Worker processes deciding in parallel (default: the machine's cores; the output is the "
                   "same for any number).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Decide on a Dask distributed cluster: its scheduler, e.g. tcp://10.0.0.5:8786 (the workers "
                   "need ampc installed and one thread each; --jobs is ignored with it).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no closing summary on stderr.")
@click.option("--detail", type=click.Choice(["compact", "full"]), default="compact", show_default=True,
              help="JSON records: compact (the rules' words left to the rule set the record names by its hash) "
                   "or full (every rule's label, text, citation and every clause written out). The workbook's "
                   "Clauses sheet: compact lists the clauses that failed or are unknown, full every clause of "
                   "every candidate.")
@click.option("--missing", "triage", is_flag=True,
              help="After the records, the facts that would settle the undetermined products, ranked: for each, "
                   "the products it alone settles (their only missing fact), the products listing it, their "
                   "lines and examples; then the sets of facts products need together. A table on stderr (shown "
                   "with --quiet too), or in --missing-out FILE. The records are the same with or without it.")
@click.option("--missing-out", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write that triage to FILE instead of stderr: JSON (.json) or CSV (.csv), by the extension "
                   "(implies --missing).")
@click.option("--sales", metavar="LEDGER", type=click.Path(dir_okay=False, path_type=Path),
              help="With --missing: the sales ledger `ampc credit` reads; the triage adds, per fact and fact "
                   "set, the credit the products' sales would earn if they qualified (a range where their "
                   "possible lines differ).")
@as_of_option
@rules_option
@columns_options
def classify(catalogs: tuple[Path, ...], fmt: str | None, output: Path | None, jobs: int | None,
             scheduler: str | None, quiet: bool, detail: str, triage: bool, missing_out: Path | None,
             sales: Path | None, as_of: dt.date | None, rules_dir: Path | None,
             map_file: Path | None, strict: bool) -> None:
    """Decide every product of the CATALOGS (CSV, XLSX, JSON, JSONL or YAML files).

    Rows are read, decided and written one at a time (JSON, JSON lines, CSV and the workbook's rows
    as they are decided), so memory stays flat however many rows and dates (one compiled engine per
    kind of component, for every date). Exit status: 0 every row decided, 1 some rows could not be
    read (listed as errors), 2 the catalog or the rule set cannot be used at all.
    """
    from ampc.decide.batch import SMALL, decide_stream
    from ampc.decide.pipeline import stream
    from ampc.io import sheets
    from ampc.io.progress import Progress

    try:
        fmt = sheets.choose_format(fmt, output)
    except sheets.FormatError as exc:
        raise click.UsageError(str(exc)) from None
    ruleset = _load(rules_dir)
    tally, triage_out = _triage(ruleset, triage or missing_out is not None, missing_out, sales, as_of, map_file,
                                strict)
    small = SMALL if jobs is None else 0  # the default: workers only for a catalog worth starting them
    jobs = jobs or os.cpu_count() or 1
    try:
        sheet = sheets.open_sheet(fmt, output, ruleset) if fmt in sheets.SHEET_FORMATS else None
        handle = None if sheet else sheets._open(output, "w") if output else sys.stdout
    except InputError as exc:  # -o is opened before anything is decided
        _fail(exc)
    progress = Progress(quiet)
    columns = _columns(ruleset, map_file, strict, notice=lambda p: progress.note(f"warning: {p}"))
    table: list[R.Record] = []
    try:
        if fmt == "json":
            handle.write("[")
        first = True
        # the rows' values are read where they are decided (each worker its own), unless the
        # triage reads their facts here
        rows = stream(catalogs, ruleset, columns, normalized=tally is not None)
        for data, is_error in decide_stream(tally.watch(rows) if tally else rows, ruleset, as_of, jobs, small=small,
                                            detail="full" if fmt == "table" else detail, scheduler=scheduler):
            progress.count(is_error)
            decoded = R.decode(data) if tally or fmt not in ("json", "jsonl") else None
            if tally:
                tally.add(decoded)
            if fmt == "jsonl":
                handle.write(data.decode() + "\n")
            elif fmt == "json":
                handle.write(("\n" if first else ",\n") + data.decode())
            elif sheet:
                sheet.add(decoded)
            else:
                table.append(decoded)
            first = False
        if fmt == "json":
            handle.write("\n]\n" if not first else "]\n")
    except InputError as exc:
        progress.close()
        _fail(exc)
    finally:
        if sheet:
            sheet.close()
        elif output:
            handle.close()
    progress.close()
    if fmt == "table":
        text = report.table(table) + "\n\n" + report.summary(table) + "\n"
        for d in table:
            if isinstance(d, R.ErrorRecord):
                text += f"\nerror in {d.error.where}: {d.error.message}\n    fix: {d.error.fix}\n"
        click.echo(text, nl=False)
    if not quiet:
        click.echo(progress.summary() + (f"; written to {output}" if output else ""), err=True)
    if tally:
        from ampc.analysis import missing
        if triage_out:
            with triage_out[0] as out:
                missing.write(tally.result(), out, triage_out[1])
            if not quiet:
                click.echo(f"missing facts written to {missing_out}", err=True)
        else:
            click.echo("\n" + missing.text(tally.result()), err=True, nl=False)
    sys.exit(EXIT_FOUND if progress.errors else EXIT_OK)


def _triage(ruleset, asked: bool, missing_out: Path | None, sales: Path | None, as_of: dt.date | None,
            map_file: Path | None, strict: bool):
    """classify --missing: the accumulator (None when not asked), with the ledger read if --sales names
    one, and the --missing-out file opened with its format (None: the triage goes to stderr)."""
    if not asked:
        if sales:
            raise click.UsageError("--sales gives the credit at stake of the --missing triage: add --missing")
        return None, None
    from ampc.analysis import missing
    try:
        out = missing.open_out(missing_out) if missing_out else None
    except ValueError as exc:  # an extension naming no format
        raise click.UsageError(str(exc)) from None
    except InputError as exc:
        _fail(exc)
    try:
        ledger = missing.Sales(sales, ruleset, as_of, _columns(ruleset, map_file, strict, ruleset.ledger,
                                                               ("product",))) if sales else None
    except InputError as exc:
        _fail(exc)
    return missing.Accumulator(ruleset, ledger), out


@main.command()
@click.argument("catalogs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--product", "products", multiple=True, required=True, help="Product id (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--what-would-qualify", "wwq", is_flag=True,
              help="For a product rejected or undetermined: per candidate line, the smallest change of its facts "
                   "that would make it qualify, each re-decided (JSON: beside each record).")
@as_of_option
@rules_option
@columns_options
def explain(catalogs: tuple[Path, ...], products: tuple[str, ...], fmt: str, as_of: dt.date | None,
            rules_dir: Path | None, map_file: Path | None, strict: bool, wwq: bool = False) -> None:
    """Explain the decision on products of the CATALOGS: every rule considered, each clause with its numbers.

    A CATALOG may also be a file of records (`ampc classify --format jsonl`), compact or full: the
    recorded decision is explained as it was made, its rules' words taken from the rule set."""
    ruleset = _load(rules_dir)
    from ampc.analysis import qualify
    from ampc.records.verify import is_records_file
    if all(is_records_file(c) for c in catalogs):
        decisions = _recorded(catalogs, products, ruleset)
        changes = qualify.for_all(decisions, ruleset) if wwq else None
    else:
        rows = _read(catalogs, ruleset, _columns(ruleset, map_file, strict))
        by_id = {r.product: r for r in rows}
        wanted = []
        for pid in products:
            if pid not in by_id:
                names = ", ".join(str(c) for c in catalogs)
                click.echo(f"error: {names} has no product '{pid}'{did_you_mean(pid, by_id)}", err=True)
                sys.exit(EXIT_INPUT)
            wanted.append(by_id[pid])
        with Decider(ruleset) as decider:
            decisions = list(decide_rows(wanted, decider, as_of))
            changes = qualify.for_all(decisions, ruleset, decider) if wwq else None
    if fmt == "json":
        click.echo(report.to_json(decisions) if changes is None else qualify.to_json(decisions, changes), nl=False)
    else:
        from ampc.io.qualify_text import what_would_qualify_text
        labels = {p.id: p.label for p in ruleset.params.values()}
        click.echo("\n\n".join(report.explain(d, labels) + (
            "\n" + what_would_qualify_text(changes[i]) if changes else "") for i, d in enumerate(decisions)))
    sys.exit(EXIT_FOUND if has_errors(decisions) else EXIT_OK)


def _recorded(files: tuple[Path, ...], products: tuple[str, ...], ruleset) -> list:
    from ampc.records.detail import Unresolved
    from ampc.records.verify import recorded
    try:
        return recorded(files, products, ruleset)
    except (Unresolved, InputError) as exc:
        _fail(exc)


def _allocation(ctx, param, values: tuple[str, ...]) -> list:
    from ampc.credit.filer import parse_allocation
    try:
        return [parse_allocation(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--catalog", "catalogs", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Product catalog (repeatable).")
@click.option("--sales", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Sales ledger.")
@click.option("--tax-year", metavar="YEAR|FIRST..LAST",
              help="Count only the sales of this taxable year: a year (the calendar year, or with --year-end the "
                   "fiscal year beginning in it) or its first and last day, 2025-07-01..2026-06-30.")
@click.option("--year-end", type=click.IntRange(1, 12), metavar="MONTH",
              help="A fiscal-year filer's last month (1-12): sales are grouped by the taxable year they fall in.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown", "xlsx"]), default=None,
              help="Output format (default: the one the -o file's extension names, .xlsx, .csv, .json or .md; else "
                   "table). xlsx: a workbook (Form 7207, Sales, Rejected, Undetermined and Notes sheets), -o needed.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option("--explain", "explain_line", metavar="LINE",
              help="List every sale that fed this line, with its arithmetic.")
@click.option("--as-of", callback=_date, metavar="YYYY-MM-DD",
              help="Read the law as in force on this date (default: each sale's date).")
@click.option("--facilities", type=click.Path(dir_okay=False, path_type=Path),
              help="Part I of each facility (CSV, YAML or JSON; fields: definitions/facilities.yaml), keyed by the "
                   "ledger's facility id. Lines 5 and 6 state the related-person election and the section 48C "
                   "answer for the facility's products.")
@click.option("--estate-or-trust-allocated", "allocated", multiple=True, callback=_allocation,
              metavar="[FACILITY=]AMOUNT",
              help="An estate or trust: the credit allocated to its beneficiaries (line 8b, USD); line 8c = 8a - 8b. "
                   "Name the facility when the run has several worksheets (repeatable).")
@rules_option
@columns_options
def credit(catalogs: tuple[Path, ...], sales: Path, tax_year: str | None, year_end: int | None,
           fmt: str | None, output: Path | None, explain_line: str | None, as_of: dt.date | None,
           facilities: Path | None, allocated: list, rules_dir: Path | None, map_file: Path | None,
           strict: bool) -> None:
    """The Form 7207 worksheet (Parts I to IV), one per facility, from a catalog and a sales ledger.

    Exit status: 0 every sale computed or rejected with its reason, 1 some ledger rows could not be
    computed (listed with their row and fix), 2 a file cannot be used at all.
    """
    from ampc.credit import compute as credit_module
    from ampc.credit import filer, worksheet
    from ampc.credit.output import FormatError, choose_format, pieces
    try:
        fmt = choose_format(fmt, output, explain_line)
    except FormatError as exc:
        raise click.UsageError(str(exc)) from None
    ruleset = _load(rules_dir)
    from ampc.io.sheets import _open
    try:  # -o is opened before anything is computed; openpyxl then writes the workbook by its path
        handle = _open(output, "wb" if fmt == "xlsx" else "w") if output else None
        if handle and fmt == "xlsx":
            handle.close()
    except InputError as exc:
        _fail(exc)
    try:  # the ledger is read as it is computed, and the worksheet written as it is rendered
        catalog_rows, ledger_rows = credit_module.load(
            catalogs, sales, ruleset, stream=True, columns=_columns(ruleset, map_file, strict),
            ledger_columns=_columns(ruleset, map_file, strict, ruleset.ledger, ("product",)))
        part_i = filer.read_facilities(facilities, ruleset) if facilities else None
        filer.form_lines(ruleset)  # the e-file elements of lines 7, 8a-8c and Parts III, IV, checked
        run = credit_module.compute(catalog_rows, ledger_rows, ruleset, _tax_year(tax_year, year_end), as_of,
                                    year_end, part_i)
        filer.allocate(run, allocated)
    except InputError as exc:
        _fail(exc)
    if fmt == "xlsx" and output:
        from ampc.credit import xlsx
        xlsx.write(run, ruleset, output)
        click.echo(f"wrote the worksheet to {output}", err=True)
    elif output:
        with handle:
            handle.writelines(pieces(run, ruleset, fmt, explain_line))
        click.echo(f"wrote the worksheet to {output}", err=True)
    else:
        for piece in pieces(run, ruleset, fmt, explain_line):
            click.echo(piece, nl=False)
    if run.errors and (output or fmt != "table"):
        for problem in run.errors:
            click.echo(f"error: {worksheet.problem_text(problem)}", err=True)
    sys.exit(EXIT_FOUND if run.errors else EXIT_OK)


def _tax_year(text: str | None, year_end: int | None):
    from ampc.credit.model import TaxYear
    try:
        return None if text is None else TaxYear.parse(text, year_end)
    except ValueError as exc:
        click.echo(f"error: --tax-year {exc}", err=True)
        sys.exit(EXIT_INPUT)


@main.group()
def rules() -> None:
    """Work with rule sets: compare two editions or directories (a changelog, or over a catalog), check them."""


@rules.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Catalog to run both rule sets over (repeatable); without it, the changelog of the rule sets.")
@click.option("--sales", type=click.Path(dir_okay=False, path_type=Path),
              help="With --catalog: a sales ledger; adds the credit at stake, each sale computed under both.")
@click.option("--format", "fmt", type=click.Choice(["table", "text", "markdown", "json"]),
              help="table (the same as text): without --catalog the changelog, with it the products that "
                   "change and their explanation diff; markdown; json.  [default: text]")
@as_of_option
def rules_diff(old: str, new: str, catalogs: tuple[Path, ...], sales: Path | None, fmt: str | None,
               as_of: dt.date | None) -> None:
    """What changes between the rule sets OLD and NEW.

    Without --catalog: the changelog, every rule, parameter, credit line, fact and precedence added,
    removed or changed, with the old and new values (parameters dated, with their units), the period
    each rule is in force and its citation. With --catalog: every product whose outcome, line or
    credit changes, the rules and clauses whose verdict changed, and with --sales the credit at stake.

    OLD and NEW are each an edition of the bundled rules (see rules/ruleset.yaml: 2024-01, 2025-12;
    `current` names the latest),
    a date (the bundled rules as enacted by it), or a directory holding rules/ and definitions/.
    Exit status: 0 compared (changes or none), 1 some catalog rows could not be compared, 2 a rule
    set, catalog or ledger cannot be used.
    """
    from ampc.analysis import changelog_render as show
    from ampc.analysis.changelog import changelog
    from ampc.analysis.diff import diff, resolve, stake
    if sales and not catalogs:
        click.echo("error: --sales needs --catalog: the catalog describes the products the sales name", err=True)
        sys.exit(EXIT_INPUT)
    try:
        old_set, old_label = resolve(old)
        new_set, new_label = resolve(new)
        if not catalogs:
            log = changelog(old_set, new_set, (old_label, new_label))
            click.echo({"json": show.to_json, "markdown": show.markdown}.get(fmt or "text", show.text)(log), nl=False)
            sys.exit(EXIT_OK)
        report = diff(old_set, new_set, list(catalogs), as_of, (old_label, new_label))
        at_stake = stake(old_set, new_set, list(catalogs), sales, as_of) if sales else None
    except InputError as exc:
        _fail(exc)
    except ValidationFailed as exc:
        click.echo(f"error: a rule set has problems:\n{exc}", err=True)
        sys.exit(EXIT_INPUT)
    render = {"json": show.catalog_json, "markdown": show.catalog_markdown}.get(fmt or "table", show.catalog_text)
    click.echo(render(report, old_set, new_set, at_stake), nl=fmt == "json")
    if fmt != "json":
        for problem in report.errors:
            click.echo(f"error: {problem}", err=True)
    sys.exit(EXIT_FOUND if report.errors else EXIT_OK)


@main.command()
@click.argument("records_file", metavar="RECORDS", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@rules_option
def verify(records_file: Path, fmt: str, rules_dir: Path | None) -> None:
    """Decide every record of RECORDS (JSONL from `ampc classify`) again from its own inputs and dates.

    Each record is identical, the same decision under other rules or software, or different (each
    changed outcome, rule and clause named). Exit status: 0 all identical or the same decision,
    1 some differ or a line is not a record, 2 the file or the rule set cannot be used.
    """
    from ampc.records.verify import read_records
    from ampc.records.verify import verify as verify_records
    ruleset = _load(rules_dir)
    good, problems = [], []
    try:
        for number, item in read_records(records_file):
            (good if isinstance(item, (R.Decision, R.ErrorRecord)) else problems).append((number, item))
    except InputError as exc:
        _fail(exc)
    results = list(verify_records(good, ruleset))
    problems = [p for _, p in problems]
    if fmt == "json":
        click.echo(json.dumps({"results": R.to_builtins(results), "errors": R.to_builtins(problems)},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(report.verify_text(results, problems), nl=False)
    sys.exit(EXIT_FOUND if problems or any(v.status == "different" for v in results) else EXIT_OK)


@main.command()
@click.argument("kind", type=click.Choice(["record", "error", "worksheet", "what-would-qualify"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a decision record, an error record, or the credit worksheet."""
    click.echo(json.dumps(R.schema(kind), indent=2, ensure_ascii=False))


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def validate(directory: Path | None) -> None:
    """Check rules/ and definitions/ and list every problem as file:line, what is wrong, and the fix."""
    root = directory or default_root()
    problems = validate_rules(root)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"\n{len(problems)} problem(s) in {root}")
        sys.exit(EXIT_FOUND)
    ruleset = load_ruleset(root)
    click.echo(f"ok: {ruleset.name}: {len(ruleset.rules)} rules, {len(ruleset.params)} "
               f"parameters, {len(ruleset.facts)} facts (sha256 {ruleset.sha256[:12]})")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "yaml", "markdown"]), default="text",
              show_default=True, help="json and yaml: every declared field of every fact, for a program.")
@click.option("--width", type=click.IntRange(40, None), default=None,
              help="Wrap the text to this many columns (default: the terminal's width, else 100).")
@rules_option
def facts(fmt: str, width: int | None, rules_dir: Path | None) -> None:
    """The fact vocabulary by kind of component: each fact's type, canonical unit, allowed values and meaning."""
    import shutil

    from ampc.io import facts as vocabulary
    if width is None:
        width = shutil.get_terminal_size((vocabulary.WIDTH, 24)).columns if sys.stdout.isatty() else vocabulary.WIDTH
    click.echo(vocabulary.render(_load(rules_dir), fmt, max(width, 40)), nl=False)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the Markdown here (default: docs/, git-ignored).")
@click.option("--build", is_flag=True,
              help="Then build the site of the bundled rule set: mkdocs build --strict (into site/).")
@as_of_option
@rules_option
def docs(out: Path | None, build: bool, as_of: dt.date | None, rules_dir: Path | None) -> None:
    """Generate the docs pages from the rules, with examples decided by the engine."""
    from ampc.docs.hook import DocsError, build_site, generate
    try:
        site = generate(rules_dir, out, as_of=as_of)
    except DocsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"{len(site.pages)} instruction pages; {len(site.written)} files changed", err=True)
    if build:
        sys.exit(EXIT_OK if build_site() == 0 else EXIT_FOUND)


from ampc.analysis.commands import register  # noqa: E402  (the commands use main and rules above)

register(main, rules)

if __name__ == "__main__":
    main()
