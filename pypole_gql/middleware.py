"""Request context: request id, one access-log line per request, and the last-resort error guard."""

from __future__ import annotations

import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pypole_gql.cache.freshness import freshness_var, track
from pypole_gql.errors import Internal, render_for_path
from pypole_gql.logging import RequestStats, get_logger, request_id_var, request_stats_var

log = get_logger("pypole.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


#: Random ids drawn from the system's generator at once (one ``getrandom`` call for as
#: many requests): see :func:`new_request_id`.
_IDS_PER_DRAW = 256
#: Byte maps setting a UUID's version (4) and variant (RFC 4122) bits.
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))
_drawn_ids: list[str] = []


def _forget_drawn_ids() -> None:
    # A forked worker must not hand out the ids its parent drew.
    _drawn_ids.clear()


os.register_at_fork(after_in_child=_forget_drawn_ids)


def _draw_ids() -> None:
    raw = bytearray(os.urandom(16 * _IDS_PER_DRAW))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    text = raw.hex()
    _drawn_ids.extend(text[i : i + 32] for i in range(0, len(text), 32))


def new_request_id() -> str:
    """A random id in the form of ``uuid.uuid4().hex``, for a fraction of its cost: the
    same 122 random bits from ``os.urandom``, drawn (and formatted) for many ids at once."""
    if not _drawn_ids:
        _draw_ids()
    return _drawn_ids.pop()


def request_id_for(incoming: str | None) -> str:
    """The request's id: the client's ``X-Request-ID`` when it is a sane one (1-128 of
    ``A-Za-z0-9._:-``), else a new random one."""
    return incoming if incoming and _VALID_REQUEST_ID.match(incoming) else new_request_id()


def client_ip(scope: Scope) -> str:
    """The client address as resolved for this request (the rate limiter may refine it)."""
    resolved = scope.get("state", {}).get("client_ip")
    if resolved:
        return str(resolved)
    client = scope.get("client")
    return client[0] if client else "unknown"


class RequestContextMiddleware:
    """Sets the request id, logs one line per request, and turns an escaped exception into a
    generic 500 that carries only the request id, in the shape of the edge it escaped from
    (GraphQL's ``errors`` under ``/graphql``, ``{"detail"}`` elsewhere)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = request_id_for(incoming)
        request_id_header = (b"x-request-id", request_id.encode())
        stats = RequestStats()
        id_token = request_id_var.set(request_id)
        stats_token = request_stats_var.set(stats)
        freshness, freshness_token = track()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception(
                "request.failed", method=scope["method"], path=scope["path"], request_id=request_id
            )
            if not response_started:
                rendered = render_for_path(scope["path"], Internal(), request_id)
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": rendered.status,
                        "headers": rendered.raw_headers(),
                    }
                )
                await send({"type": "http.response.body", "body": rendered.body()})
        finally:
            path = scope["path"]
            if not path.startswith("/health"):
                log.info(
                    "request.completed",
                    method=scope["method"],
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    client_ip=client_ip(scope),
                    user_id=stats.user_id,
                    operation=stats.operation_name,
                    cache_hits=stats.cache_hits,
                    cache_misses=stats.cache_misses,
                    upstream_calls=stats.upstream_calls,
                    response_cache=freshness.response_cache,
                    **stats.extra,
                )
            request_id_var.reset(id_token)
            request_stats_var.reset(stats_token)
            freshness_var.reset(freshness_token)
