"""The sales ledger: read as a stream of rows, each normalized against the ledger's columns
(definitions/ledger.yaml), and checked before it is computed; a bad row carries its problem."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from ampc.credit.model import PRODUCT, REQUIRED, UNITS, amount_columns
from ampc.errors import InputError, Problem, did_you_mean, written
from ampc.io.catalog import Row, iter_rows
from ampc.io.columns import Columns
from ampc.io.rowcheck import column_problem, normalize
from ampc.records import record as R
from ampc.rules.model import RuleSet


def read_ledger(path: Path | str, ruleset: RuleSet) -> list[Row]:
    """The sales, each normalized against the ledger's columns; a bad row carries its problem."""
    return list(iter_ledger(path, ruleset))


def iter_ledger(path: Path | str, ruleset: RuleSet, columns: Columns | None = None,
                shown: str | None = None) -> Iterator[Row]:
    """The sales one at a time, as read_ledger reads them (CSV, JSON lines and XLSX streamed). The
    file's own problems (missing, unknown format, no header) raise InputError when the first row is
    asked for; a bad row carries its problem. `shown`: the name rows are located by, if not the path."""
    for row in iter_rows(Path(path), "sales ledger", columns or Columns(ruleset.ledger, ("product",), strict=True),
                         shown):
        if row.problem is None:
            row.raw = {ruleset.column(PRODUCT): row.product, **row.raw}
            problem = column_problem(row, ruleset.ledger)
            if problem is not None and problem.key not in ruleset.ledger:  # the catalog's fix names `ampc facts`
                problem = Problem(problem.where, problem.message, "rename it to a column of the sales ledger "
                                  f"({', '.join(ruleset.ledger)}), or remove it", problem.key)
            row.problem = problem
        if row.problem is None:
            normalize(row, ruleset.ledger, ruleset)
            for key, column in ruleset.ledger.items():  # labels keep their spelling; only rules fold case
                if column.type == "text" and row.problem is None and row.raw.get(key) not in (None, ""):
                    row.facts[key] = " ".join(str(row.raw[key]).split())
        row.roles = {role: row.facts.get(column) for role, column in ruleset.ledger_roles.items()}
        yield row


def problem_of(p: Problem) -> R.Problem:
    return R.Problem(p.where, p.message, p.fix, p.key)


def check_sale(sale: Row, products: dict[str, Row], ruleset: RuleSet) -> R.Problem | None:
    """What keeps the sale from being computed at all: a missing facility, product or date, a product
    the catalog lacks or cannot read, units that are not a whole number, a negative amount."""
    facts, roles = sale.facts, sale.roles
    for role, fix in REQUIRED:
        if roles.get(role) is None:
            column = ruleset.column(role)
            return R.Problem(sale.where, f"'{column}' is missing", fix, column)
    product_column = ruleset.column(PRODUCT)
    pid = roles[PRODUCT]
    if pid not in products:
        return R.Problem(sale.where, f"unknown product '{pid}'{did_you_mean(pid, products)}",
                         "use a product id from the catalog, or add the product to it", product_column)
    product = products[pid]
    if product.problem is not None:
        return R.Problem(sale.where, f"product '{product.product}' cannot be read from the catalog "
                         f"({product.problem.where}: {product.problem.message})", product.problem.fix,
                         product_column)
    units = roles.get(UNITS)
    if units is not None and (units < 0 or units != units.to_integral_value()):
        column = ruleset.column(UNITS)
        return R.Problem(sale.where, f"{column} {written(units)} is not a whole number of units sold",
                         "give the number of units sold, 0 or more (a return is not a negative sale)", column)
    for column in amount_columns(ruleset):
        if facts.get(column) is not None and facts[column] < 0:
            return R.Problem(sale.where, f"'{column}' is negative", f"give the {column} as a positive amount",
                             column)
    return None


def load(catalog_paths, sales_path, ruleset: RuleSet, stream: bool = False, columns: Columns | None = None,
         ledger_columns: Columns | None = None) -> tuple[list[Row], Iterable[Row]]:
    """The catalog's rows, and the ledger's: a list, or with `stream` an iterator whose first row is
    read here (so that a ledger that cannot be used at all raises InputError here, not midway).
    `columns` and `ledger_columns` read the two files' headers (io.columns; strict when not given)."""
    from ampc.io.catalog import iter_catalog
    catalog: list[Row] = []
    for path in catalog_paths:
        catalog.extend(iter_catalog(path, ruleset, columns))
    if not ruleset.ledger:
        raise InputError(Problem("definitions/ledger.yaml", "no ledger vocabulary", "restore definitions/ledger.yaml"))
    if not stream:
        return catalog, list(iter_ledger(sales_path, ruleset, ledger_columns))
    sales = iter_ledger(sales_path, ruleset, ledger_columns)
    first = next(sales, None)
    return catalog, sales if first is None else chain((first,), sales)
