"""The web application: the HTTP API under /v1 (ampc.web.api) and the pages (ampc.web.views),
both renderers of the records the one pipeline makes. The rules are loaded once, at start.

Errors are JSON problem details (RFC 9457, application/problem+json): a title, the status, a
detail, and `errors`, each naming the field or row (`where`), what is wrong and the fix. An upload
over the limit (AMPC_MAX_UPLOAD bytes, default 20 MB) is refused with 413 before it is read whole;
an upload is held in a temporary file removed when the request ends, and nothing else is written.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ampc import __version__
from ampc.errors import InputError
from ampc.rules.loader import default_root, load_ruleset
from ampc.web.service import Service

MAX_UPLOAD = 20 * 1024 * 1024
PROBLEM = "application/problem+json"
ASSETS = Path(__file__).parent / "assets"


class ApiProblem(Exception):
    """An error to answer with problem details."""

    def __init__(self, status: int, title: str, detail: str = "", errors: list[dict] | None = None,
                 kind: str = "about:blank"):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors, self.kind = status, title, detail, errors or [], kind


def problem(status: int, title: str, detail: str = "", errors: list[dict] | None = None,
            kind: str = "about:blank", instance: str = "") -> JSONResponse:
    body = {"type": kind, "title": title, "status": status, "detail": detail or title}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def create_app(rules_dir: Path | str | None = None, max_upload: int | None = None) -> FastAPI:
    ruleset = load_ruleset(rules_dir)
    limit = max_upload if max_upload is not None else int(os.environ.get("AMPC_MAX_UPLOAD", MAX_UPLOAD))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.service.close()

    app = FastAPI(title="ampc", version=__version__, lifespan=lifespan,
                  description="Form 7207 (IRC 45X): does a product qualify, on which line, for how much, and why. "
                              "Every answer is the decision record of the one pipeline `ampc classify` runs.")
    app.state.service = Service(ruleset)
    app.state.max_upload = limit

    @app.middleware("http")
    async def upload_limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > app.state.max_upload:
            from ampc.web import views
            if request.url.path in views.UPLOAD_PAGES:  # a page's upload: the page again, saying so
                return views.too_large(request, int(length), app.state.max_upload)
            return problem(413, "Upload too large", f"the request is {int(length):,} bytes; the limit is "
                           f"{app.state.max_upload:,} bytes ({app.state.max_upload / 1024 / 1024:g} MB)",
                           [{"where": "body", "message": "too large",
                             "fix": f"send at most {app.state.max_upload:,} bytes, e.g. split the catalog"}],
                           instance=request.url.path)
        return await call_next(request)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem(exc.status, exc.title, exc.detail, exc.errors, exc.kind, request.url.path)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        p = exc.problem
        return problem(422, "Input cannot be used", p.message,
                       [{"where": p.where, "key": p.key, "message": p.message, "fix": p.fix}],
                       instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x != "body"]
            where = "body" if e.get("type") == "json_invalid" else ".".join(loc) or "body"
            fix = "send a JSON object, e.g. {\"facts\": {\"component\": \"inverter\"}}" \
                if e.get("type") in ("json_invalid", "model_attributes_type", "dict_type") else \
                "see the request schema in /docs"
            errors.append({"where": where, "message": e.get("msg", "invalid"), "fix": fix})
        return problem(422, "Request not valid", f"{len(errors)} problem(s) in the request", errors,
                       instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail), str(exc.detail), instance=request.url.path)

    from ampc.web import api
    app.include_router(api.router)
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # a defect: said so, never a traceback
        import logging
        logging.getLogger("ampc.web").exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", f"ampc failed on this request ({type(exc).__name__}); the server's "
                       "log has the details", [{"where": request.url.path, "message": "an error in ampc, not in the "
                                                "request", "fix": "report it with the request that caused it"}],
                       instance=request.url.path)

    from ampc.web import views
    app.include_router(views.router)
    app.mount("/assets", StaticFiles(directory=ASSETS), name="assets")
    site = default_root() / "site"
    if site.is_dir():  # the documentation site, when built (make docs): the pages link each rule to it
        app.mount("/site", StaticFiles(directory=site, html=True), name="site")
    return app
