"""Which requests are charged, and the pure ASGI middleware that charges them."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pypole_gql.errors import render_for_path
from pypole_gql.logging import get_logger, request_id_var
from pypole_gql.ratelimit.decision import Decision
from pypole_gql.ratelimit.limiter import RateLimiter

log = get_logger("pypole.ratelimit")

LIMITED_PREFIXES = ("/graphql", "/api")
AUTH_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register"})
#: Never charged on GET/HEAD: the docs pages and the document they render, and the health
#: route (a load balancer's probe must not lock itself, or a dashboard, out).
EXEMPT_PATHS = frozenset(
    {"/api/v1/docs", "/api/v1/redoc", "/api/v1/openapi.json", "/api/v1/health"}
)
GRAPHQL_PREFIX = "/graphql"


def get_limiter(conn: HTTPConnection) -> RateLimiter:
    """The app's limiter (``Resources.limiter``); raises if the lifespan has not built it."""
    return _limiter_of(conn.scope)


def _limiter_of(scope: Scope) -> RateLimiter:
    resources = getattr(scope["app"].state, "resources", None)
    limiter = getattr(resources, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("no rate limiter: Resources.limiter is built in the app's lifespan")
    return limiter


_LIMITED_EXACT: Final = frozenset(LIMITED_PREFIXES)
_LIMITED_UNDER: Final = tuple(prefix + "/" for prefix in LIMITED_PREFIXES)


def _limited(path: str) -> bool:
    return path in _LIMITED_EXACT or path.startswith(_LIMITED_UNDER)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _is_preflight(scope: Scope) -> bool:
    """A CORS preflight: ``OPTIONS`` asking which method it may use (answered by the CORS
    middleware when it runs, by the router's 405 otherwise; charged in neither case)."""
    return (
        scope["method"] == "OPTIONS"
        and _header(scope, b"access-control-request-method") is not None
    )


def _is_graphiql_page(scope: Scope) -> bool:
    """A browser asking ``/graphql`` for GraphiQL's page: a GET with no ``query`` parameter
    that accepts HTML (Strawberry's own test for rendering the IDE)."""
    if scope["method"] not in ("GET", "HEAD") or scope["path"].rstrip("/") != GRAPHQL_PREFIX:
        return False
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if "query" in params:
        return False
    accept = (_header(scope, b"accept") or b"").decode("latin-1")
    return "text/html" in accept or "*/*" in accept


def charged(scope: Scope, *, graphiql: bool = True) -> bool:
    """Whether this request costs a hit: ``/graphql`` and ``/api`` requests do, except the
    docs pages (:data:`EXEMPT_PATHS`, GraphiQL's page when ``graphiql`` is on), the health
    route and CORS preflights. Their assets (``/static/docs``) are outside both prefixes."""
    path: str = scope["path"]
    if not _limited(path) or _is_preflight(scope):
        return False
    if scope["method"] in ("GET", "HEAD") and path.rstrip("/") in EXEMPT_PATHS:
        return False
    return not (graphiql and _is_graphiql_page(scope))


class RateLimitMiddleware:
    """Pure ASGI middleware charging ``/graphql`` and ``/api`` requests to the app's limiter.

    Add it inside :class:`~pypole_gql.middleware.RequestContextMiddleware` so the access log
    shows the client IP it resolves and the 429s it answers. ``graphiql``: whether the app
    serves GraphiQL's page on ``GET /graphql`` (then that page is not charged).
    """

    def __init__(
        self, app: ASGIApp, *, auth_paths: frozenset[str] = AUTH_PATHS, graphiql: bool = True
    ) -> None:
        self.app = app
        self.auth_paths = auth_paths
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not charged(scope, graphiql=self.graphiql):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limiter = _limiter_of(scope)
        auth = scope["method"] == "POST" and path.rstrip("/") in self.auth_paths
        try:
            decision = await limiter.hit(scope, auth=auth)
        except Exception:
            # The stores never fail by design; if they do, serve the request but say so loudly.
            log.exception("ratelimit.check_failed", path=path)
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await self.refuse(scope, send, decision)
            return
        headers = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = message.get("headers", ())
                for name, _ in existing:
                    # A handler that reported a stricter policy itself (AuthRateLimit) wins.
                    if len(name) == 9 and name.lower() == b"ratelimit":
                        break
                else:
                    message["headers"] = [*existing, *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def refuse(scope: Scope, send: Send, decision: Decision) -> None:
        """429 in the shape of the edge (:func:`~pypole_gql.errors.render_for_path`)."""
        rendered = render_for_path(scope["path"], decision.error(), request_id_var.get())
        await send(
            {"type": "http.response.start", "status": 429, "headers": rendered.raw_headers()}
        )
        await send({"type": "http.response.body", "body": rendered.body()})
