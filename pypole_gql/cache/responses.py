"""The whole-response layer: anonymous answers kept as long as the data under them.

The layers are ASGI middleware in front of the router (a hit costs no routing), inside
the rate limiter and the access log (``response_cache=hit`` in
:class:`~pypole_gql.cache.freshness.Freshness`), so both still see the request. What a
layer answers, and under which key, is its key strategy's:
:class:`~pypole_gql.cache.graphql_keys.ResponseCache` (GraphQL documents) and
:class:`~pypole_gql.cache.rest_keys.RestResponseCache` (REST path and query). This module
holds what they share.

On a miss the app runs as usual while the layer holds its answer. The answer is kept only
when it is a complete 200 ``application/json`` body (without ``Set-Cookie``, and as the
strategy wants it) and the request read cached data (noted in the request's
:class:`~pypole_gql.cache.freshness.Freshness` by :meth:`Cache.get_or_load` and the
services) of which none was served stale. It is kept until the earliest of those
fresh-until times, at most :data:`MAX_TTL`: the response expires with the data under it.
An answer built from no cached data is not kept, since nothing says how long it stays true.

Entries live in a bounded in-process LRU (:class:`~pypole_gql.cache.memo.ExpiringLRU`)
and, when the app's cache is Redis, in Redis (through :meth:`Cache.put` /
:meth:`Cache.peek`) so every worker shares them; a strategy may keep them in Redis alone.
A hit sends the stored bytes with the headers of the original answer, prepared when the
entry is stored. A hit held in process is most often answered before the middleware chain
by the app's cache-hit front (``pypole_gql.front``), through :meth:`ResponseLayer.held`
and :meth:`ResponseLayer.answer_of`: the same entry, the same answer.

HTTP caching (:mod:`pypole_gql.web.http_cache`): a kept answer carries a strong ``ETag``
(a hash of its bytes, stored with it) and, over ``GET``, ``Cache-Control: public,
max-age=<seconds to its fresh-until>``; a request whose ``If-None-Match`` names the tag is
answered ``304`` with no body (hit or miss alike). Over ``POST``, answers not kept (errors,
no cached data under them) and anything passed on are ``no-store``, signed-in ones
``private, no-store``; every answer here has ``Vary: Accept, Authorization``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from operator import attrgetter
from typing import Final

import orjson
from cachetools import FIFOCache
from starlette.types import ASGIApp, Receive, Scope, Send

from pypole_gql.cache.capture import Capture, adding_cache_control
from pypole_gql.cache.freshness import Freshness, freshness_var
from pypole_gql.cache.loader import Cache
from pypole_gql.cache.memo import ExpiringLRU
from pypole_gql.logging import get_logger
from pypole_gql.web.http_cache import (
    NO_STORE,
    PRIVATE,
    VARY,
    etag_for,
    matches,
    not_modified_headers,
    public,
)

__all__ = [
    "FORMAT",
    "MAX_TTL",
    "CachedResponse",
    "KeyMemo",
    "ResponseCacheStats",
    "ResponseLayer",
    "app_version",
]

log = get_logger("pypole.cache.responses")

#: Bumped when the stored format or the key changes.
FORMAT: Final = "gqlr2"
#: The longest a response is kept, whatever its data says (seconds).
MAX_TTL: Final = 24 * 3600
#: Answers whose data expires sooner than this are not worth keeping (seconds).
MIN_TTL: Final = 0.05
FRONT_MAX_ENTRIES: Final = 2048
FRONT_MAX_BYTES: Final = 64 * 1024 * 1024
#: Raw requests whose key is remembered, and the largest one remembered.
RAW_MEMO_ENTRIES: Final = 1024
RAW_MEMO_MAX_BYTES: Final = 4096

_HEADER_COUNT: Final = struct.Struct(">I")
_JSON_MEDIA: Final = b"application/json"

Headers = list[tuple[bytes, bytes]]


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
class CachedResponse:
    """One kept answer, with the header lists a hit sends prepared when it is stored."""

    body: bytes
    #: The original answer's headers with a matching content-length (and its ``ETag``).
    headers: Headers
    fresh_until: float
    #: The answer's strong ``ETag`` (also among ``headers``).
    etag: bytes | None = None
    #: Bytes accounted to the entry in the in-process front.
    size: int = field(init=False)
    #: All the headers of an answer over POST (``no-store``).
    post_headers: Headers = field(init=False)
    #: The headers of a 304 before its ``Cache-Control`` and ``Vary``.
    not_modified_headers: Headers = field(init=False)
    #: Whether the answer reported a rate-limit policy of its own (the limiter then adds
    #: none to its 200s).
    has_rate_limit: bool = field(init=False)
    #: The header lists of a GET hit, worked out once per second of ``max-age``:
    #: ``[(max_age, 200's headers, 304's headers)]`` (see ResponseLayer.shared_answer).
    get_answers: list[tuple[bytes, Headers, Headers]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        size = len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 64
        object.__setattr__(self, "size", size)
        post = [*self.headers, (b"cache-control", NO_STORE), (b"vary", VARY)]
        object.__setattr__(self, "post_headers", post)
        object.__setattr__(self, "not_modified_headers", not_modified_headers(self.headers))
        limited = any(name.lower() == b"ratelimit" for name, _ in self.headers)
        object.__setattr__(self, "has_rate_limit", limited)
        object.__setattr__(self, "get_answers", [(b"", [], [])])

    def get_headers(self, max_age: bytes) -> Headers:
        """The headers of an answer over GET with ``Cache-Control: max_age``."""
        return [*self.headers, (b"cache-control", max_age), (b"vary", VARY)]


def _encode_entry(body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    names = orjson.dumps([[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers])
    return _HEADER_COUNT.pack(len(names)) + names + body


def _decode_entry(data: bytes, fresh_until: float) -> CachedResponse | None:
    try:
        (size,) = _HEADER_COUNT.unpack_from(data)
        pairs = orjson.loads(data[_HEADER_COUNT.size : _HEADER_COUNT.size + size])
        headers = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in pairs]
    except (struct.error, orjson.JSONDecodeError, TypeError, ValueError):
        return None
    return _with_length(data[_HEADER_COUNT.size + size :], headers, fresh_until)


def _with_length(body: bytes, headers: Headers, fresh_until: float) -> CachedResponse:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    kept.append((b"content-length", str(len(body)).encode()))
    etag = next((v for k, v in kept if k == b"etag"), None)
    return CachedResponse(body, kept, fresh_until, etag)


def _signed_in(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope["headers"])


class ResponseLayer:
    """What both layers share: the entries (in-process front, Redis behind it), the rules
    for keeping an answer, and answering from an entry.

    Inspection, for tests and the bench: :attr:`stats`, :meth:`entries`, :meth:`clear`.
    """

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
        self._front: ExpiringLRU[str, CachedResponse] = ExpiringLRU(
            max_entries=front_max_entries,
            max_bytes=front_max_bytes,
            expires=attrgetter("fresh_until"),
            size=attrgetter("size"),
            clock=clock,
        )

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
        await self.app(scope, receive, adding_cache_control(send, value))

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, key: str, if_none_match: bytes | None
    ) -> None:
        """Answer an eligible request from its entry, or run the app and maybe keep it."""
        fresh = freshness_var.get()
        token = None
        if fresh is None:  # mounted without RequestContextMiddleware: collect anyway
            fresh = Freshness()
            token = freshness_var.set(fresh)
        try:
            cache: Cache = scope["app"].state.resources.cache  # as get_resources() reads it
            entry = await self._lookup(cache, key)
            if entry is not None:
                self.stats.hits += 1
                fresh.response_cache = "hit"
                await self._send_entry(send, entry, scope["method"] == "GET", if_none_match)
                return
            self.stats.misses += 1
            fresh.response_cache = "miss"
            await self._execute(scope, receive, send, fresh, cache, key, if_none_match)
        finally:
            if token is not None:
                freshness_var.reset(token)

    def _storable(self, body: bytes) -> bool:
        """Whether a complete 200 JSON answer may be kept (beyond the common rules)."""
        return True

    async def _send_entry(
        self, send: Send, entry: CachedResponse, get: bool, if_none_match: bytes | None
    ) -> None:
        status, headers, body = self.answer_of(entry, get, if_none_match)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def answer_of(
        self, entry: CachedResponse, get: bool, if_none_match: bytes | None
    ) -> tuple[int, Headers, bytes]:
        """Status, headers (a list of its own: a middleware further out may add to it) and
        body of a kept answer: over GET public for as long as its data is fresh, with its
        ``ETag`` (a 304 when ``If-None-Match`` names it); over POST ``no-store``."""
        if not get:
            return 200, list(entry.post_headers), entry.body
        max_age = public(entry.fresh_until - self._clock())
        if (
            if_none_match is not None
            and entry.etag is not None
            and matches(if_none_match, entry.etag)
        ):
            self.stats.not_modified += 1
            headers = [*entry.not_modified_headers, (b"cache-control", max_age), (b"vary", VARY)]
            return 304, headers, b""
        return 200, entry.get_headers(max_age), entry.body

    def shared_answer(
        self, entry: CachedResponse, get: bool, if_none_match: bytes | None
    ) -> tuple[int, Headers, bytes]:
        """:meth:`answer_of` with a header list shared by the hits of the same second, not
        to be changed: add to it by concatenation (the cache-hit front's answer)."""
        if not get:
            return 200, entry.post_headers, entry.body
        max_age = public(entry.fresh_until - self._clock())
        answers = entry.get_answers
        kept = answers[0]
        if kept[0] != max_age:
            control = (b"cache-control", max_age)
            kept = (
                max_age,
                [*entry.headers, control, (b"vary", VARY)],
                [*entry.not_modified_headers, control, (b"vary", VARY)],
            )
            answers[0] = kept
        if (
            if_none_match is not None
            and entry.etag is not None
            and matches(if_none_match, entry.etag)
        ):
            self.stats.not_modified += 1
            return 304, kept[2], b""
        return 200, kept[1], entry.body

    # -- lookup and store ----------------------------------------------------------------

    def _uses_front(self, cache: Cache) -> bool:
        return self._front_with_redis or not cache.store.distributed

    def held(self, cache: Cache, key: str) -> CachedResponse | None:
        """The fresh entry under ``key`` in the in-process front (None when there is none,
        or when this layer keeps its entries in Redis alone): no await, no Redis."""
        return self._front.get(key) if self._uses_front(cache) else None

    async def _lookup(self, cache: Cache, key: str) -> CachedResponse | None:
        front = self._uses_front(cache)
        if front:
            entry = self._front.get(key)
            if entry is not None:
                return entry
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
            self._front.put(key, entry)
        return entry

    async def _execute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fresh: Freshness,
        cache: Cache,
        key: str,
        if_none_match: bytes | None,
    ) -> None:
        reads, stale = fresh.reads, fresh.stale
        before = fresh.until
        fresh.until = None
        capture = Capture(send)
        try:
            await self.app(scope, receive, capture)
        finally:
            fresh_until = fresh.until
            if before is not None and (fresh_until is None or before < fresh_until):
                fresh.until = before
        entry = self._kept(capture, fresh, reads, stale, fresh_until)
        if entry is None:
            await capture.release(capture.not_kept_headers())
            return
        capture.holding = False
        if self._uses_front(cache):
            self._front.put(key, entry)
        self.stats.stores += 1
        if cache.store.distributed:
            ttl = entry.fresh_until - self._clock()
            await cache.put(key, _encode_entry(entry.body, entry.headers), ttl=ttl)
        await self._send_entry(send, entry, scope["method"] == "GET", if_none_match)

    def _kept(
        self,
        capture: Capture,
        fresh: Freshness,
        reads: int,
        stale: int,
        fresh_until: float | None,
    ) -> CachedResponse | None:
        """The entry to keep for a captured answer, or None when it is not kept."""
        if not capture.holding:
            return None
        if fresh.reads == reads or fresh.stale != stale or fresh_until is None:
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
    def _keepable(capture: Capture) -> bool:
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

    # -- inspection --------------------------------------------------------------------

    def entries(self) -> list[CachedResponse]:
        """The fresh entries held in process (with Redis alone, none)."""
        return self._front.values()

    def clear(self) -> None:
        """Forget the in-process entries (Redis entries expire on their own)."""
        self._front.clear()


def app_version() -> str:
    try:
        return metadata.version("pypole-gql")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"


class KeyMemo:
    """Keys per raw request (method or path, and query string or body): a repeat skips
    parsing and hashing. Oldest first out (a ``cachetools.FIFOCache``: a hit costs one
    lookup, and keys never go stale). Requests over :data:`RAW_MEMO_MAX_BYTES` are not
    remembered."""

    __slots__ = ("_memo",)

    def __init__(self, max_entries: int = RAW_MEMO_ENTRIES) -> None:
        self._memo: FIFOCache[tuple[str, bytes], str] = FIFOCache(maxsize=max_entries)

    def __len__(self) -> int:
        return len(self._memo)

    def get(self, raw: tuple[str, bytes]) -> str | None:
        try:
            return self._memo[raw]
        except KeyError:
            return None

    def put(self, raw: tuple[str, bytes], key: str) -> None:
        if len(raw[1]) <= RAW_MEMO_MAX_BYTES:
            self._memo[raw] = key
