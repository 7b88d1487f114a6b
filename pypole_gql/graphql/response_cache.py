"""Whole responses of repeated anonymous GraphQL queries (and REST Jolpica reads), kept as
long as their data.

:class:`ResponseCache` is ASGI middleware for the GraphQL endpoint, in front of the router
(a hit costs no routing). A request it may answer from the cache is one that:

* has no ``Authorization`` header (a signed-in user's answer is never shared);
* is a single GraphQL request (no batch) sent as ``GET ?query=`` or ``POST`` with an
  ``application/json`` body of at most :data:`MAX_REQUEST_BYTES`, without ``extensions``
  and without asking for a streamed (multipart or event-stream) answer (a persisted query
  arrives here as a plain one: :class:`~pypole_gql.graphql.persisted.PersistedQueries`,
  in front, puts the text in and takes the extension out);
* selects a ``query`` operation. The operation type comes from the server's own parse of
  the query text (remembered per text), never from anything the client says about it.

Anything else goes to the view untouched. For an eligible request the key is a hash of
the schema's fingerprint (its SDL, the introspection setting and the app version), the
normalised query text (parsed and printed again, so spacing and comments do not matter),
the operation name and the variables as canonical JSON.

On a miss the view runs as usual while the layer copies its answer. The answer is kept
only when it is a 200 ``application/json`` body with ``data`` and no ``errors``, and the
execution read cached upstream data (:class:`~pypole_gql.logging.RequestStats` collects
each value's fresh-until time from :meth:`Cache.get_or_load`) of which none was served
stale. It is kept until the earliest of those fresh-until times, at most :data:`MAX_TTL`:
the response expires with the data under it. An answer built from no cached data is not
kept, since nothing says how long it stays true.

Entries live in a bounded in-process LRU and, when the app's cache is Redis, in Redis as
well (through :meth:`Cache.put` / :meth:`Cache.peek`), so every worker shares them. A hit
sends the stored bytes with the headers of the original answer; the layer sits inside the
rate limiter and the access log (``response_cache=hit``), so both still see the request.

HTTP caching (:mod:`pypole_gql.web.http_cache`): on a miss the view's answer is held until
complete, then sent with its caching headers. A kept answer carries a strong ``ETag`` (a
hash of its bytes, stored with it) and, over ``GET``, ``Cache-Control: public,
max-age=<seconds to its fresh-until>``; a request whose ``If-None-Match`` names the tag is
answered ``304`` with no body (hit or miss alike). Over ``POST``, answers not kept (errors,
no cached data under them) and anything passed on are ``no-store``, signed-in ones
``private, no-store``; every answer here has ``Vary: Accept, Authorization``.

:class:`RestResponseCache` applies the same rules to the REST shim's Jolpica routes
(``GET /api/v1/jolpica/...`` without ``Authorization``), keyed by the path and the query
parameters (sorted by name; repeated names keep their order, since the last one wins).
It keeps 200 JSON answers byte for byte, whatever their shape. With Redis its entries
live in Redis alone (no in-process copy), so the shim follows Redis as the data cache does.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final
from urllib.parse import parse_qsl

import orjson
from graphql import OperationDefinitionNode, OperationType, parse, print_ast
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry import Schema
from strawberry.printer import print_schema

from pypole_gql.cache import Cache
from pypole_gql.graphql.schema import MAX_TOKENS
from pypole_gql.logging import RequestStats, get_logger, request_stats_var
from pypole_gql.resources import Resources
from pypole_gql.web.http_cache import (
    NO_STORE,
    PRIVATE,
    VARY,
    etag_for,
    matches,
    not_modified_headers,
    public,
    with_cache_control,
)

__all__ = [
    "MAX_REQUEST_BYTES",
    "MAX_TTL",
    "REST_PREFIXES",
    "ResponseCache",
    "ResponseCacheStats",
    "RestResponseCache",
]

log = get_logger("pypole.graphql.response_cache")

#: Bumped when the stored format or the key changes.
FORMAT: Final = "gqlr2"
#: Larger request bodies go to the view without being read here.
MAX_REQUEST_BYTES: Final = 16 * 1024
#: Larger answers are sent but not kept.
MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
#: The longest a response is kept, whatever its data says (seconds).
MAX_TTL: Final = 24 * 3600
#: Answers whose data expires sooner than this are not worth keeping (seconds).
MIN_TTL: Final = 0.05
FRONT_MAX_ENTRIES: Final = 2048
FRONT_MAX_BYTES: Final = 64 * 1024 * 1024
#: Query texts whose parse (operation types, normalised digest) is remembered.
DOCUMENT_MEMO_ENTRIES: Final = 512

#: Raw requests whose key is remembered, and the largest one remembered.
RAW_MEMO_ENTRIES: Final = 1024
RAW_MEMO_MAX_BYTES: Final = 4096

_KEY_PREFIX: Final = "gql-response"
_REST_KEY_PREFIX: Final = "rest-response"
#: The REST routes whose anonymous GET answers :class:`RestResponseCache` keeps.
REST_PREFIXES: Final = ("/api/v1/jolpica/", "/api/v1/fastf1/")
_HEADER_COUNT: Final = struct.Struct(">I")
_JSON_MEDIA: Final = b"application/json"
_STREAMING_ACCEPT: Final = (b"multipart/mixed", b"text/event-stream")


@dataclass
class ResponseCacheStats:
    """Process-wide counters, for tests and benchmarks."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    #: Requests the cache did not look up (signed in, a mutation, a batch, ...).
    bypasses: int = 0
    #: Answers sent as 304 Not Modified (the client's ``If-None-Match`` named the entry).
    not_modified: int = 0


