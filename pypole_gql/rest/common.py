"""Helpers every REST handler uses: input parsing into pydantic models and error rendering.

Errors always come back as JSON ``{"detail": ...}``; invalid input is a 422 whose ``detail``
lists each offending field, in the shape the older PyPole (FastAPI) backend used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message

from pypole_gql.errors import AppError, BadUserInput, PayloadTooLarge
from pypole_gql.logging import get_logger

log = get_logger("pypole.rest")
M = TypeVar("M", bound=BaseModel)
MAX_JSON_BODY = 64 * 1024


class ORJSONResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class RequestValidationError(Exception):
    """Input that does not fit the route's model; rendered as 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("request validation failed")
        self.errors = errors


def _detail_from_pydantic(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        details.append(
            {"loc": [where, *[str(p) for p in err["loc"]]], "msg": err["msg"], "type": err["type"]}
        )
    return details


def validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(_detail_from_pydantic(exc, where)) from exc


async def read_body(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge()
    return body


async def parse_json(request: Request, model: type[M], *, allow_empty: bool = False) -> M:
    """Parse a JSON body into ``model``; malformed JSON or fields are a 422. With
    ``allow_empty`` a missing body counts as ``{}``."""
    body = await read_body(request)
    if allow_empty and not body.strip():
        return validate(model, {}, "body")
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError(
            [{"loc": ["body"], "msg": "Invalid JSON body", "type": "json_invalid"}]
        ) from exc
    if not isinstance(data, dict):
        raise RequestValidationError(
            [{"loc": ["body"], "msg": "Expected a JSON object", "type": "model_attributes_type"}]
        )
    return validate(model, data, "body")


async def parse_form_or_json(request: Request, model: type[M]) -> M:
    """Form-urlencoded (as OAuth2 password flows send it) or JSON."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return await parse_json(request, model)
    # Read (and size-check) the body first, then let Starlette's form parser read it again
    # from memory: the request's own stream can be consumed only once.
    body = await read_body(request)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=0, max_fields=20)
    except HTTPException as exc:
        # Starlette's 400 for a form it will not parse (too many fields, a file, no
        # multipart boundary): invalid input like any other, so a 422 naming the body.
        raise RequestValidationError(
            [{"loc": ["body"], "msg": str(exc.detail), "type": "form_invalid"}]
        ) from None
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    return validate(model, data, "body")


def parse_query(request: Request, model: type[M], extra: Mapping[str, Any] | None = None) -> M:
    data: dict[str, Any] = dict(request.query_params)
    if extra:
        data.update(extra)
    return validate(model, data, "query")


def parse_path(request: Request, model: type[M]) -> M:
    return validate(model, dict(request.path_params), "path")


async def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, BadUserInput):
        # 422 always lists the offending fields, whichever layer found the problem.
        loc = [exc.field] if exc.field else []
        detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
        return ORJSONResponse({"detail": detail}, status_code=422, headers=exc.headers)
    if exc.status >= 500:
        log.warning("rest.error", code=exc.code, path=request.url.path, message=exc.message)
    return ORJSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers)


async def validation_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return ORJSONResponse({"detail": exc.errors}, status_code=422)


async def http_exception_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return ORJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    RequestValidationError: validation_error_handler,
    HTTPException: http_exception_handler,
}
