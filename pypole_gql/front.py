"""The cache-hit front: an anonymous answer the response cache holds in process, sent in
one step before the app's middleware chain.

A repeated anonymous read is the server's most frequent request, and through the whole
stack (CORS, request context, rate limiter, persisted queries, the response cache, each a
middleware wrapping ``send``) it cost four times what a plain endpoint sending the same
bytes costs. :class:`CacheHitFront` sits in front of all of it (``create_app`` installs
it outside Starlette's own middleware) and, for a request it can answer, does what the
stack would do, in order, in one function:

1. the request id (an incoming ``X-Request-ID`` kept when sane, as
   :func:`~pypole_gql.middleware.request_id_for` decides);
2. the rate-limit charge, through the app's own :class:`~pypole_gql.ratelimit.RateLimiter`
   (with Redis, the shared windows: the front awaits it), with the same headers, and the
   same 429 (:meth:`RateLimitMiddleware.refuse`) when refused;
3. the entry's answer as the response layer makes it
   (:meth:`~pypole_gql.cache.responses.ResponseLayer.answer_of`: ``ETag``,
   ``Cache-Control`` to the entry's fresh-until, ``Vary``, 304 on ``If-None-Match``);
4. the CORS headers, by the app's own CORS rules (:class:`~pypole_gql.web.cors.CORS`)
   when ``PYPOLE_CORS_ORIGINS`` is set;
5. the access-log line ``request.completed`` with the fields the request context writes
   (``response_cache=hit``), rendered here and written to the JSON log's stream
   (:func:`~pypole_gql.logging.json_lines`); in console mode, or when the logs are
   captured, through the logger as the request context does.

It answers only what the stack would answer from the in-process front of a response
layer, with the key found without parsing: ``GET``/``POST /graphql`` whose raw query
string (after a persisted query's rewrite already worked out) or JSON body was seen
before (:meth:`ResponseCache.known_key`), and anonymous REST reads under the REST layer's
prefixes (:meth:`RestResponseCache.key_for`), all without ``Authorization``. Everything
else (a miss, a signed-in request, a stream, a body too big or not JSON, an APQ request not
resolved yet, the allow-list mode's unlisted texts, REST entries kept in Redis alone) goes
on to the stack unchanged, a body already read handed on as it was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Final

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pypole_gql.cache.graphql_keys import MAX_REQUEST_BYTES, ResponseCache
from pypole_gql.cache.responses import ResponseLayer
from pypole_gql.cache.rest_keys import REST_PREFIXES, RestResponseCache
from pypole_gql.errors import Internal, render_for_path
from pypole_gql.graphql.persisted import PersistedQueries
from pypole_gql.logging import get_logger, json_lines, redact_secrets, redact_text, request_id_var
from pypole_gql.middleware import client_ip, new_request_id, request_id_for
from pypole_gql.ratelimit import Decision, RateLimiter, RateLimitMiddleware, charged
from pypole_gql.web.body import read_messages, replay_messages
from pypole_gql.web.cors import CORS

__all__ = ["CacheHitFront"]

access_log = get_logger("pypole.access")
limit_log = get_logger("pypole.ratelimit")

_JSON_MEDIA: Final = b"application/json"
_STREAMING_ACCEPT: Final = (b"multipart/mixed", b"text/event-stream")
#: Access-line beginnings kept per (method, path); the memo starts again when full.
_LINE_PREFIXES: Final = 1024
#: The access line after its status, as structlog orders (and orjson writes) the fields
#: the request context logs: status, duration, client, the counters (none on a hit), the
#: response cache's answer, then ``event``, ``request_id``, ``level``, ``logger``,
#: ``timestamp``.
_LINE_REST: Final = (
    b'%d,"duration_ms":%b,"client_ip":%b,"user_id":null,"operation":null,"cache_hits":0,'
    b'"cache_misses":0,"upstream_calls":0,"response_cache":%b,"event":"request.completed",'
    b'"request_id":"%b","level":"info","logger":"pypole.access","timestamp":"%b"}'
)
_HIT: Final = b'"hit"'
#: The request headers a hit depends on (the others are not looked at).
_LOOKED_AT: Final = frozenset(
    {
        b"authorization",
        b"if-none-match",
        b"x-request-id",
        b"accept",
        b"content-type",
        b"content-length",
    }
)


class CacheHitFront:
    """Pure ASGI front answering cache hits; see the module docstring.

    ``graphql``, ``rest``: the app's response layers (None when the response cache is
    off); ``persisted``: its persisted-query layer; ``graphiql``: whether GraphiQL's page
    is served (then not charged, as :func:`~pypole_gql.ratelimit.charged` says);
    ``cors_origins``: ``PYPOLE_CORS_ORIGINS`` (empty: no CORS).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        graphql: ResponseCache | None,
        rest: RestResponseCache | None,
        persisted: PersistedQueries,
        graphiql: bool,
        cors_origins: Sequence[str] = (),
        graphql_path: str = "/graphql",
        rest_prefixes: tuple[str, ...] = REST_PREFIXES,
    ) -> None:
        self.app = app
        self._graphql = graphql
        self._rest = rest
        self._persisted = persisted
        self._graphiql = graphiql
        self._cors = CORS(app, origins=cors_origins) if cors_origins else None
        self._graphql_path = graphql_path
        self._rest_prefixes = rest_prefixes
        self._prefixes: dict[tuple[str, str], bytes] = {}
        self._addresses: dict[str, bytes] = {}
        #: Requests answered here (for tests and the bench).
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        method = scope["method"]
        path: str = scope["path"]
        graphql = path == self._graphql_path
        if not (
            (graphql and self._graphql is not None and method in ("GET", "POST"))
            or (
                not graphql
                and method == "GET"
                and self._rest is not None
                and path.startswith(self._rest_prefixes)
            )
        ):
            await self.app(scope, receive, send)
            return
        # One pass over the headers, looking only at the few a hit depends on.
        if_none_match = incoming_id = None
        content_type = b""
        length = -1
        for name, value in scope["headers"]:
            if name not in _LOOKED_AT:
                continue
            if name == b"authorization":
                await self.app(scope, receive, send)
                return
            if name == b"if-none-match":
                if_none_match = value
            elif name == b"x-request-id":
                if incoming_id is None:
                    incoming_id = value
            elif name == b"accept":
                if graphql and any(s in value for s in _STREAMING_ACCEPT):
                    await self.app(scope, receive, send)
                    return
            elif name == b"content-type":
                content_type = value
            else:  # content-length
                length = int(value) if value.isdigit() else -1
        layer: ResponseLayer
        read: list[Message] | None = None
        charge = True  # a GraphQL or REST read under /graphql or /api (see ratelimit.charged)
        get = method == "GET"
        if not graphql:
            assert self._rest is not None
            layer = self._rest
            key: str | None = self._rest.key_for(path, scope["query_string"])
        elif get:
            assert self._graphql is not None
            layer = self._graphql
            raw: bytes = scope["query_string"]
            rewritten = self._persisted.rewritten(raw)
            if rewritten is None:
                await self.app(scope, receive, send)
                return
            if rewritten is not raw:
                # Sent by hash: charged unless it reads as GraphiQL's page (no ``query``).
                charge = charged(scope, graphiql=self._graphiql)
            key = self._graphql.known_key("GET", rewritten)
        else:
            assert self._graphql is not None
            layer = self._graphql
            if_none_match = None  # over POST a hit is always sent whole
            media = content_type.split(b";", 1)[0].strip().lower()
            if media != _JSON_MEDIA or not 0 < length <= MAX_REQUEST_BYTES:
                await self.app(scope, receive, send)
                return
            body, messages = await read_messages(receive, MAX_REQUEST_BYTES)
            if body is None or self._persisted.persisted_only or b"persistedQuery" in body:
                await self.app(scope, replay_messages(messages, receive), send)
                return
            key = self._graphql.known_key("POST", body)
            read = messages
        resources = getattr(scope["app"].state, "resources", None)
        entry = None if key is None or resources is None else layer.held(resources.cache, key)
        limiter = getattr(resources, "limiter", None)
        if entry is None or not isinstance(limiter, RateLimiter):
            # A body read here is handed on as it was read.
            await self.app(scope, receive if read is None else replay_messages(read, receive), send)
            return

        # A hit: answered here as the stack would, charging ``limiter`` when ``charge``.
        request_id = (
            new_request_id()
            if incoming_id is None
            else request_id_for(incoming_id.decode("latin-1"))
        )
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        id_bytes = request_id.encode()
        id_header = (b"x-request-id", id_bytes)
        status = 500
        response_cache: str | None = None
        response_started = False
        try:
            tail: list[tuple[bytes, bytes]] | None = None  # the rate limiter's headers
            if charge:
                try:
                    found = limiter.hit_now_headers(scope)
                    if found is None:
                        decision = await limiter.hit(scope)
                        found = decision.raw_headers() if decision.allowed else decision
                except Exception:
                    # As the rate limiter's middleware: served, and said loudly.
                    limit_log.exception("ratelimit.check_failed", path=path)
                else:
                    if type(found) is not list:
                        assert isinstance(found, Decision)
                        status = 429
                        response_started = True
                        sender = self._sender(scope, send, id_header)
                        await RateLimitMiddleware.refuse(scope, sender, found)
                        return
                    tail = found
            layer.stats.hits += 1
            response_cache = "hit"
            self.answered += 1
            status, headers, body = layer.shared_answer(entry, get, if_none_match)
            # A handler's own policy wins (see RateLimitMiddleware); a 304 keeps none of it.
            if tail is None or (status != 304 and entry.has_rate_limit):
                tail = [id_header]
            else:
                tail.append(id_header)
            start = {"type": "http.response.start", "status": status, "headers": headers + tail}
            response_started = True
            if self._cors is not None:
                await self._cors.send(start, send, Headers(scope=scope))
            else:
                await send(start)
            await send({"type": "http.response.body", "body": body})
        except Exception:
            access_log.exception("request.failed", method=method, path=path, request_id=request_id)
            if not response_started:
                status = 500
                rendered = render_for_path(path, Internal(), request_id)
                await self._sender(scope, send, id_header)(
                    {
                        "type": "http.response.start",
                        "status": rendered.status,
                        "headers": rendered.raw_headers(),
                    }
                )
                await send({"type": "http.response.body", "body": rendered.body()})
        finally:
            lines = json_lines()
            if lines is None:
                self._log(scope, status, started, response_cache)
            else:
                prefix = self._prefixes.get((method, path))
                if prefix is None:
                    prefix = self._prefix(method, path)
                address = state.get("client_ip") or client_ip(scope)
                rendered_ip = self._addresses.get(address)
                if rendered_ip is None:
                    rendered_ip = self._address(address)
                lines.write(
                    prefix
                    + _LINE_REST
                    % (
                        status,
                        _milliseconds(perf_counter() - started),
                        rendered_ip,
                        _HIT if response_cache == "hit" else b"null",
                        # A new id is hex; a client's may hold anything the id's alphabet
                        # allows.
                        id_bytes
                        if incoming_id is None
                        else orjson.dumps(redact_text(request_id))[1:-1],
                        lines.stamp.timestamp_bytes(),
                    )
                )
            request_id_var.reset(token)

    def _sender(self, scope: Scope, send: Send, id_header: tuple[bytes, bytes]) -> Send:
        """``send`` doing to an answer's first message what the request context (the
        request id) and CORS do to it, for the answers not sent from an entry."""
        cors = self._cors

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), id_header]
                if cors is not None:
                    await cors.send(message, send, Headers(scope=scope))
                    return
            await send(message)

        return sender

    def _log(self, scope: Scope, status: int, started: float, response_cache: str | None) -> None:
        """The request context's ``request.completed`` line for this answer, through the
        logger (console mode, or the logs captured)."""
        access_log.info(
            "request.completed",
            method=scope["method"],
            path=scope["path"],
            status=status,
            duration_ms=round((perf_counter() - started) * 1000, 2),
            client_ip=scope["state"].get("client_ip") or client_ip(scope),
            user_id=None,
            operation=None,
            cache_hits=0,
            cache_misses=0,
            upstream_calls=0,
            response_cache=response_cache,
        )

    def _address(self, address: str) -> bytes:
        rendered = orjson.dumps(redact_text(address))
        if len(self._addresses) >= _LINE_PREFIXES:
            self._addresses.clear()
        self._addresses[address] = rendered
        return rendered

    def _prefix(self, method: str, path: str) -> bytes:
        """The line up to its status: the constant fields, redacted once."""
        fields = redact_secrets(None, "info", {"method": method, "path": path})
        prefix = orjson.dumps(fields)[:-1] + b',"status":'
        if len(self._prefixes) >= _LINE_PREFIXES:
            self._prefixes.clear()
        self._prefixes[(method, path)] = prefix
        return prefix


def _milliseconds(seconds: float) -> bytes:
    """``seconds`` in milliseconds as the request context logs them (rounded to 2 places,
    written as orjson writes that float: ``0.12``, ``0.1``, ``3.0``)."""
    hundredths = int(seconds * 100_000 + 0.5)
    if hundredths < _MILLISECONDS_KEPT:
        return _MILLISECONDS[hundredths]
    return _hundredths(hundredths)


def _hundredths(hundredths: int) -> bytes:
    whole, part = divmod(hundredths, 100)
    if part % 10:
        return b"%d.%02d" % (whole, part)
    return b"%d.%d" % (whole, part // 10)


#: The renderings of the durations up to 20 ms, a hit's usual ones, made once.
_MILLISECONDS_KEPT: Final = 2000
_MILLISECONDS: Final = [_hundredths(h) for h in range(_MILLISECONDS_KEPT)]