@dataclass(frozen=True, slots=True)
class _Document:
    """What the server itself learnt from parsing one query text."""

    digest: bytes
    operations: dict[str | None, OperationType]


@dataclass(frozen=True, slots=True)
class _Request:
    document: bytes
    operation_name: str | None
    variables: bytes


@dataclass(frozen=True, slots=True)
class _Entry:
    body: bytes
    #: The original answer's headers with a matching content-length, ready to send.
    headers: list[tuple[bytes, bytes]]
    fresh_until: float
    #: The answer's strong ``ETag`` (also among ``headers``).
    etag: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 64


def _encode_entry(body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    names = orjson.dumps([[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers])
    return _HEADER_COUNT.pack(len(names)) + names + body


def _decode_entry(data: bytes, fresh_until: float) -> _Entry | None:
    try:
        (size,) = _HEADER_COUNT.unpack_from(data)
        pairs = orjson.loads(data[_HEADER_COUNT.size : _HEADER_COUNT.size + size])
        headers = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in pairs]
    except (struct.error, orjson.JSONDecodeError, TypeError, ValueError):
        return None
    return _with_length(data[_HEADER_COUNT.size + size :], headers, fresh_until)


def _with_length(body: bytes, headers: list[tuple[bytes, bytes]], fresh_until: float) -> _Entry:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    kept.append((b"content-length", str(len(body)).encode()))
    etag = next((v for k, v in kept if k == b"etag"), None)
    return _Entry(body, kept, fresh_until, etag)


def _app_version() -> str:
    try:
        return metadata.version("pypole-gql")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"


def _schema_fingerprint(schema: Schema, introspection: bool) -> bytes:
    digest = hashlib.sha256()
    for part in (FORMAT, _app_version(), "introspection" if introspection else "closed"):
        digest.update(part.encode() + b"\0")
    digest.update(print_schema(schema).encode())
    return digest.digest()[:16]


def _parse_document(query: str) -> _Document | None:
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except Exception:
        # Syntax errors, too many tokens, too deep for the parser: the view answers them.
        return None
    operations: dict[str | None, OperationType] = {}
    found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for definition in found:
        if definition.name is not None:
            operations[definition.name.value] = definition.operation
    if len(found) == 1:
        operations[None] = found[0].operation
    digest = hashlib.blake2b(print_ast(document).encode(), digest_size=20).digest()
    return _Document(digest, operations)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first gives back the messages already read."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class _Capture:
    """Keeps the view's answer until it is complete (its caching headers depend on it),
    then :meth:`release` sends it; one over :data:`MAX_RESPONSE_BYTES` is sent on as it
    comes (``no-store``) and not kept."""

    def __init__(self, send: Send, *, signed_in: bool = False) -> None:
        self._send = send
        self._signed_in = signed_in
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False
        self.too_big = False
        #: Whether the answer is still held here (not a byte sent yet).
        self.holding = True
        self._start: Message | None = None

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if not self.holding:
            await self._send(message)
            return
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
            self._start = message
            return
        if kind != "http.response.body":
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        self.size += len(body)
        more = message.get("more_body", False)
        if not more:
            self.complete = True
        if self.size <= MAX_RESPONSE_BYTES:
            self.chunks.append(body)
            return
        # Too big to keep: send what is held and the rest as it comes.
        self.too_big = True
        held = b"".join(self.chunks)
        self.chunks.clear()
        await self.release(self.not_kept_headers())
        await self._send({"type": "http.response.body", "body": held + body, "more_body": more})

    def not_kept_headers(self) -> list[tuple[bytes, bytes]]:
        return with_cache_control(self.headers, PRIVATE if self._signed_in else NO_STORE)

    async def release(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Send the held answer with ``headers`` (its body unless it is too big)."""
        if not self.holding:
            return
        self.holding = False
        if self._start is None:
            return
        await self._send({**self._start, "headers": headers})
        if not self.too_big:
            body = b"".join(self.chunks)
            await self._send({"type": "http.response.body", "body": body})


def _adding_cache_control(send: Send, value: bytes) -> Send:
    """``send`` adding ``Cache-Control: value`` (unless set) and ``Vary`` to the answer."""

    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = with_cache_control(list(message.get("headers", [])), value)
            message = {**message, "headers": headers}
        await send(message)

    return adding


def _signed_in(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope["headers"])


class _CachedResponses:
    """What both layers share: the entries (in-process front, Redis behind it), the rules
    for keeping an answer, and answering from an entry."""

    app: ASGIApp

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        front_max_entries: int,
        front_max_bytes: int,
        front_with_redis: bool,
    ) -> None:
        self.stats = ResponseCacheStats()
        self._clock = clock
        # With Redis, whether entries are also kept in process (else Redis alone holds them).
        self._front_with_redis = front_with_redis
        self._front: OrderedDict[str, _Entry] = OrderedDict()
        self._front_bytes = 0
        self._front_max_entries = front_max_entries
        self._front_max_bytes = front_max_bytes

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Put the layer in front of ``app`` (a middleware factory for ``add_middleware``)."""
        self.app = app
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError  # each layer decides which requests it answers

    async def _bypass(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a request on, its answer marked as no cache's to keep (``private`` when
        signed in)."""
        self.stats.bypasses += 1
        value = PRIVATE if _signed_in(scope) else NO_STORE
        await self.app(scope, receive, _adding_cache_control(send, value))

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, key: str, if_none_match: bytes | None
    ) -> None:
        """Answer an eligible request from its entry, or run the app and maybe keep it."""
        stats = request_stats_var.get()
        token = None
        if stats is None:  # mounted without RequestContextMiddleware: collect anyway
            stats = RequestStats()
            token = request_stats_var.set(stats)
        try:
            resources: Resources = scope["app"].state.resources  # as get_resources() reads it
            cache = resources.cache
            entry = await self._lookup(cache, key)
            if entry is not None:
                self.stats.hits += 1
                stats.response_cache = "hit"
                await self._send_entry(send, entry, scope["method"] == "GET", if_none_match)
                return
            self.stats.misses += 1
            stats.response_cache = "miss"
            await self._execute(scope, receive, send, stats, cache, key, if_none_match)
        finally:
            if token is not None:
                request_stats_var.reset(token)

    def _storable(self, body: bytes) -> bool:
        """Whether a complete 200 JSON answer may be kept (beyond the common rules)."""
        return True

    async def _send_entry(
        self, send: Send, entry: _Entry, get: bool, if_none_match: bytes | None
    ) -> None:
        """A kept answer: over GET public for as long as its data is fresh, with its
        ``ETag`` (a 304 when ``If-None-Match`` names it); over POST ``no-store``."""
        if not get:
            headers = [*entry.headers, (b"cache-control", NO_STORE), (b"vary", VARY)]
        else:
            max_age = public(entry.fresh_until - self._clock())
            headers = [*entry.headers, (b"cache-control", max_age), (b"vary", VARY)]
            if (
                if_none_match is not None
                and entry.etag is not None
                and matches(if_none_match, entry.etag)
            ):
                self.stats.not_modified += 1
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": not_modified_headers(headers),
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})

    # -- lookup and store ----------------------------------------------------------------

    def _uses_front(self, cache: Cache) -> bool:
        return self._front_with_redis or not cache.store.distributed

    async def _lookup(self, cache: Cache, key: str) -> _Entry | None:
        front = self._uses_front(cache)
        if front:
            entry = self._front.get(key)
            if entry is not None:
                if self._clock() < entry.fresh_until:
                    self._front.move_to_end(key)
                    return entry
                self._front_drop(key)
        if not cache.store.distributed:
            return None
        found = await cache.peek(key)
        if found is None:
            return None
        entry = _decode_entry(*found)
        if entry is None:
            log.warning("response_cache.corrupt_entry", key=key)
            return None
        if front:
            self._front_put(key, entry)
        return entry

    async def _execute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        stats: RequestStats,
        cache: Cache,
        key: str,
        if_none_match: bytes | None,
    ) -> None:
        reads, stale = stats.data_reads, stats.stale_reads
        before = stats.data_fresh_until
        stats.data_fresh_until = None
        capture = _Capture(send)
        try:
            await self.app(scope, receive, capture)
        finally:
            fresh_until = stats.data_fresh_until
            if before is not None and (fresh_until is None or before < fresh_until):
                stats.data_fresh_until = before
        entry = self._kept(capture, stats, reads, stale, fresh_until)
        if entry is None:
            await capture.release(capture.not_kept_headers())
            return
        capture.holding = False
        if self._uses_front(cache):
            self._front_put(key, entry)
        self.stats.stores += 1
        if cache.store.distributed:
            ttl = entry.fresh_until - self._clock()
            await cache.put(key, _encode_entry(entry.body, entry.headers), ttl=ttl)
        await self._send_entry(send, entry, scope["method"] == "GET", if_none_match)

    def _kept(
        self,
        capture: _Capture,
        stats: RequestStats,
        reads: int,
        stale: int,
        fresh_until: float | None,
    ) -> _Entry | None:
        """The entry to keep for a captured answer, or None when it is not kept."""
        if not capture.holding:
            return None
        if stats.data_reads == reads or stats.stale_reads != stale or fresh_until is None:
            return None
        now = self._clock()
        ttl = min(fresh_until - now, MAX_TTL)
        if ttl < MIN_TTL or not self._keepable(capture):
            return None
        body = b"".join(capture.chunks)
        if not self._storable(body):
            return None
        headers = [*capture.headers, (b"etag", etag_for(body))]
        return _with_length(body, headers, now + ttl)

    @staticmethod
    def _keepable(capture: _Capture) -> bool:
        if capture.status != 200 or not capture.complete or capture.too_big:
            return False
        json = False
        for name, value in capture.headers:
            lowered = name.lower()
            if lowered == b"set-cookie":
                return False
            if lowered == b"content-type":
                json = value.split(b";", 1)[0].strip().lower() == _JSON_MEDIA
        return json

    def _front_put(self, key: str, entry: _Entry) -> None:
        if entry.size > self._front_max_bytes:
            return
        self._front_drop(key)
        self._front[key] = entry
        self._front_bytes += entry.size
        while (
            len(self._front) > self._front_max_entries or self._front_bytes > self._front_max_bytes
        ):
            _, old = self._front.popitem(last=False)
            self._front_bytes -= old.size

    def _front_drop(self, key: str) -> None:
        old = self._front.pop(key, None)
        if old is not None:
            self._front_bytes -= old.size

    def clear(self) -> None:
        """Forget the in-process entries (Redis entries expire on their own)."""
        self._front.clear()
        self._front_bytes = 0


def _remember(memo: OrderedDict[tuple[str, bytes], str], raw: tuple[str, bytes], key: str) -> None:
    if len(raw[1]) <= RAW_MEMO_MAX_BYTES:
        memo[raw] = key
        if len(memo) > RAW_MEMO_ENTRIES:
            memo.popitem(last=False)


class ResponseCache(_CachedResponses):
    """ASGI middleware answering repeated anonymous queries to ``path`` (the GraphQL
    endpoint) from the cache; see the module docstring. Everything else, and every
    request it does not answer, goes on to the app it wraps (the router, then the view).

    Built in ``create_app`` and installed with ``app.add_middleware(layer.wrap)`` inside
    the rate limiter; ``app.state.response_cache`` keeps a handle on it. A hit is sent
    from here, without the router.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        introspection: bool,
        path: str = "/graphql",
        clock: Callable[[], float] = time.time,
        front_max_entries: int = FRONT_MAX_ENTRIES,
        front_max_bytes: int = FRONT_MAX_BYTES,
    ) -> None:
        """``clock`` must be the app cache's clock: fresh-until times come from it."""
        super().__init__(
            clock=clock,
            front_max_entries=front_max_entries,
            front_max_bytes=front_max_bytes,
            front_with_redis=True,
        )
        self._path = path
        self._schema = schema
        self._introspection = introspection
        self._fingerprint: bytes | None = None
        self._documents: OrderedDict[str, _Document | None] = OrderedDict()
        # Raw request (method, query string or body) -> key: a repeat skips JSON parsing,
        # canonical variables and hashing. Oldest first out; never stale (keys only).
        self._keys: OrderedDict[tuple[str, bytes], str] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Other methods go on to the router, which answers them (405) as before.
        if (
            scope["type"] != "http"
            or scope["path"] != self._path
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        key, read, if_none_match = await self._eligible(scope, receive)
        if read:
            receive = _replaying(read, receive)
        if key is None:
            await self._bypass(scope, receive, send)
            return
        await self._answer(scope, receive, send, key, if_none_match)

    def _storable(self, body: bytes) -> bool:
        # Only complete answers: data and no errors (a partial answer is an error answer).
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return isinstance(answer, dict) and set(answer) == {"data"} and answer["data"] is not None

    # -- which requests ------------------------------------------------------------------

    async def _eligible(
        self, scope: Scope, receive: Receive
    ) -> tuple[str | None, list[Message], bytes | None]:
        """The key to look up (None: pass it on), the messages read to find out and the
        request's ``If-None-Match``."""
        method = scope["method"]
        if method not in ("GET", "POST"):
            return None, [], None
        content_type = b""
        length = -1
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None, [], None
            if name == b"accept" and any(s in value for s in _STREAMING_ACCEPT):
                return None, [], None
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"if-none-match":
                if_none_match = value
        if method == "GET":
            raw: bytes = scope["query_string"]
            key = self._key_for("GET", raw, lambda: self._from_params(QueryParams(raw)))
            return key, [], if_none_match
        media = content_type.split(b";", 1)[0].strip().lower()
        if media != _JSON_MEDIA or not 0 < length <= MAX_REQUEST_BYTES:
            return None, [], None
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return None, messages, None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                return None, messages, None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        return self._key_for("POST", body, lambda: self._from_body(body)), messages, None

    def _key_for(
        self, method: str, raw: bytes, request: Callable[[], _Request | None]
    ) -> str | None:
        """The key of an eligible request, remembered per raw request for repeats."""
        memo = self._keys
        found = memo.get((method, raw))
        if found is not None:
            return found
        parsed = request()
        if parsed is None:
            return None
        key = self._key(parsed)
        _remember(memo, (method, raw), key)
        return key

    def _from_body(self, body: bytes) -> _Request | None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("extensions"):
            return None
        return self._request(data.get("query"), data.get("operationName"), data.get("variables"))

    def _from_params(self, params: QueryParams) -> _Request | None:
        if "extensions" in params:
            return None
        variables: Any = None
        if "variables" in params:
            try:
                variables = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return None
            if variables is None:
                return None
        return self._request(params.get("query"), params.get("operationName"), variables)

    def _request(self, query: Any, operation_name: Any, variables: Any) -> _Request | None:
        if not isinstance(query, str) or not query:
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return None
        document = self._document(query)
        # An empty name selects nothing (an error in the view), unlike a missing one.
        if document is None or document.operations.get(operation_name) is not OperationType.QUERY:
            return None
        try:
            canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return _Request(document.digest, operation_name, canonical)

    def _document(self, query: str) -> _Document | None:
        memo = self._documents
        if query in memo:
            memo.move_to_end(query)
            return memo[query]
        document = _parse_document(query)
        memo[query] = document
        if len(memo) > DOCUMENT_MEMO_ENTRIES:
            memo.popitem(last=False)
        return document

    def _key(self, request: _Request) -> str:
        if self._fingerprint is None:
            self._fingerprint = _schema_fingerprint(self._schema, self._introspection)
        digest = hashlib.blake2b(self._fingerprint, digest_size=20)
        digest.update(request.document)
        name = request.operation_name
        digest.update(b"\0" if name is None else b"\1" + name.encode() + b"\0")
        digest.update(request.variables)
        return f"{_KEY_PREFIX}:{digest.hexdigest()}"


class RestResponseCache(_CachedResponses):
    """ASGI middleware answering anonymous ``GET`` requests under :data:`REST_PREFIXES`
    from the cache; see the module docstring. Everything else passes through untouched.

    Installed like :class:`ResponseCache`; ``app.state.rest_response_cache``.
    """

    def __init__(
        self,
        *,
        prefixes: tuple[str, ...] = REST_PREFIXES,
        clock: Callable[[], float] = time.time,
        front_max_entries: int = FRONT_MAX_ENTRIES,
        front_max_bytes: int = FRONT_MAX_BYTES,
    ) -> None:
        """``clock`` must be the app cache's clock: fresh-until times come from it."""
        # With Redis, entries live there alone: a REST read then behaves as the data cache
        # does (a dead Redis means fresh loads, a restarted one fills again), one Redis read
        # instead of decoding and re-encoding the data.
        super().__init__(
            clock=clock,
            front_max_entries=front_max_entries,
            front_max_bytes=front_max_bytes,
            front_with_redis=False,
        )
        self._prefixes = prefixes
        self._fingerprint = hashlib.sha256(f"{FORMAT}\0{_app_version()}\0rest".encode()).digest()
        # (path, raw query string) -> key, as for GraphQL requests.
        self._keys: OrderedDict[tuple[str, bytes], str] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(self._prefixes)
        ):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self._bypass(scope, receive, send)
                return
            if name == b"if-none-match":
                if_none_match = value
        key = self._key_for(scope["path"], scope["query_string"])
        await self._answer(scope, receive, send, key, if_none_match)

    def _key_for(self, path: str, query: bytes) -> str:
        raw = (path, query)
        found = self._keys.get(raw)
        if found is not None:
            return found
        # Sorted by name only: the order of a repeated name's values is kept (the handler
        # reads the last one).
        params = sorted(parse_qsl(query.decode("latin-1"), keep_blank_values=True), key=_name)
        digest = hashlib.blake2b(self._fingerprint, digest_size=20)
        digest.update(orjson.dumps([path, params]))
        key = f"{_REST_KEY_PREFIX}:{digest.hexdigest()}"
        _remember(self._keys, raw, key)
        return key


def _name(param: tuple[str, str]) -> str:
    return param[0]
