"""The HTTP API, version 1: the records of the one pipeline as JSON (the shipped schema, `ampc
schema record`), a catalog's records as JSON lines, CSV or XLSX, the worksheet as JSON or XLSX, and
the rule set's vocabulary. FastAPI serves its OpenAPI document at /openapi.json and the interactive
docs at /docs."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ampc.errors import did_you_mean
from ampc.records import record as R
from ampc.rules.model import All, AnyOf, Cmp, Cond, Not
from ampc.web.service import Interview, Question, Service

router = APIRouter(prefix="/v1")
CATALOG_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl", ".yaml", ".yml")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"jsonl": "application/x-ndjson", "json": "application/json", "csv": "text/csv", "xlsx": XLSX}


def _service(request: Request) -> Service:
    return request.app.state.service


def _record_response(record: R.Record) -> Response:
    return Response(R.encode(record), media_type="application/json")


def _error_problem(record: R.ErrorRecord):
    from ampc.web.app import ApiProblem
    e = record.error
    return ApiProblem(422, "Product cannot be decided", e.message,
                      [{"where": f"facts.{e.key}" if e.key else "facts", "key": e.key, "message": e.message,
                        "fix": e.fix}])


class DecideRequest(BaseModel):
    facts: dict[str, Any] = Field(description="The product's facts as a catalog row gives them, units in the "
                                  "values: {\"component\": \"inverter\", \"ac_capacity\": \"300 W\", ...}",
                                  examples=[{"product": "MI-300", "component": "inverter", "ac_capacity": "300 W"}])
    as_of: dt.date | None = Field(None, description="Read the law as in force on this date (default: the facts' "
                                  "sale_date, else today)")


class InterviewRequest(BaseModel):
    kind: str = Field(description="The kind of component (a value of `component`: GET /v1/facts)")
    facts: dict[str, Any] = Field(default_factory=dict, description="The facts known so far")
    as_of: dt.date | None = None


@router.post("/decide", summary="Decide one product", response_description="The decision record")
def decide(body: DecideRequest, request: Request) -> Response:
    record = _service(request).decide(body.facts, body.as_of)
    if isinstance(record, R.ErrorRecord):
        raise _error_problem(record)
    return _record_response(record)


def question_json(q: Question) -> dict:
    return {"fact": q.fact, "label": q.label, "description": q.description, "type": q.type, "unit": q.unit,
            "choices": [{"value": c.value, "label": c.label} for c in q.choices], "rules": list(q.rules)}


def interview_json(iv: Interview) -> dict:
    record = iv.record
    out = {"kind": {"value": iv.kind.value, "label": iv.kind.label, "lines": list(iv.kind.lines)},
           "outcome": record.outcome, "line": getattr(record, "line", None),
           "next": question_json(iv.next) if iv.next else None, "settles": iv.settles,
           "questions": [question_json(q) for q in iv.questions], "answered": sorted(iv.answers),
           "record": R.to_builtins(record)}
    return out


@router.post("/interview", summary="The outcome on the facts known so far, and the next question")
def interview(body: InterviewRequest, request: Request) -> JSONResponse:
    iv = _service(request).interview(body.kind, body.facts, body.as_of)
    if isinstance(iv.record, R.ErrorRecord):
        raise _error_problem(iv.record)
    return JSONResponse(interview_json(iv))


@contextmanager
def held(upload: UploadFile, limit: int, field: str) -> Iterator[Path]:
    """The upload in a temporary folder under the name it was sent as (so that an error names the
    file the user knows), removed when the request ends; refused past the size limit as it is read
    (a request without Content-Length included)."""
    from ampc.web.app import ApiProblem
    name = Path((upload.filename or "").replace("\\", "/")).name
    suffix = Path(name).suffix.lower()
    if suffix not in CATALOG_SUFFIXES:
        raise ApiProblem(415, "Unsupported file type", f"{name or 'the upload'} is not a catalog file",
                         [{"where": field, "message": f"the file name ends in '{suffix or '(nothing)'}'",
                           "fix": f"upload one of {', '.join(CATALOG_SUFFIXES)} (the name's ending says which)"}])
    with tempfile.TemporaryDirectory(prefix="ampc-upload-") as folder:
        path = Path(folder) / name
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise ApiProblem(413, "Upload too large", f"{name} is over the limit of {limit:,} bytes",
                                     [{"where": field, "message": "too large",
                                       "fix": f"send at most {limit:,} bytes, e.g. split the catalog"}])
                out.write(chunk)
        yield path


def _want(fmt: str | None, accept: str, default: str, allowed: tuple[str, ...]) -> str:
    from ampc.web.app import ApiProblem
    if fmt:
        if fmt not in allowed:
            raise ApiProblem(422, "Unknown format", f"format={fmt}",
                             [{"where": "format", "message": f"'{fmt}' is not a format{did_you_mean(fmt, allowed)}",
                               "fix": f"one of {', '.join(allowed)}"}])
        return fmt
    for name in allowed:
        if MEDIA[name] in accept:
            return name
    return default


@router.post("/classify", summary="Decide every product of a catalog upload",
             response_description="The records: JSON lines (default), a JSON array, CSV or XLSX (format= or Accept)")
def classify(request: Request, file: Annotated[UploadFile, File(description="CSV, XLSX, JSON, JSONL or YAML catalog")],
             format: Annotated[Literal["jsonl", "json", "csv", "xlsx"] | None, Query()] = None,  # noqa: A002
             as_of: Annotated[dt.date | None, Query()] = None) -> Response:
    fmt = _want(format, request.headers.get("accept", ""), "jsonl", ("jsonl", "json", "csv", "xlsx"))
    service = _service(request)
    with held(file, request.app.state.max_upload, "file") as path:
        records = service.classify(path, as_of)
    if fmt in ("csv", "xlsx"):
        return Response(sheet_bytes(records, service, fmt), media_type=MEDIA[fmt],
                        headers={"Content-Disposition": f'attachment; filename="records.{fmt}"'})
    if fmt == "json":
        from ampc.io.report import to_json
        return Response(to_json(records), media_type=MEDIA["json"])
    return Response("".join(R.encode(r).decode() + "\n" for r in records), media_type=MEDIA["jsonl"])


def sheet_bytes(records: list[R.Record], service: Service, fmt: str) -> bytes:
    """The records as the workbook or CSV `ampc classify` writes, in a temporary file read back."""
    from ampc.io import sheets
    fd, name = tempfile.mkstemp(suffix=f".{fmt}", prefix="ampc-out-")
    os.close(fd)
    path = Path(name)
    try:
        sheet = sheets.open_sheet(fmt, path, service.ruleset)
        for r in records:
            sheet.add(r)
        sheet.close()
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


@router.post("/credit", summary="The Form 7207 worksheet for a catalog and a sales ledger")
def credit(request: Request, catalog: Annotated[UploadFile, File(description="The product catalog")],
           ledger: Annotated[UploadFile, File(description="The sales ledger")],
           tax_year: Annotated[str | None, Form(description="2025, or 2025-07-01..2026-06-30")] = None,
           as_of: Annotated[dt.date | None, Form()] = None,
           format: Annotated[Literal["json", "xlsx"] | None, Query()] = None) -> Response:  # noqa: A002
    fmt = _want(format, request.headers.get("accept", ""), "json", ("json", "xlsx"))
    service = _service(request)
    limit = request.app.state.max_upload
    with held(catalog, limit, "catalog") as cpath, held(ledger, limit, "ledger") as lpath:
        run = service.credit(cpath, lpath, tax_year, as_of)
    if fmt == "xlsx":
        from ampc.credit import xlsx
        fd, name = tempfile.mkstemp(suffix=".xlsx", prefix="ampc-out-")
        os.close(fd)
        try:
            xlsx.write(run, service.ruleset, Path(name))
            data = Path(name).read_bytes()
        finally:
            Path(name).unlink(missing_ok=True)
        return Response(data, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="form7207.xlsx"'})
    from ampc.credit import worksheet
    return Response(worksheet.to_json(run, service.ruleset), media_type="application/json")


@router.get("/facts", summary="The facts a product is described by (the vocabulary), or those a kind's rules read")
def facts(request: Request, kind: str | None = None) -> JSONResponse:
    service = _service(request)
    if kind is not None:
        return JSONResponse({"kind": kind, "questions": [question_json(q) for q in service.questions(
            service.kind(kind).value)]})
    out = []
    for f in service.ruleset.facts.values():
        if f.derived:
            continue
        out.append({"name": f.name, "label": f.label, "description": f.description, "type": f.type, "unit": f.unit,
                    "values": list(f.values), "minimum": _num(f.minimum), "maximum": _num(f.maximum),
                    "aliases": list(f.aliases), "computed": bool(f.computed)})
    return JSONResponse({"facts": out, "kinds": [{"value": k.value, "label": k.label, "lines": list(k.lines)}
                                                 for k in service.kinds()]})


def _num(value) -> str | None:
    from ampc.rules.units import plain
    return None if value is None else plain(value)


def _cond(cond: Cond) -> Any:
    if isinstance(cond, Cmp):
        threshold = {"param": cond.param} if cond.param else {"value": _literal(cond.literal)}
        return {"fact": cond.fact, "op": cond.op, **threshold, "clause": cond.clause}
    if isinstance(cond, Not):
        return {"not": _cond(cond.item)}
    return {"all" if isinstance(cond, All) else "any": [_cond(c) for c in cond.items]} if isinstance(
        cond, (All, AnyOf)) else None


def _literal(value: Any) -> Any:
    from decimal import Decimal

    from ampc.rules.units import plain
    if isinstance(value, tuple):
        return [_literal(v) for v in value]
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rule_summary(r) -> dict:
    return {"id": r.id, "stage": r.stage, "family": r.family, "line": r.line, "label": r.label,
            "in_force": {"keyed_on": r.keyed_on, "from": r.in_force_from.isoformat(),
                         "to": r.in_force_to.isoformat() if r.in_force_to else None},
            "cite": r.cite, "source": r.where}


@router.get("/rules", summary="Every rule, with its stage, kind, line, period and citation")
def rules(request: Request, kind: str | None = None) -> JSONResponse:
    rs = _service(request).ruleset
    return JSONResponse({"ruleset": rs.ident(), "rules": [_rule_summary(r) for r in rs.rules
                                                          if kind is None or r.applies_to(kind)]})


@router.get("/rules/{rule_id}", summary="One rule: its text, conditions, parameters, notes and the reading it applies")
def rule(rule_id: str, request: Request) -> JSONResponse:
    from ampc.web.app import ApiProblem
    rs = _service(request).ruleset
    ids = [r.id for r in rs.rules]
    if rule_id not in ids:
        raise ApiProblem(404, "No such rule", f"no rule '{rule_id}'",
                         [{"where": "rule_id", "message": f"no rule '{rule_id}'{did_you_mean(rule_id, ids)}",
                           "fix": "GET /v1/rules lists every rule id"}])
    r = rs.rule(rule_id)
    params = {}
    from ampc.rules.model import params_of
    for pid in dict.fromkeys(params_of(r.when)):
        p = rs.params[pid]
        params[pid] = {"label": p.label, "unit": p.unit, "values": [
            {"from": v.start.isoformat(), "value": _literal(v.value)} for v in p.values]}
    return JSONResponse({**_rule_summary(r), "text": r.text, "when": _cond(r.when), "then": r.then,
                         "parameters": params, "notes": r.notes, "review": r.review})


@router.get("/editions", summary="The editions of the law the rules can be read as")
def editions(request: Request) -> JSONResponse:
    rs = _service(request).ruleset
    return JSONResponse({"editions": [{"name": name, "label": e.label, "form": e.form, "aliases": list(e.aliases),
                                       "enacted_by": e.enacted_by.isoformat() if e.enacted_by else None}
                                      for name, e in rs.editions.items()]})
