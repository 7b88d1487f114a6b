"""The app's own error handlers (health, ``/graphql``'s route, unknown paths): an error is
answered in the shape of the edge its path belongs to (:func:`errors.render_for_path`)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.errors import AppError, for_status, render_for_path
from pypole_gql.logging import request_id_var
from pypole_gql.web.responses import ORJSONResponse


async def error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        error = for_status(exc.status_code, str(exc.detail), exc.headers)
    else:
        assert isinstance(exc, AppError)
        error = exc
    rendered = render_for_path(request.url.path, error, request_id_var.get())
    return ORJSONResponse(rendered.content, rendered.status, headers=dict(rendered.headers))


EXCEPTION_HANDLERS: dict[Any, Any] = {AppError: error_response, HTTPException: error_response}
