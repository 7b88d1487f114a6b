"""Cross-origin requests from browser pages (the PyPole web frontend, a dashboard).

Starlette's own :class:`~starlette.middleware.cors.CORSMiddleware`, configured from
``PYPOLE_CORS_ORIGINS``: no credentials (clients send ``Authorization: Bearer``, never
cookies), the methods and request headers our clients use, and the headers a page needs to
read exposed (the rate-limit budget, ``Retry-After``, the request id, ``ETag``).

It runs outermost, before the access log and the rate limiter: a preflight ``OPTIONS`` is
answered here, so it is neither charged to the client's rate limit nor logged as a failed
request, and every response (a 401, 422, 429 or 500 included) carries the CORS headers a
page needs to see its status. One change to Starlette's behaviour: an origin that is not
allowed gets no ``Access-Control-*`` header at all, on a preflight or a real request.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Send

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Request-ID",
    "Prefer",
    "If-None-Match",
)
EXPOSED_HEADERS = (
    "RateLimit-Policy",
    "RateLimit",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-ID",
    "ETag",
    "Preference-Applied",
)
#: Seconds a browser may reuse a preflight's answer (Chromium caps it at 7200).
PREFLIGHT_MAX_AGE = 3600


class CORS(CORSMiddleware):
    """:class:`CORSMiddleware` that says nothing to an origin it does not allow."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=tuple(origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(request_headers["origin"]):
            return PlainTextResponse(
                "Disallowed CORS origin", status_code=400, headers={"Vary": "Origin"}
            )
        return super().preflight_response(request_headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is None or self.is_allowed_origin(origin):
            await super().send(message, send, request_headers)
            return
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)
