"""The one error family of the app.

Every error a client may see is an :class:`AppError`: it carries a stable ``code`` (the
GraphQL ``extensions.code``), the HTTP status the REST shim answers with and a public
message. Anything else that escapes is unexpected: it is logged in full and shown to the
client only as a generic ``INTERNAL`` error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import orjson


class AppError(Exception):
    """An error that is safe to show to the client."""

    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}
        #: The status answered; the class's own unless an HTTP error of another layer
        #: (Starlette's, Strawberry's) with a status of no class of its own was translated.
        self.http_status = http_status or self.status
        super().__init__(self.message)

    def extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"code": self.code}
        if self.field is not None:
            ext["field"] = self.field
        ext.update(self.extra)
        return ext


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"
    status = 401
    default_message = "Not authenticated"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(AppError):
    code = "FORBIDDEN"
    status = 403
    default_message = "Not allowed"


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"
    status = 422
    default_message = "Invalid input"


class InvalidParam(BadUserInput):
    """A parameter outside its rule (:mod:`pypole_gql.domain.params`), named by the
    service's name for it. Its message names the field too, so an edge that calls the
    parameter otherwise renders :meth:`renamed`."""

    def __init__(self, field: str, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(template.format(field=field, **values), field=field)

    def renamed(self, field: str) -> InvalidParam:
        return self if field == self.field else InvalidParam(field, self.template, **self.values)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in the FastF1 worker too: it must cross the process boundary intact.
        return (_invalid_param, (self.field, self.template, self.values))


def _invalid_param(field: str, template: str, values: dict[str, object]) -> InvalidParam:
    return InvalidParam(field, template, **values)


class RequestInvalid(AppError):
    """Input that does not fit a REST route's declaration: each issue is a
    ``{"loc": [...], "msg": ..., "type": ...}`` as the older (FastAPI) backend listed them."""

    code = "BAD_USER_INPUT"
    status = 422
    default_message = "Invalid input"

    def __init__(self, issues: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self.issues = [
            {
                "loc": [str(part) for part in issue["loc"]],
                "msg": issue["msg"],
                "type": issue["type"],
            }
            for issue in issues
        ]


class Conflict(AppError):
    code = "CONFLICT"
    status = 409
    default_message = "Conflict"


class NotFound(AppError):
    code = "NOT_FOUND"
    status = 404
    default_message = "Not found"


class UpstreamUnavailable(AppError):
    """An upstream (Jolpica, the live-timing archive) failed and nothing usable was cached."""

    code = "UPSTREAM_UNAVAILABLE"
    status = 503
    default_message = "Upstream data source unavailable, try again later"

    def __init__(self, message: str | None = None, *, retry_after: int = 30, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    """One of our own dependencies (the database) is down."""

    code = "SERVICE_UNAVAILABLE"
    status = 503
    default_message = "Service temporarily unavailable, try again later"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "5"})
        super().__init__(message, **kwargs)


class BadRequest(AppError):
    code = "BAD_REQUEST"
    status = 400
    default_message = "Bad request"


class BatchingNotSupported(BadRequest):
    code = "BATCHING_NOT_SUPPORTED"
    default_message = "Batched operations are not supported: send one operation per request"


class MethodNotAllowed(AppError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    default_message = "Method Not Allowed"


class UnsupportedMediaType(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    default_message = "Unsupported Media Type"


class RateLimited(AppError):
    code = "RATE_LIMITED"
    status = 429
    default_message = "Too many requests"


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "Request body too large"


class NotProvided(AppError):
    """A route of the older backend that needs data no source here has (an "AI prediction"
    model): answered, documented, never with invented data."""

    code = "NOT_IMPLEMENTED"
    status = 501
    default_message = "Not implemented"


class Internal(AppError):
    """An unexpected failure, shown without detail."""


#: Errors for an HTTP status with no error class of its own (Starlette's, Strawberry's).
_BY_STATUS: Mapping[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        BadUserInput,
        RateLimited,
        ServiceUnavailable,
        Internal,
    )
}


def for_status(
    status: int, message: str | None = None, headers: Mapping[str, str] | None = None
) -> AppError:
    """The :class:`AppError` for an HTTP error status raised outside our code."""
    cls = _BY_STATUS.get(status) or (BadRequest if 400 <= status < 500 else Internal)
    return cls(message, headers=dict(headers or {}), http_status=status)


# -- rendering -------------------------------------------------------------------------------

Shape = Literal["rest", "graphql"]
GRAPHQL_PATH = "/graphql"


@dataclass(frozen=True, slots=True)
class Rendered:
    """An error as one edge answers it: status, headers and JSON body."""

    status: int
    headers: Mapping[str, str]
    content: dict[str, Any]

    def body(self) -> bytes:
        return orjson.dumps(self.content)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """ASGI headers, content type and length included (for middleware answering alone)."""
        body = self.body()
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()),
        ]


def graphql_error(
    error: AppError, *, request_id: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """One entry of a GraphQL ``errors`` list: the message and ``extensions.code``."""
    extensions = error.extensions()
    if request_id is not None:
        extensions["requestId"] = request_id
    return {"message": error.message if message is None else message, "extensions": extensions}


def render(
    error: AppError,
    shape: Shape = "rest",
    *,
    request_id: str | None = None,
    loc: Sequence[str] | None = None,
    text_detail: bool = False,
) -> Rendered:
    """The one rendering of an :class:`AppError`.

    REST: ``{"detail": message}``; a 422 lists the offending fields instead
    (``{"detail": [{"loc", "msg", "type"}, ...]}``, ``loc`` where the value was, by default
    the error's field), or with ``text_detail`` says them in one sentence and lists them under
    ``errors`` (``{"detail": "username: ...", "errors": [...]}``, for clients that show
    ``detail`` as text); an :class:`Internal` error adds ``request_id``. GraphQL (a request
    refused before execution, or a failure outside it): ``{"errors": [{"message",
    "extensions": {"code", ..., "requestId"}}]}``.
    """
    status = error.http_status
    if shape == "graphql":
        content: dict[str, Any] = {"errors": [graphql_error(error, request_id=request_id)]}
    elif isinstance(error, BadUserInput | RequestInvalid):
        if isinstance(error, RequestInvalid):
            issues = error.issues
        else:
            where = list(loc) if loc is not None else ([error.field] if error.field else [])
            issues = [{"loc": where, "msg": error.message, "type": "value_error"}]
        if text_detail:
            content = {"detail": issues_text(issues), "errors": issues}
        else:
            content = {"detail": issues}
    else:
        content = {"detail": error.message}
        if isinstance(error, Internal) and request_id is not None:
            content["request_id"] = request_id
    return Rendered(status, error.headers, content)


def issues_text(issues: Sequence[Mapping[str, Any]]) -> str:
    """Invalid fields as one sentence: ``"username: too short; password: too short"``."""
    parts = []
    for issue in issues:
        where = [str(part) for part in issue["loc"] if part not in ("body", "query", "path")]
        name = ".".join(where)
        parts.append(f"{name}: {issue['msg']}" if name else str(issue["msg"]))
    return "; ".join(parts) or "Invalid input"


def shape_for_path(path: str) -> Shape:
    """``/graphql`` (and below) answers in GraphQL's shape, everything else in REST's."""
    if path == GRAPHQL_PATH or path.startswith(GRAPHQL_PATH + "/"):
        return "graphql"
    return "rest"


def render_for_path(path: str, error: AppError, request_id: str | None = None) -> Rendered:
    """:func:`render` in the shape of the edge that serves ``path``."""
    return render(error, shape_for_path(path), request_id=request_id)
