"""The pages (ampc serve), through FastAPI's TestClient: the interview asks only a kind's facts, with
units and choices, and shows the outcome, the next question while undetermined, the clauses with
their numbers and citations, and errors beside their field; the catalog and worksheet uploads;
everything escaped, nothing from a CDN."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ampc.web.app import create_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MICRO = {"kind": "inverter", "is_end_product": "true", "converts_dc_to_ac": "true", "dc_source": ["solar_module"],
         "connects_to_one_module": "true", "phase": "single", "rated_output_voltage": "240", "ac_capacity": "300",
         "suitable_for": ["residence"], "used_with_certified_distributed_wind": "false",
         "produced_in": "united_states", "sold_in_trade_or_business": "true", "sold_to_related_person": "false",
         "facility_48c_credit_taken": "false", "production_date": "2024-01-01", "sale_date": "2024-03-01"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def outcome(html: str) -> tuple[str, str | None]:
    found = re.search(r'data-outcome="(\w+)"', html)
    line = re.search(r'data-line="(\w+)"', html)
    return found.group(1) if found else "", line.group(1) if line else None


def test_the_index_offers_every_kind_in_the_instructions_words(client):
    html = client.get("/").text
    assert 'name="kind" value="inverter"' in html and "Inverter" in html
    assert html.count('name="kind"') == 18
    assert "cdn" not in html.lower() and 'href="/assets/ampc.css"' in html


def test_the_interview_asks_only_the_kinds_facts_with_units_and_choices(client):
    html = client.get("/interview", params={"kind": "inverter"}).text
    assert '<label for="in-ac_capacity">AC capacity' in html
    assert re.search(r'id="unit-ac_capacity">W</span>', html)
    assert 'name="phase" value="single"' in html and 'name="suitable_for" value="residence"' in html
    assert "ac_capacity" in html and "wafer_area" not in html and "silicon_purity" not in html
    assert outcome(html) == ("undetermined", None)
    assert 'data-next="is_end_product"' in html


def test_every_input_has_a_label(client):
    html = client.get("/interview", params={"kind": "inverter"}).text
    ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html)
    assert ids
    for i in ids:
        assert f'for="{i}"' in html, i
    radios = re.findall(r'<input type="(?:radio|checkbox)"', html)
    assert len(radios) == len(re.findall(r'<label><input type="(?:radio|checkbox)"', html))


def test_a_qualified_microinverter_with_its_clauses_citations_and_flag(client):
    r = client.post("/interview", data=MICRO)
    assert r.status_code == 200
    assert outcome(r.text) == ("qualified", "3e")
    assert "Credit rate:" in r.text
    assert "(iii) a capacity which is not greater than 650 watts" in r.text and "300 W" in r.text
    assert "is at most 650 W" in r.text
    assert "IRC 45X(c)(2)(E)" in r.text and 'href="/' in r.text
    assert "Review (overlap" in r.text and "decided for inverter.micro" in r.text
    assert 'value="300"' in r.text  # the answers stay in the form


def test_a_rejected_inverter_in_the_gap_between_3b_and_3c(client):
    data = {**MICRO, "connects_to_one_module": "false", "phase": "three", "rated_output_voltage": "480",
            "ac_capacity": "500 kW", "suitable_for": ["commercial"]}
    html = client.post("/interview", data=data).text
    assert outcome(html) == ("rejected", None)
    assert "is more than 125,000 W" in html  # commercial's ceiling
    assert "is less than 600 V" in html  # utility's floor


def test_an_undetermined_product_asks_for_the_settling_fact(client):
    data = {k: v for k, v in MICRO.items() if k != "ac_capacity"}
    html = client.post("/interview", data=data).text
    assert outcome(html)[0] == "undetermined"
    assert 'data-next="ac_capacity"' in html
    first = html.index('class="field next"')
    assert html.index('id="field-ac_capacity"') < html.index('id="field-phase"')
    assert first < html.index('id="field-ac_capacity"') + 40


def test_a_wrong_unit_is_shown_beside_its_field_with_the_fix(client):
    r = client.post("/interview", data={**MICRO, "ac_capacity": "5 kVA"})
    assert r.status_code == 422
    field = r.text[r.text.index('id="field-ac_capacity"'):]
    field = field[:field.index('id="field-', 10)]
    assert "invalid" in r.text[r.text.index('id="field-ac_capacity"') - 40:r.text.index('id="field-ac_capacity"')]
    assert "apparent power" in field and "Fix: give the value in W" in field
    assert 'aria-invalid="true" aria-errormessage="error-ac_capacity"' in field and 'id="error-ac_capacity"' in field
    assert "Traceback" not in r.text


def test_the_facts_download_as_a_one_row_catalog_that_classify_reads(client, tmp_path):
    r = client.post("/interview/catalog.csv", data={**MICRO, "product": "MI-300"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["product"] == "MI-300" and rows[0]["ac_capacity"] == "300 W"
    path = tmp_path / "product.csv"
    path.write_text(r.text, encoding="utf-8")
    records = client.post("/v1/classify", files={"file": (path.name, path.read_bytes())}).text.splitlines()
    assert json.loads(records[0])["line"] == "3e"
    r = client.post("/interview/record.json", data=MICRO)
    assert r.json()["record"] == "decision" and r.json()["line"] == "3e"


def test_an_unknown_kind_is_a_problem_not_a_traceback(client):
    r = client.get("/interview", params={"kind": "invertr"})
    assert r.status_code == 422 and "did you mean &#39;inverter&#39;" in r.text


def test_the_catalog_page_lists_every_row_and_escapes_html(client):
    text = ("product,description,component\n"
            'X-1,"<script>alert(1)</script> made in <b>Ohio</b>",inverter\n'
            "<img src=x onerror=alert(2)>,plain,inverter\n")
    r = client.post("/catalog", files={"file": ("mine.csv", text.encode())})
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(2)&gt;" in r.text
    assert r.text.count('<tr class="row') == 2


def test_the_catalog_page_has_filters_explanations_and_downloads(client):
    path = EXAMPLES / "catalog_in_words.csv"
    html = client.post("/catalog", files={"file": (path.name, path.read_bytes())}).text
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    assert html.count('<tr class="row') == rows
    assert 'data-filter="outcome"' in html and 'data-filter="line"' in html
    assert '<option value="3a">3a</option>' in html
    assert "<details><summary>" in html and "<pre>" in html
    assert 'formaction="/v1/classify?format=xlsx"' in html


def test_the_worksheet_page_shows_the_lines_each_with_its_sales(client):
    files = {"catalog": ("catalog.yaml", (EXAMPLES / "credit/catalog.yaml").read_bytes()),
             "ledger": ("sales.csv", (EXAMPLES / "credit/sales.csv").read_bytes())}
    html = client.post("/worksheet", files=files, data={"tax_year": "2025"}).text
    assert "Facility PLANT-A" in html
    assert '<tr data-line="1a">' in html and "$" in html
    assert "sales.csv row 2" in html  # each line expands to its sales, located in the ledger sent
    assert 'formaction="/v1/credit?format=xlsx"' in html


def test_uploads_without_a_file_say_so(client):
    r = client.post("/catalog", data={"as_of": ""})
    assert r.status_code == 422 and "no file was chosen" in r.text
    r = client.post("/worksheet", data={"tax_year": "2025"})
    assert r.status_code == 422 and "catalog, ledger" in r.text


def test_the_assets_are_served_by_the_package(client):
    assert client.get("/assets/ampc.css").status_code == 200
    assert client.get("/assets/ampc.js").status_code == 200


def test_an_upload_the_page_cannot_use_is_shown_on_the_page_with_the_fix():
    with TestClient(create_app(max_upload=1000)) as small:
        r = small.post("/catalog", files={"file": ("big.csv", b"product,component\n" + b"X,inverter\n" * 200)})
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        assert "over the limit of 1,000 bytes" in r.text and "Fix: send at most 1,000 bytes" in r.text
        r = small.post("/catalog", files={"file": ("catalog.pdf", b"%PDF")})
        assert r.status_code == 415 and "is not a catalog file" in r.text and "Fix: upload one of .csv" in r.text
        r = small.post("/catalog", files={"file": ("empty.csv", b"")})
        assert r.status_code == 422 and "empty.csv" in r.text and "the file is empty" in r.text
        r = small.post("/worksheet", files={"catalog": ("c.pdf", b"x"), "ledger": ("s.csv", b"x")})
        assert r.status_code == 415 and "Fix: upload one of .csv" in r.text
