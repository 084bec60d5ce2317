"""Every error is JSON in Close's shapes: 400 carries field-errors, the rest {"error": ...}."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
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
    # Only the first element says where the value was: a parameter may itself be called "query" or "body".
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "body"


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


# What a 400 looks like, for /openapi.json: field-errors from validation and the services, or a plain error.
ERROR_400_SCHEMA = {
    "title": "BadRequest",
    "type": "object",
    "properties": {
        "errors": {"type": "array", "items": {"type": "string"}},
        "field-errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "problems": {"type": "array", "items": {
            "type": "object", "required": ["code", "field", "message"],
            "properties": {"code": {"type": "string"}, "field": {"type": "string"}, "message": {"type": "string"}}}},
        "error": {"type": "string"},
    },
}


class ErrorBody(BaseModel):
    """The body of a refusal other than a 400 (a ServiceError: 403, 409, 422, ...), as the handler below writes it."""

    error: str


# The refusals a route declares in /openapi.json (`responses=FORBIDDEN | CONFLICT`), each with the body it answers.
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {
    "model": ErrorBody,
    "description": "Not allowed: the error says what the caller may not do here (someone else's text, draft or "
                   "thread, or a permission they lack); nothing changed.",
}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ErrorBody,
    "description": "Conflict: another request or the carrier got there first (a draft already confirmed, canceled "
                   "or expired, a text being sent right now, an Idempotency-Key that made another kind of "
                   "activity); nothing changed.",
}}
KEY_REUSED: dict[int | str, dict[str, Any]] = {422: {
    "model": ErrorBody,
    "description": "The Idempotency-Key was already used for a request with other values; nothing was made. Use a "
                   "new key for a new request.",
}}
_VALIDATION_BODY = "#/components/schemas/HTTPValidationError"


def _fastapi_validation(response: dict | None) -> bool:
    """Whether a documented 422 is FastAPI's own (a request it could not parse), not a route's KEY_REUSED."""
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") == _VALIDATION_BODY


def document_errors(schema: dict) -> dict:
    """FastAPI documents a 422 with its own body; Cody answers invalid requests with a 400 in Close's shape. A 422 a
    route declares itself (KEY_REUSED) stays; FastAPI then adds none, so the 400 goes on every operation that takes
    parameters or a body, as FastAPI's 422 did."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if _fastapi_validation(responses.get("422")):
                del responses["422"]
            if operation.get("parameters") or operation.get("requestBody"):
                body = {"schema": {"$ref": "#/components/schemas/BadRequest"}}
                responses["400"] = {"description": "Invalid request: each problem, by field",
                                    "content": {"application/json": body}}
                operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["BadRequest"] = ERROR_400_SCHEMA
    return schema


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(Invalid)
    async def _invalid(_: Request, exc: Invalid) -> JSONResponse:
        return problems_response(exc.problems)

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problems_response(_validation_problems(exc))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value from the request (PostgreSQL: a NUL character, text longer than its column,
        # a number out of range): the caller's input, so a 400, never a 500. The statement and its parameters are
        # not logged: they are the caller's data.
        log.warning("refused a value the database can't take on %s %s (%s)", request.method, request.url.path,
                    type(exc.orig).__name__)
        return problems_response([Problem("invalid_value", "", "A value in the request can't be stored or searched "
                                          "for (such as a NUL character, or text longer than the field allows).")])

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
