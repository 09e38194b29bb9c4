"""The HTTP API under /v1, through FastAPI's TestClient: every endpoint, the records it answers with
(the same bytes the pipeline makes), and each kind of bad request answered with problem details
(RFC 9457) naming the field or row and the fix."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from ampc.decide.decider import Decider
from ampc.decide.pipeline import decide_rows, stream
from ampc.records import record as R
from ampc.rules.loader import load_ruleset
from ampc.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROBLEM = "application/problem+json"
MICRO = {"product": "MI-300", "component": "inverter", "is_end_product": True, "converts_dc_to_ac": True,
         "dc_source": ["solar_module"], "connects_to_one_module": True, "phase": "single",
         "rated_output_voltage": "240 V", "ac_capacity": "300 W", "suitable_for": ["residence"],
         "used_with_certified_distributed_wind": False, "produced_in": "united_states",
         "sold_in_trade_or_business": True, "sold_to_related_person": False, "facility_48c_credit_taken": False,
         "production_date": "2024-01-01", "sale_date": "2024-03-01"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(max_upload=200_000)) as c:
        yield c


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_decide_answers_with_the_record_the_pipeline_makes(client):
    r = client.post("/v1/decide", json={"facts": MICRO})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["record"], body["product"], body["outcome"], body["line"]) == ("decision", "MI-300", "qualified", "3e")
    R.decode(r.content)  # the shipped schema's record, as bytes
    assert any(f["kind"] == "overlap" and f["winner"] == "inverter.micro" for f in body["flags"])


def test_decide_at_and_just_past_a_threshold(client):
    at = client.post("/v1/decide", json={"facts": {**MICRO, "ac_capacity": "650 W"}}).json()
    past = client.post("/v1/decide", json={"facts": {**MICRO, "ac_capacity": "650.001 W"}}).json()
    assert at["line"] == "3e" and past["line"] == "3d"


def test_decide_as_of_reads_the_law_of_that_date(client):
    body = client.post("/v1/decide", json={"facts": {k: v for k, v in MICRO.items() if k != "sale_date"},
                                            "as_of": "2024-06-30"}).json()
    assert body["dates"]["sale"] == "2024-06-30"


@pytest.mark.parametrize("facts, where, message, fix", [
    ({"component": "inverter", "ac_capacity": "5 kVA"}, "ac_capacity", "apparent power", "give the value in W"),
    ({"component": "inverter", "bogus_fact": 1}, "bogus_fact", "unknown column or key 'bogus_fact'",
     "rename it to a fact"),
    ({"component": "inverter", "produced_in": "Atlantis"}, "produced_in", "'Atlantis' is not a value of produced_in",
     "write one of the values of produced_in"),
    ({"component": "inverterr"}, "component", "did you mean 'inverter'?", "write one of the values of component"),
])
def test_bad_facts_are_problems_naming_the_fact_and_the_fix(client, facts, where, message, fix):
    body = problem_of(client.post("/v1/decide", json={"facts": facts}), 422)
    (error,) = body["errors"]
    assert error["key"] == where and error["where"] == f"facts.{where}"
    assert message in error["message"] and fix in error["fix"]


def test_bad_json_and_a_body_of_the_wrong_shape(client):
    body = problem_of(client.post("/v1/decide", content=b"{bad", headers={"content-type": "application/json"}), 422)
    assert body["errors"][0]["where"] == "body" and "JSON" in body["errors"][0]["message"]
    body = problem_of(client.post("/v1/decide", json={"facts": "inverter"}), 422)
    assert body["errors"][0]["where"] == "facts"
    body = problem_of(client.post("/v1/decide", json={}), 422)
    assert body["errors"][0]["where"] == "facts" and "Field required" in body["errors"][0]["message"]
    body = problem_of(client.post("/v1/decide", json={"facts": MICRO, "as_of": "June 2024"}), 422)
    assert body["errors"][0]["where"] == "as_of"


def test_classify_an_upload_gives_the_records_of_ampc_classify(client):
    path = EXAMPLES / "catalog_in_words.csv"
    r = client.post("/v1/classify", files={"file": (path.name, path.read_bytes(), "text/csv")},
                    params={"as_of": "2025-06-30"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    ruleset = load_ruleset()
    with Decider(ruleset) as decider:
        expected = [R.encode(rec).decode() for rec in decide_rows(stream([path], ruleset), decider,
                                                                  __import__("datetime").date(2025, 6, 30))]
    got = r.text.splitlines()
    assert len(got) == len(expected) == sum(1 for _ in path.open(encoding="utf-8")) - 1  # rows in = records out
    assert [json.loads(x)["product"] for x in got] == [json.loads(x)["product"] for x in expected]
    assert [json.loads(x)["source"]["row"] for x in got] == [json.loads(x)["source"]["row"] for x in expected]
    assert {json.loads(x)["source"]["file"] for x in got} == {"catalog_in_words.csv"}  # the name it was sent as
    errors = [json.loads(x) for x in got if json.loads(x)["record"] == "error"]
    assert errors and "did you mean" in errors[0]["error"]["message"]


@pytest.mark.parametrize("how", [{"params": {"format": "xlsx"}}, {"headers": {
    "accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}])
def test_classify_as_a_workbook(client, how):
    path = EXAMPLES / "catalog.csv"
    r = client.post("/v1/classify", files={"file": (path.name, path.read_bytes(), "text/csv")}, **how)
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames[:2] == ["Decisions", "Clauses"]
    rows = list(book["Decisions"].iter_rows(values_only=True))
    assert len(rows) - 1 == sum(1 for _ in path.open(encoding="utf-8")) - 1


def test_classify_as_csv_and_json(client):
    path = EXAMPLES / "catalog_part_ii.yaml"
    r = client.post("/v1/classify", files={"file": (path.name, path.read_bytes())}, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0].startswith("product,description,outcome,line")
    r = client.post("/v1/classify", files={"file": (path.name, path.read_bytes())}, params={"format": "json"})
    assert isinstance(r.json(), list) and r.json()


def test_an_upload_over_the_limit_is_413_naming_the_limit(client):
    big = b"product,component\n" + b"X,inverter\n" * 30_000
    body = problem_of(client.post("/v1/classify", files={"file": ("big.csv", big, "text/csv")}), 413)
    assert "200,000 bytes" in body["detail"]
    assert "send at most 200,000 bytes" in body["errors"][0]["fix"]


def test_an_upload_that_is_no_catalog_file(client):
    body = problem_of(client.post("/v1/classify", files={"file": ("catalog.pdf", b"%PDF", "application/pdf")}), 415)
    assert body["errors"][0]["where"] == "file" and ".csv" in body["errors"][0]["fix"]
    body = problem_of(client.post("/v1/classify", files={"file": ("c.csv", b"a,b\n1,2\n")},
                                  params={"format": "pdf"}), 422)
    assert body["errors"][0]["where"] == "query.format"


def test_a_broken_catalog_upload_names_its_row_in_the_records(client):
    r = client.post("/v1/classify", files={"file": ("mine.csv", b"product,component,ac_capacity\nA,inverter,5 kVA\n")})
    assert r.status_code == 200
    (line,) = r.text.splitlines()
    record = json.loads(line)
    assert record["record"] == "error" and record["error"]["where"].startswith("mine.csv row 2")


def test_nothing_is_left_on_disk_after_a_request(client):
    before = set(Path(tempfile.gettempdir()).glob("ampc-*"))
    path = EXAMPLES / "catalog.csv"
    client.post("/v1/classify", files={"file": (path.name, path.read_bytes())}, params={"format": "xlsx"})
    client.post("/v1/classify", files={"file": ("big.csv", b"x" * 300_000)})
    assert set(Path(tempfile.gettempdir()).glob("ampc-*")) == before


def test_credit_gives_the_worksheet_as_json_and_xlsx(client):
    files = {"catalog": ("catalog.yaml", (EXAMPLES / "credit/catalog.yaml").read_bytes()),
             "ledger": ("sales.csv", (EXAMPLES / "credit/sales.csv").read_bytes())}
    r = client.post("/v1/credit", files=files, data={"tax_year": "2025"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tax_year"] == {"start": "2025-01-01", "end": "2025-12-31"}
    lines = {row["line"] for w in body["worksheets"] for row in w["part_ii"]}
    assert {"1a", "3e"} <= lines
    r = client.post("/v1/credit", files=files, data={"tax_year": "2025"}, params={"format": "xlsx"})
    assert r.status_code == 200
    assert "Form 7207" in load_workbook(io.BytesIO(r.content), read_only=True).sheetnames[0]
    body = problem_of(client.post("/v1/credit", files=files, data={"tax_year": "twenty"}), 422)
    assert body["errors"][0]["where"] == "tax_year"


def test_interview_asks_the_settling_fact_then_decides(client):
    r = client.post("/v1/interview", json={"kind": "inverter", "facts": {}})
    body = r.json()
    assert r.status_code == 200 and body["outcome"] == "undetermined"
    assert body["next"]["fact"] in {q["fact"] for q in body["questions"]}
    assert {"ac_capacity", "phase", "rated_output_voltage"} <= {q["fact"] for q in body["questions"]}
    capacity = next(q for q in body["questions"] if q["fact"] == "ac_capacity")
    assert capacity["unit"] == "W" and capacity["type"] == "quantity"
    answers = {k: v for k, v in MICRO.items() if k not in ("product", "component")}
    body = client.post("/v1/interview", json={"kind": "inverter", "facts": answers}).json()
    assert (body["outcome"], body["line"], body["next"]) == ("qualified", "3e", None)
    partial = {k: v for k, v in answers.items() if k != "ac_capacity"}
    body = client.post("/v1/interview", json={"kind": "inverter", "facts": partial}).json()
    assert body["outcome"] == "undetermined" and body["next"]["fact"] == "ac_capacity"
    body = problem_of(client.post("/v1/interview", json={"kind": "invertr", "facts": {}}), 422)
    assert "did you mean 'inverter'" in body["errors"][0]["fix"]


def test_facts_rules_and_editions(client):
    body = client.get("/v1/facts").json()
    names = {f["name"] for f in body["facts"]}
    assert "ac_capacity" in names and "is_inverter" not in names  # a concluded fact is not given
    assert next(f for f in body["facts"] if f["name"] == "ac_capacity")["unit"] == "W"
    assert "inverter" in {k["value"] for k in body["kinds"]}
    kind = client.get("/v1/facts", params={"kind": "inverter"}).json()
    assert "ac_capacity" in {q["fact"] for q in kind["questions"]}
    rules = client.get("/v1/rules").json()["rules"]
    assert len(rules) == len(load_ruleset().rules)
    rule = client.get("/v1/rules/inverter.micro").json()
    assert rule["line"] == "3e" and rule["parameters"]["inverter.micro.max_capacity"]["values"][0]["value"] == "650"
    assert rule["when"]["all"][0] == {"fact": "is_inverter", "op": "is", "value": True, "clause": "an inverter"}
    body = problem_of(client.get("/v1/rules/inverter.mikro"), 404)
    assert "did you mean 'inverter.micro'" in body["errors"][0]["message"]
    editions = client.get("/v1/editions").json()["editions"]
    assert [e["name"] for e in editions] == ["2024-01", "2025-12"]


def test_the_openapi_document_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/decide", "/v1/classify", "/v1/credit", "/v1/facts", "/v1/rules", "/v1/rules/{rule_id}",
            "/v1/editions", "/v1/interview"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_an_unknown_path_is_a_problem_too(client):
    problem_of(client.get("/v1/nothing"), 404)
