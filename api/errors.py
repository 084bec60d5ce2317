"""Every error is JSON in Close's shapes: 400 carries field-errors, the rest {"error": ...}."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.problems import Invalid, Problem, ServiceError

log = logging.getLogger("cody.api")


def problems_response(problems: list[Problem], status_code: int = 400) -> JSONResponse:
    field_errors: dict[str, str] = {}
    errors: list[str] = []
    for p in problems:
        if p.field and p.field not in field_errors:
            field_errors[p.field] = p.message
        elif not p.field:
            errors.append(p.message)
    body = {"errors": errors, "field-errors": field_errors, "problems": [p.as_dict() for p in problems]}
    return JSONResponse(body, status_code=status_code)


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            # Its loc is ("body", <character offset>): not a field, so report it as a general error.
            problems.append(Problem("invalid_json", "", "The request body is not valid JSON."))
            continue
        field = _field_name(tuple(err.get("loc", ())))
        message = err.get("msg", "Invalid value").removeprefix("Value error, ")
        problems.append(Problem("invalid", field, message))
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(Invalid)
    async def _invalid(_: Request, exc: Invalid) -> JSONResponse:
        return problems_response(exc.problems)

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problems_response(_validation_problems(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found."
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette re-raises after this handler and uvicorn then drops the connection; say so, so that
        # keep-alive clients do not send their next request down a socket that is being closed.
        return JSONResponse({"error": "Internal server error."}, status_code=500, headers={"Connection": "close"})
