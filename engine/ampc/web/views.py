"""The pages: one product by interview, a catalog by upload, the worksheet by upload. Server-rendered
HTML (Jinja2, autoescaped) that reads the records the service hands out; a little JavaScript
(engine/ampc/web/assets/ampc.js) filters the catalog's table, nothing else. Everything is served by
the package itself, so the pages work offline."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from ampc.errors import InputError
from ampc.io import report
from ampc.records import record as R
from ampc.rules.loader import default_root
from ampc.web.app import ApiProblem
from ampc.web.service import Interview, Question, Service

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "html")  # autoescape on for .html
UNIT_WRITTEN = re.compile(r"[A-Za-z%°µ]")


def _service(request: Request) -> Service:
    return request.app.state.service


def rule_href(request: Request, rule_id: str) -> str:
    """The rule's entry on the documentation site when it is built (make docs), else its JSON."""
    service = _service(request)
    rule = service.ruleset.rule(rule_id)
    page = rule.file.removeprefix("rules/").removesuffix(".yaml")
    site = default_root() / "site"
    if (site / page / "index.html").is_file():
        return f"/site/{page}/#{rule_id}"
    return f"/v1/rules/{rule_id}"


def _common(request: Request) -> dict:
    return {"request": request, "ruleset": _service(request).ruleset, "report": report,
            "rule_href": lambda rid: rule_href(request, rid)}


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    return templates.TemplateResponse(request, "index.html", {**_common(request), "kinds": _service(request).kinds()})


# ---------------------------------------------------------------------------------------------------
# one product, by interview

def answers_of(form: FormData, questions: list[Question]) -> dict[str, Any]:
    """The facts the form gives, as a catalog row writes them: a quantity with its unit (the fact's
    own unless the user wrote one), a set as its members, true/false as they are."""
    out: dict[str, Any] = {}
    for q in questions:
        if q.type == "set":
            members = [str(v) for v in form.getlist(q.fact) if str(v)]
            if members:
                out[q.fact] = members
            continue
        value = str(form.get(q.fact) or "").strip()
        if not value:
            continue
        if q.type == "quantity" and q.unit and not UNIT_WRITTEN.search(value):
            value = f"{value} {q.unit}"
        out[q.fact] = value
    return out


def _interview_context(request: Request, iv: Interview, form_values: dict[str, Any]) -> dict:
    record = iv.record
    error = record.error if isinstance(record, R.ErrorRecord) else None
    shown = [c for c in record.considered if c.result != "not_reached"] if isinstance(record, R.Decision) else []
    rate = None
    if isinstance(record, R.Decision) and record.line:
        rate = _rate(_service(request), record)
    ordered = ([iv.next] if iv.next else []) + [q for q in iv.questions if q is not iv.next]
    return {**_common(request), "iv": iv, "record": record, "error": error, "considered": shown,
            "questions": ordered, "values": form_values, "rate": rate,
            "record_json": R.encode(record).decode()}


def _rate(service: Service, record: R.Decision) -> str | None:
    from ampc.credit.compute import rate_of
    from ampc.credit.worksheet import rate_text
    from ampc.rules.model import When
    credit = service.ruleset.credits.get(record.line or "")
    if credit is None:
        return None
    rate = rate_of(service.ruleset, credit, When(record.dates.sale, record.dates.production,
                                                 record.dates.taxable_year_begins))
    return None if isinstance(rate, R.NotStatedByLaw) else rate_text(rate)


@router.get("/interview", response_class=HTMLResponse)
def interview_start(request: Request, kind: str = ""):
    service = _service(request)
    if not kind:
        return index(request)
    try:
        iv = service.interview(kind, {})
    except InputError as exc:
        return templates.TemplateResponse(request, "index.html", {**_common(request), "kinds": service.kinds(),
                                                                  "problem": exc.problem}, status_code=422)
    return templates.TemplateResponse(request, "interview.html", _interview_context(request, iv, {}))


async def _interview_from_form(request: Request) -> tuple[Interview, dict]:
    form = await request.form()
    service = _service(request)
    kind = str(form.get("kind") or "")
    questions = service.questions(service.kind(kind).value)
    answers = answers_of(form, questions)
    as_of = _date(str(form.get("as_of") or ""))
    values = {q.fact: (form.getlist(q.fact) if q.type == "set" else form.get(q.fact)) for q in questions}
    values["product"] = str(form.get("product") or "")
    values["as_of"] = str(form.get("as_of") or "")
    if values["product"]:
        answers["product"] = values["product"]
    return service.interview(kind, answers, as_of), values


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.post("/interview", response_class=HTMLResponse)
async def interview_answer(request: Request):
    try:
        iv, values = await _interview_from_form(request)
    except InputError as exc:
        return templates.TemplateResponse(request, "index.html", {**_common(request),
                                                                  "kinds": _service(request).kinds(),
                                                                  "problem": exc.problem}, status_code=422)
    status = 422 if isinstance(iv.record, R.ErrorRecord) else 200
    return templates.TemplateResponse(request, "interview.html", _interview_context(request, iv, values),
                                      status_code=status)


@router.post("/interview/catalog.csv")
async def interview_catalog(request: Request):
    """The facts entered, as a one-row catalog `ampc classify` reads."""
    iv, _values = await _interview_from_form(request)
    row = {"product": iv.answers.get("product", f"{iv.kind.value} (interview)"),
           _service(request).kind_fact: iv.kind.value}
    for fact, value in iv.answers.items():
        if fact != "product":
            row[fact] = "; ".join(value) if isinstance(value, list) else value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="product.csv"'})


