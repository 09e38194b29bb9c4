"""Broken catalogs as people send them: a short row, a file cut off inside a quote, a byte that is
not UTF-8, a JSON item that is not a product, an output path that does not exist. A problem of one
row is an error for that row alone (exit status 1: every other row decided, rows in = records +
errors); only a file that cannot be read at all is refused (exit status 2), naming where and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ampc.cli import main

ROOT = Path(__file__).resolve().parent.parent
HEADER = b"product,description,component\n"


def run(*args) -> CliRunner:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def classify(path: Path, *extra: str):
    """The records of `ampc classify --format jsonl`, the errors by product, and the result."""
    result = run("classify", path, "--format", "jsonl", "-q", "--as-of", "2025-06-30", *extra)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    errors = {r["product"]: r["error"] for r in records if r["record"] == "error"}
    return records, errors, result


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def decided(records: list[dict]) -> list[str]:
    return [r["product"] for r in records if r["record"] == "decision"]


def test_a_row_shorter_than_the_header_is_an_error_for_that_row(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b"A,one,inverter\nB,two\n\nD,four,inverter\n")
    records, errors, result = classify(path)
    assert result.exit_code == 1, result.output
    assert len(records) == 3 and decided(records) == ["A", "D"]  # the blank line is no row
    error = errors["B"]
    assert error["where"] == f"{path} row 3"
    assert error["message"] == "has 2 cells but the header has 3 columns"
    assert error["fix"].startswith("fill the row's cells")


def test_a_row_longer_than_the_header_is_still_an_error(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b"A,one,inverter\nB,two, three,inverter\n")
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 2 and decided(records) == ["A"]
    assert errors["B"]["message"] == "has 4 cells but the header has 3 columns"
    assert "quote values that contain commas" in errors["B"]["fix"]


def test_blank_columns_at_the_end_of_the_header_need_no_cells(tmp_path):
    path = written(tmp_path, "c.csv", b"product,description,component,,\nA,one,inverter\nB,two,inverter,,\n")
    records, errors, result = classify(path)
    assert result.exit_code == 0, result.output
    assert decided(records) == ["A", "B"] and not errors


def test_a_file_cut_off_inside_a_quoted_cell_is_an_error_for_its_last_row(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b'A,one,inverter\nB,"two, cut\n')
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 2 and decided(records) == ["A"]
    error = errors["B"]  # its product id is still read
    assert error["where"] == f"{path} row 3"
    assert "the file ends inside a quoted cell" in error["message"] and "line 3" in error["message"]
    assert "close the quote" in error["fix"]


def test_a_last_row_cut_short_is_an_error_for_it(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b"A,one,inverter\nB,tw")
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 2 and decided(records) == ["A"]
    assert errors["B"]["message"] == "has 2 cells but the header has 3 columns"


def test_text_after_a_closing_quote_is_an_error_for_its_row(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b'A,"one" two,inverter\nB,two,inverter\n')
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 2 and decided(records) == ["B"]
    assert "text after its closing quote" in errors["A"]["message"]


def test_a_byte_that_is_not_utf8_is_an_error_for_its_row_alone(tmp_path):
    # a byte order mark, a quoted cell over two lines, a valid 'é', then a Windows-1252 'é' in row 4
    data = (b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b'A,"two\r\nlines",inverter\r\n'
            b"B,caf\xc3\xa9,inverter\r\nC,caf\xe9,inverter\r\nD,four,inverter\r\n")
    path = written(tmp_path, "c.csv", data)
    records, errors, result = classify(path)
    assert result.exit_code == 1, result.output
    assert len(records) == 4 and decided(records) == ["A", "B", "D"]
    error = errors["C"]
    assert error["where"] == f"{path} row 4"
    assert error["message"] == ("the byte 0xE9 (é in Windows-1252) in column 2 (description), character 4 of "
                                "the cell, is not UTF-8")
    assert error["key"] == "description" and "CSV UTF-8" in error["fix"]
    assert next(r for r in records if r["product"] == "C")["description"] == "caf\ufffd"  # U+FFFD for the byte


def test_a_byte_that_is_not_utf8_in_the_product_id(tmp_path):
    path = written(tmp_path, "c.csv", HEADER + b"A,one,inverter\nB\x96,two,inverter\n")
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 2 and decided(records) == ["A"]
    assert "0x96" in errors["B\ufffd"]["message"] and "column 1 (product)" in errors["B\ufffd"]["message"]


def test_a_header_that_is_not_utf8_refuses_the_file_naming_it(tmp_path):
    path = written(tmp_path, "c.csv", b"product,descripci\xf3n\nA,one\n")
    records, errors, result = classify(path)
    assert result.exit_code == 2 and not records
    assert f"error: {path} header: the byte 0xF3" in result.stderr and "column 2" in result.stderr
    assert "CSV UTF-8" in result.stderr


def test_a_utf16_csv_is_named_as_such(tmp_path):
    path = written(tmp_path, "c.csv", (HEADER + b"A,one,inverter\n").decode().encode("utf-16"))
    records, errors, result = classify(path)
    assert result.exit_code == 2 and not records
    assert "the file is UTF-16" in result.stderr and "CSV UTF-8" in result.stderr


def test_a_json_line_that_is_not_utf8_is_an_error_for_that_line(tmp_path):
    data = b'\xef\xbb\xbf{"product": "A"}\n{"product": "B\xe9"}\n\n{"product": "C"}\n'
    path = written(tmp_path, "c.jsonl", data)
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 3 and decided(records) == ["A", "C"]
    error = errors["(line 2)"]
    assert error["where"] == f"{path} line 2"
    assert error["message"] == "the byte 0xE9 at column 15 is not UTF-8" and "UTF-8" in error["fix"]


def test_a_json_item_with_a_problem_of_its_own_is_an_error_for_that_item(tmp_path):
    items = [{"product": "A", "component": "inverter"}, 5, {"product": {"id": "C"}},
             {"product": "D", "componnt": "inverter"}, {"product": "E", "component": "inverter"}]
    path = written(tmp_path, "c.json", json.dumps(items).encode())
    records, errors, result = classify(path)
    assert result.exit_code == 1 and len(records) == 5
    assert decided(records) == ["A", "D", "E"]  # D's misspelt key: reported once, its value left out
    assert errors["(#2)"]["where"] == f"{path} product #2"
    assert errors["(#2)"]["message"] == "is 5, not a mapping of facts"
    assert errors["(#3)"]["message"] == "the product id is {id: 'C'}, not text"
    assert "product #4: unknown column or key 'componnt' (did you mean 'component'?)" in result.stderr
    records, errors, result = classify(path, "--strict")
    assert result.exit_code == 1 and len(records) == 5 and decided(records) == ["A", "E"]
    assert errors["D"]["where"] == f"{path} product #4" and "'componnt'" in errors["D"]["message"]


def test_a_json_syntax_error_refuses_the_file_naming_line_and_column(tmp_path):
    path = written(tmp_path, "c.json", b'[{"product": "A"},\n {"product": "B",}]\n')
    records, errors, result = classify(path)
    assert result.exit_code == 2 and not records
    assert f"error: {path} line 2, column 18: not valid JSON" in result.stderr
    assert "fix the JSON syntax" in result.stderr


@pytest.mark.parametrize("name,data", [("c.json", b'[{"product": "A"},\n {"product": "B\xe9"}]\n'),
                                       ("c.yaml", b"- product: A\n- product: B\xe9\n")])
def test_a_document_that_is_not_utf8_refuses_the_file_naming_the_line(tmp_path, name, data):
    path = written(tmp_path, name, data)
    records, errors, result = classify(path)
    assert result.exit_code == 2 and not records
    column = 16 if name == "c.json" else 13
    assert f"error: {path} line 2, column {column}: the byte 0xE9 is not UTF-8" in result.stderr
    assert "fix: save the file as UTF-8" in result.stderr


def test_a_short_row_of_a_workbook_reads_as_empty_cells(tmp_path):
    """A workbook stores no empty cell: a short row cannot be told from one whose last cells are empty."""
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["product", "description", "component"])
    sheet.append(["A", "one", "inverter"])
    sheet.append(["B", "two"])
    book.save(tmp_path / "c.xlsx")
    records, errors, result = classify(tmp_path / "c.xlsx")
    assert result.exit_code == 0 and decided(records) == ["A", "B"]


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "xlsx"])
def test_classify_output_into_a_missing_directory_is_refused_before_deciding(tmp_path, fmt):
    catalog = written(tmp_path, "c.csv", HEADER + b"A,one,inverter\n")
    output = tmp_path / "missing" / "dir" / f"out.{fmt}"
    result = run("classify", catalog, "--format", fmt, "-o", output)
    assert result.exit_code == 2 and not result.stdout
    assert f"error: {output}: cannot be written: No such file or directory" in result.stderr
    assert "fix: give -o a file in a directory that exists" in result.stderr
    assert "decided" not in result.stderr  # no progress, no summary: nothing was decided


@pytest.mark.parametrize("fmt", ["table", "json", "xlsx"])
def test_credit_output_into_a_missing_directory_is_refused_before_computing(tmp_path, fmt):
    credit = ROOT / "examples" / "credit"
    output = tmp_path / "missing" / f"worksheet.{fmt}"
    result = run("credit", "--catalog", credit / "catalog.yaml", "--sales", tmp_path / "no-such-ledger.csv",
                 "--format", fmt, "-o", output)
    assert result.exit_code == 2  # refused for -o before the missing ledger is even looked at
    assert f"error: {output}: cannot be written" in result.stderr and "no-such-ledger" not in result.stderr


def test_a_workbook_value_beyond_the_header_is_an_error_for_its_row(tmp_path):
    """A cell past the header's last column belongs to no fact: an error for its row, with or without
    --strict; the rows around it are decided."""
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["product", "description", "component"])
    sheet.append(["A", "one", "inverter"])
    sheet.append(["B", "two", "inverter", None, "surplus"])
    sheet.append(["C", "three", "inverter"])
    book.save(tmp_path / "c.xlsx")
    for extra in ((), ("--strict",)):
        records, errors, result = classify(tmp_path / "c.xlsx", *extra)
        assert result.exit_code == 1 and len(records) == 3 and decided(records) == ["A", "C"], result.output
        assert errors["B"]["where"] == f"{tmp_path / 'c.xlsx'} row 3"
        assert errors["B"]["message"] == "has a value in column 5 ('surplus'), which has no header"
        assert errors["B"]["fix"] == "give the column a header, or clear the cell"


def test_a_csv_value_under_an_empty_header_cell_is_an_error_for_its_row(tmp_path):
    path = written(tmp_path, "c.csv", b"product,description,component,,\nA,one,inverter,,\nB,two,inverter,,x\n")
    records, errors, result = classify(path)
    assert result.exit_code == 1 and decided(records) == ["A"], result.output
    assert errors["B"]["message"] == "has a value in column 5 ('x'), which has no header"


@pytest.mark.parametrize("header", ["purity [%]", "purity (%)", "Purity [percent]"])
def test_a_percent_in_the_header_is_the_unit_of_its_column(tmp_path, header):
    """'purity [%]': a bare number under it is a percent, and a value that gives its unit again is
    refused as giving the unit twice; the header without brackets names the same fact."""
    rows = b"A,critical_mineral,lithium,yes,99.9\nB,critical_mineral,lithium,yes,99.9 %\n"
    path = written(tmp_path, "c.csv", f"product,component,mineral,converted,{header}\n".encode() + rows)
    records, errors, result = classify(path, "--detail", "full")
    assert decided(records) == ["A"], result.output
    assert records[0]["facts"]["purity"] == {"type": "quantity", "value": "99.9", "unit": "%"}, records[0]
    assert errors["B"]["key"] == "purity" and "carries a unit and so does its column header" in errors["B"]["message"]


def test_an_empty_cell_of_a_computed_facts_column_gives_nothing(tmp_path):
    """A column for a computed fact is refused for the rows that fill it; an empty cell gives nothing."""
    path = written(tmp_path, "c.csv", b"product,component,secondary_component_us_primary_share\nA,inverter,50 %\n"
                    b"B,inverter,\n")
    records, errors, result = classify(path)
    assert decided(records) == ["B"], result.output
    assert "computed from other facts" in errors["A"]["message"]
