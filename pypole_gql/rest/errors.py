"""How the REST shim answers errors: every handler renders through :func:`errors.render`.

Errors are ``{"detail": message}``; a 422 lists each offending field as the older (FastAPI)
backend did, with its ``loc``: where the value was (``path``, ``query`` or ``body``) and its
name; on the routes that declare so (the account routes) the list is under ``errors`` and
``detail`` says it as text. A parameter the service refused
(:class:`~pypole_gql.errors.BadUserInput` naming it) is found in the route's own declaration,
so its ``loc`` says where the client put it.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from pypole_gql.errors import (
    AppError,
    BadUserInput,
    Internal,
    NotProvided,
    RequestInvalid,
    for_status,
    render,
)
from pypole_gql.logging import get_logger, request_id_var
from pypole_gql.rest.inputs import body_reader, dependants
from pypole_gql.rest.schemas import TextValidationErrorBody
from pypole_gql.web.responses import ORJSONResponse

log = get_logger("pypole.rest")


def _loc(request: Request, field: str | None) -> list[str]:
    """Where the route declares ``field``: ``["path", name]``, ``["query", name]``, or
    ``["body", name]`` on a route that reads a body."""
    if field is None:
        return []
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        for dependant in dependants(route.dependant):
            for where, params in (
                ("path", dependant.path_params),
                ("query", dependant.query_params),
            ):
                if any(param.alias == field for param in params):
                    return [where, field]
        if body_reader(route.dependant) is not None:
            return ["body", field]
    return [field]


def text_detail(request: Request) -> bool:
    """Whether the route declares its 422 with a text ``detail`` (``errors(...,
    text_422=True)``): the older web frontend's account pages show ``detail`` as text, and a
    list breaks them."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return False
    declared = route.responses.get(422)
    return isinstance(declared, dict) and declared.get("model") is TextValidationErrorBody


def _respond(request: Request, error: AppError, loc: list[str] | None = None) -> Response:
    rendered = render(
        error, request_id=request_id_var.get(), loc=loc, text_detail=text_detail(request)
    )
    return ORJSONResponse(rendered.content, rendered.status, headers=dict(rendered.headers))


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, BadUserInput) and not isinstance(exc, RequestInvalid):
        return _respond(request, exc, _loc(request, exc.field))
    if exc.http_status >= 500 and not isinstance(exc, NotProvided):
        log.warning("rest.error", code=exc.code, path=request.url.path, message=exc.message)
    return _respond(request, exc)


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422 (a path or query parameter), in our shape."""
    assert isinstance(exc, RequestValidationError)
    return _respond(request, RequestInvalid(exc.errors()))


def _allowed(request: Request) -> list[str]:
    """Every method the path serves: its routes may be several (``/auth/me``: GET, PUT)."""
    methods: set[str] = set()
    for route in getattr(request.scope.get("app"), "routes", ()):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE and isinstance(route, APIRoute):
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed(request))
    return _respond(request, for_status(exc.status_code, str(exc.detail), headers))


async def unexpected(request: Request, exc: Exception) -> Response:
    """The generic 500 (the request's middleware logs the failure)."""
    return _respond(request, Internal())


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error,
    RequestValidationError: validation_error,
    HTTPException: http_exception,
    Exception: unexpected,
}