@router.post("/interview/record.json")
async def interview_record(request: Request):
    iv, _values = await _interview_from_form(request)
    return Response(R.encode(iv.record), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="record.json"'})


# ---------------------------------------------------------------------------------------------------
# a catalog, and the worksheet

def _no_file(request: Request, template: str, where: str, fix: str, empty: dict) -> HTMLResponse:
    """The upload page again, saying which file was not chosen."""
    return templates.TemplateResponse(request, template, {**_common(request), **empty, "problem": {
        "where": where, "message": "no file was chosen", "fix": fix}}, status_code=422)


UPLOAD_PAGES = {"/catalog": ("catalog.html", {"records": None}), "/worksheet": ("worksheet.html", {"sheets": None})}


def too_large(request: Request, size: int, limit: int) -> HTMLResponse:
    """An upload page's answer to a request over the limit, refused before it is read."""
    template, empty = UPLOAD_PAGES[request.url.path]
    return templates.TemplateResponse(request, template, {**_common(request), **empty, "problem": {
        "where": "upload", "message": f"the upload is {size:,} bytes, over the limit of {limit:,} bytes",
        "fix": f"send at most {limit:,} bytes, e.g. split the catalog"}}, status_code=413)


def _refused(request: Request, template: str, exc: Exception, empty: dict) -> HTMLResponse:
    """The upload page again with what was wrong and the fix: a file too large or of no catalog
    format, or one that cannot be read at all (the API answers the same with problem details)."""
    if isinstance(exc, InputError):
        p = exc.problem
        problem, status = {"where": p.where, "message": p.message, "fix": p.fix}, 422
    else:
        first = exc.errors[0] if exc.errors else {}
        problem = {"where": first.get("where", ""), "message": exc.detail, "fix": first.get("fix", "")}
        status = exc.status
    return templates.TemplateResponse(request, template, {**_common(request), **empty, "problem": problem},
                                      status_code=status)


@router.get("/catalog", response_class=HTMLResponse)
def catalog_form(request: Request):
    return templates.TemplateResponse(request, "catalog.html", {**_common(request), "records": None})


@router.post("/catalog", response_class=HTMLResponse)
async def catalog_upload(request: Request):
    from ampc.web.api import held
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _no_file(request, "catalog.html", "file", "choose a catalog file (CSV, XLSX, JSON, JSONL or YAML) and "
                        "upload it", {"records": None})
    as_of = _date(str(form.get("as_of") or ""))
    try:
        with held(upload, request.app.state.max_upload, "file") as path:
            records = _service(request).classify(path, as_of)
    except (ApiProblem, InputError) as exc:
        return _refused(request, "catalog.html", exc, {"records": None})
    lines = sorted({r.line for r in records if isinstance(r, R.Decision) and r.line},
                   key=_service(request).ruleset.line_order().index)
    labels = {p.id: p.label for p in _service(request).ruleset.params.values()}
    return templates.TemplateResponse(request, "catalog.html", {
        **_common(request), "records": records, "file": upload.filename, "lines": lines,
        "explained": [report.explain(r, labels) for r in records], "summary": report.summary(records)})


@router.get("/worksheet", response_class=HTMLResponse)
def worksheet_form(request: Request):
    return templates.TemplateResponse(request, "worksheet.html", {**_common(request), "sheets": None})


@router.post("/worksheet", response_class=HTMLResponse)
async def worksheet_upload(request: Request):
    from ampc.credit import worksheet
    from ampc.web.api import held
    form = await request.form()
    catalog, ledger = form.get("catalog"), form.get("ledger")
    missing = [name for name, f in (("catalog", catalog), ("ledger", ledger))
               if not isinstance(f, UploadFile) or not f.filename]
    if missing:
        return _no_file(request, "worksheet.html", ", ".join(missing), "choose the product catalog and the sales "
                        "ledger", {"sheets": None})
    tax_year = str(form.get("tax_year") or "") or None
    limit = request.app.state.max_upload
    try:
        with held(catalog, limit, "catalog") as cpath, held(ledger, limit, "ledger") as lpath:
            run = _service(request).credit(cpath, lpath, tax_year)
    except (ApiProblem, InputError) as exc:
        return _refused(request, "worksheet.html", exc, {"sheets": None, "tax_year": tax_year or ""})
    ruleset = _service(request).ruleset
    sheets = []
    for sheet in run.worksheets:
        rows = worksheet.part_ii_rows(ruleset, sheet)
        for row in rows:
            total = sheet.lines[row["line"]]
            row["sales_list"] = [{"where": a.row.where, "product": worksheet.product_of(a.row),
                                  "arithmetic": worksheet.arithmetic(a)} for a in total.amounts]
        sheets.append({"facility": sheet.facility, "tax_year": worksheet.tax_year_text(sheet.tax_year),
                       "rows": rows, "rejected": [{"where": r.row.where, "product": worksheet.product_of(r.row),
                                                   "outcome": r.outcome, "reason": report.reason(r.record)}
                                                  for r in sheet.rejected]})
    return templates.TemplateResponse(request, "worksheet.html", {
        **_common(request), "sheets": sheets, "errors": [worksheet.problem_text(p) for p in run.errors],
        "tax_year": tax_year or ""})
