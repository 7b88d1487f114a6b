"""The one error family of the app.

Every error a client may see is an :class:`AppError`: it carries a stable ``code`` (the
GraphQL ``extensions.code``), the HTTP status the REST shim answers with and a public
message. Anything else that escapes is unexpected: it is logged in full and shown to the
client only as a generic ``INTERNAL`` error.
"""

from __future__ import annotations

from typing import Any, ClassVar


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
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}
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


class RateLimited(AppError):
    code = "RATE_LIMITED"
    status = 429
    default_message = "Too many requests"


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "Request body too large"


class Internal(AppError):
    """An unexpected failure, shown without detail."""
