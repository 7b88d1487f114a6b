"""The one way to cache upstream data: get-or-load with single flight and stale-on-error.

Every upstream answer the app keeps goes through :meth:`Cache.get_or_load`. The store is
Redis when ``PYPOLE_REDIS_URL`` is set and a bounded in-process LRU otherwise; the
behaviour is the same on both:

* keys are ``{namespace}:{version}:{key}``; bump ``version`` to drop every entry at once
  (for example when a domain encoding changes);
* concurrent misses for one key make one loader call, in one process (a shared task per
  key) and across processes sharing Redis (a short ``SET NX PX`` lock, kept alive while
  the loader runs, released by compare-and-delete);
* each value is stored with its fresh-until time and kept ``stale_grace`` seconds longer,
  so when the upstream fails an expired value can still be served;
* a failing store never fails a request: the call falls through to the loader and the
  store's circuit breaker (for Redis, the app's one :class:`~pypole_gql.redis_link.RedisLink`
  breaker) spares the following calls the store's timeout;
* every value a request gets reports its fresh-until time (and whether it was served
  stale) to the request's :class:`~pypole_gql.logging.RequestStats`, so a response built
  from cached data knows how long it stays true (the GraphQL response cache uses it).

Stored bytes are an envelope: an 18-byte header (format, flags, stored-at, fresh-until)
followed by the payload, zlib-compressed when the caller asked for it.
"""

from __future__ import annotations

import asyncio
import enum
import secrets
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Literal, TypeVar, overload

import orjson

from pypole_gql.cache_store import CacheStore, MemoryStore, RedisStore, StoreError
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import count_cache, get_logger, note_data_read
from pypole_gql.redis_link import Breaker, RedisLink

__all__ = [
    "DEFAULT_STALE_GRACE",
    "Cache",
    "CacheStats",
    "orjson_decode",
    "orjson_encode",
]

log = get_logger("pypole.cache")

T = TypeVar("T")
R = TypeVar("R")

#: Same default as ``Settings.stale_grace``; the app passes the setting explicitly.
DEFAULT_STALE_GRACE: Final = 7 * 24 * 3600

_HEADER: Final = struct.Struct(">BBdd")  # format, flags, stored_at, fresh_until
_FORMAT: Final = 1
_FLAG_ZLIB: Final = 0x01
_ZLIB_LEVEL: Final = 6
# zlib releases the GIL, so multi-megabyte FastF1 payloads are (de)compressed in a worker
# thread instead of stalling every other request on the event loop.
_THREAD_THRESHOLD: Final = 256 * 1024
# Waiters for another process's load poll with a growing delay within these bounds.
_POLL_MIN: Final = 0.02
_POLL_MAX: Final = 0.2
# A store that answers with errors (OOM on write) logs at most one cache.store_error line per
# interval (with a count of the lines it stands for), not one per request. A store that is
# away is reported by its breaker (redis.degraded, redis.recovered).
_USER: Final = "cache"
_STORE_ERROR_LOG_INTERVAL: Final = 10.0


# Dataclasses and dates would be written happily by orjson but read back as dicts and
# strings: a hit would then return another type than the miss the loader answered. The
# default codec refuses them, so a missing domain codec fails on the first call instead.
_STRICT_JSON: Final = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def orjson_encode(value: Any) -> bytes:
    """Default encoder, for JSON-shaped values (dict, list, str, int, float, bool, None).

    Raises TypeError for dataclasses and dates: pass an ``encode``/``decode`` pair for
    those. Tuples are accepted and come back as lists, enums and UUIDs as their values.
    """
    return orjson.dumps(value, option=_STRICT_JSON)


def orjson_decode(data: bytes) -> Any:
    """Default decoder, the inverse of :func:`orjson_encode`."""
    return orjson.loads(data)


@dataclass
class CacheStats:
    """Process-wide counters of one :class:`Cache`, for tests, benchmarks and debugging."""

    hits: int = 0
    misses: int = 0
    stale_served: int = 0
    loads: int = 0
    load_errors: int = 0
    store_errors: int = 0


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING: Final = _Missing.MISSING


@dataclass(frozen=True, slots=True)
class _Entry:
    stored_at: float
    fresh_until: float
    compressed: bool
    body: bytes


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a load in flight gives every waiter: the payload and how fresh it is."""

    payload: bytes
    fresh_until: float
    stale: bool = False


def _pack(body: bytes, *, stored_at: float, fresh_until: float, compressed: bool) -> bytes:
    flags = _FLAG_ZLIB if compressed else 0
    return _HEADER.pack(_FORMAT, flags, stored_at, fresh_until) + body


def _unpack(data: bytes) -> _Entry | None:
    if len(data) < _HEADER.size:
        return None
    fmt, flags, stored_at, fresh_until = _HEADER.unpack_from(data)
    if fmt != _FORMAT:
        return None
    return _Entry(stored_at, fresh_until, bool(flags & _FLAG_ZLIB), data[_HEADER.size :])


async def _maybe_in_thread(func: Callable[[bytes], bytes], data: bytes) -> bytes:
    if len(data) >= _THREAD_THRESHOLD:
        return await asyncio.to_thread(func, data)
    return func(data)


def _check_name(what: str, value: str) -> None:
    # ':' separates the key's parts, so it cannot appear inside namespace or version.
    if not value or ":" in value or any(c.isspace() for c in value):
        raise ValueError(f"cache {what} must be non-empty, without ':' or spaces: {value!r}")


class Cache:
    """get-or-load over a store: Redis when configured, an in-process TTL store otherwise.

    Build it with :meth:`create` in the app's lifespan and close it there. One instance is
    shared by all requests; it holds no per-request state.

    Errors: loader errors propagate unchanged (all waiters of one load get the same error),
    except that an error of a ``stale_on`` type is answered with the expired value when one
    is still held. Store errors never propagate.
    """

    def __init__(
        self,
        store: CacheStore,
        *,
        namespace: str = "pypole",
        version: str = "v1",
        stale_grace: int = DEFAULT_STALE_GRACE,
        stale_on: tuple[type[BaseException], ...] = (UpstreamUnavailable,),
        lock_ttl: float = 10.0,
        lock_wait: float = 60.0,
        breaker_cooldown: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wrap ``store``; prefer :meth:`create`, which also builds the store.

        ``stale_on``: loader error types answered with an expired value when one is held.
        ``UpstreamUnavailable`` covers the rate budget too as long as its error subclasses
        it; ``NotFound`` must not be listed (a stale answer would hide a real 404).
        ``lock_ttl``: lifetime of the cross-process load lock; the holder extends it every
        ``lock_ttl / 3`` seconds, so a dead holder blocks the others for at most this long.
        ``lock_wait``: how long a process waits for another's load before loading itself.
        ``breaker_cooldown``: after the store looks down, how long calls skip it (for a
        store without a breaker of its own; a Redis store's is its link's).
        ``clock``: wall-clock seconds; fresh-until times are compared across processes.
        """
        _check_name("namespace", namespace)
        _check_name("version", version)
        if stale_grace < 0 or lock_ttl <= 0 or lock_wait < 0 or breaker_cooldown < 0:
            raise ValueError("stale_grace, lock_wait, breaker_cooldown >= 0 and lock_ttl > 0")
        self.stats = CacheStats()
        self.namespace = namespace
        self.version = version
        self._store = store
        self._prefix = f"{namespace}:{version}:"
        # Outside the value key space: a caller's key can never name a lock.
        self._lock_prefix = f"{namespace}-lock:{version}:"
        self._stale_grace = stale_grace
        self._stale_on = stale_on
        self._lock_ttl = lock_ttl
        self._lock_ttl_ms = max(1, int(lock_ttl * 1000))
        self._lock_wait = lock_wait
        self._clock = clock
        self._flights: dict[str, asyncio.Task[_Loaded]] = {}
        # The store's own breaker (a Redis store's is the app's RedisLink one, shared with
        # the rate limiter and the budget); the in-process store never trips its own.
        breaker = getattr(store, "breaker", None)
        self._breaker: Breaker = (
            breaker
            if isinstance(breaker, Breaker)
            else Breaker(cooldown=breaker_cooldown, max_cooldown=breaker_cooldown)
        )
        self._next_error_log_at = 0.0
        self._suppressed_errors = 0

    @classmethod
    async def create(
        cls,
        redis_url: str | None,
        *,
        namespace: str = "pypole",
        version: str = "v1",
        stale_grace: int = DEFAULT_STALE_GRACE,
        stale_on: tuple[type[BaseException], ...] = (UpstreamUnavailable,),
        lock_ttl: float = 10.0,
        lock_wait: float = 60.0,
        breaker_cooldown: float = 2.0,
        connect_timeout: float = 0.25,
        socket_timeout: float = 0.5,
        memory_max_bytes: int = 128 * 1024 * 1024,
        memory_max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
        redis: RedisLink | None = None,
    ) -> Cache:
        """A cache on Redis at ``redis_url``, or on an in-process LRU when it is empty.

        Never fails because Redis is unreachable: that is logged (``cache.store_unreachable``)
        and :meth:`ping` reports it, while requests go to the loaders until Redis answers.
        ``memory_max_bytes`` / ``memory_max_entries`` bound the in-process store. ``redis``:
        the app's link to use (then ``redis_url`` only says Redis is configured, and the
        timeouts and cool-down are the link's); without it the cache opens a link of its own.
        """
        store: CacheStore
        if redis is not None:
            store = RedisStore(redis)
        elif redis_url:
            store = RedisStore.from_url(
                redis_url,
                connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
                breaker_cooldown=breaker_cooldown,
            )
        else:
            store = MemoryStore(
                max_bytes=memory_max_bytes, max_entries=memory_max_entries, clock=clock
            )
        cache = cls(
            store,
            namespace=namespace,
            version=version,
            stale_grace=stale_grace,
            stale_on=stale_on,
            lock_ttl=lock_ttl,
            lock_wait=lock_wait,
            breaker_cooldown=breaker_cooldown,
            clock=clock,
        )
        backend = "redis" if isinstance(store, RedisStore) else "memory"
        # The URL is not logged: it may carry a password.
        if not await store.ping():
            log.warning("cache.store_unreachable", backend=backend)
        log.info("cache.created", backend=backend, namespace=namespace, version=version)
        return cache

    @property
    def store(self) -> CacheStore:
        return self._store

    async def get_or_load(
        self,
        key: str,
        loader: Callable[[], Awaitable[T]],
        *,
        ttl: int,
        encode: Callable[[T], bytes] = orjson_encode,
        decode: Callable[[bytes], T] = orjson_decode,
        compress: bool = False,
    ) -> T:
        """The value under ``key``: fresh from the store, or from ``loader`` (then stored).

        ``ttl`` (seconds) is how long the value is fresh; it is kept ``stale_grace`` more
        for stale-on-error. ``ttl=0`` loads every time (still single-flighted) and keeps
        the value only as a fallback. Any value the codec round-trips is cached, empty
        ones included (``[]``, ``None``, ``{}``).

        One key has one codec: callers joining a load in flight get the bytes the first
        caller's ``encode`` produced, decoded with their own ``decode``. Every caller
        gets a freshly decoded object, so what a miss returns is what a hit returns.
        ``compress`` applies to the stored bytes only.
        """
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0, got {ttl}")
        full = self._full_key(key)
        # A load in flight means the store had nothing fresh a moment ago: join it without
        # reading the store again (a stale FastF1 entry can be megabytes).
        flight = self._flights.get(full)
        if flight is None:
            value = await self._read_fresh(full, key, decode)
            if value is not _MISSING:
                self._count(hit=True)
                return value
            flight = self._flights.get(full)
        self._count(hit=False)
        if flight is None:
            flight = asyncio.create_task(
                self._fill(full, key, loader, ttl=ttl, encode=encode, compress=compress),
                name=f"cache.fill:{full}",
            )
            self._flights[full] = flight
            flight.add_done_callback(partial(self._flight_done, full))
        # shield: a caller that goes away (client disconnect, timeout) must not cancel the
        # load the other waiters are counting on.
        loaded = await asyncio.shield(flight)
        # Noted here, in the caller's context: the flight task carries the first caller's.
        note_data_read(loaded.fresh_until, stale=loaded.stale)
        return decode(loaded.payload)

    @overload
    async def get(self, key: str) -> Any: ...

    @overload
    async def get(self, key: str, decode: Callable[[bytes], T]) -> T | None: ...

    async def get(self, key: str, decode: Callable[[bytes], Any] = orjson_decode) -> Any:
        """The fresh value under ``key``, or None when there is none (or only a stale one).

        A cached ``None`` also reads as None; use :meth:`get_or_load` where that matters.
        Counts as a hit or a miss like :meth:`get_or_load`, and never loads.
        """
        value = await self._read_fresh(self._full_key(key), key, decode)
        if value is _MISSING:
            self._count(hit=False)
            # A request that depends on an absent value has nothing to expire with.
            note_data_read(self._clock(), stale=False)
            return None
        self._count(hit=True)
        return value

    async def peek(self, key: str) -> tuple[bytes, float] | None:
        """The fresh payload under ``key`` and its fresh-until time, or None.

        Raw bytes for callers that keep their own encoding (the GraphQL response cache):
        not counted as a hit or a miss and not reported as a data read of the request.
        """
        full = self._full_key(key)
        entry = await self._read(full, key)
        if entry is None or self._clock() >= entry.fresh_until:
            return None
        payload = await self._payload(entry, key)
        return None if payload is None else (payload, entry.fresh_until)

    async def put(self, key: str, payload: bytes, *, ttl: float) -> None:
        """Store ``payload`` under ``key`` for ``ttl`` seconds, with no stale grace.

        For derived values that are cheaper to rebuild than to serve stale (the GraphQL
        response cache); upstream data goes through :meth:`get_or_load`.
        """
        if ttl <= 0:
            return
        full = self._full_key(key)
        await self._write(full, key, payload, ttl=ttl, compress=False, grace=False)

    async def invalidate(self, key: str) -> None:
        """Drop ``key`` (fresh and stale). A load already in flight may still store it."""
        full = self._full_key(key)
        await self._guard("delete", key, partial(self._store.delete, full), None)

    async def ping(self) -> bool:
        """Readiness: False when Redis is configured and does not answer."""
        return await self._store.ping()

    async def close(self) -> None:
        """Cancel loads in flight and close the store's connections."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
        await self._store.close()

    # -- reading ---------------------------------------------------------------------

    def _full_key(self, key: str) -> str:
        if not key:
            raise ValueError("cache key must not be empty")
        return self._prefix + key

    def _count(self, *, hit: bool) -> None:
        if hit:
            self.stats.hits += 1
        else:
            self.stats.misses += 1
        count_cache(hit)

    async def _read(self, full: str, key: str) -> _Entry | None:
        data = await self._guard("read", key, partial(self._store.read, full), None)
        if data is None:
            return None
        entry = _unpack(data)
        if entry is None:
            log.warning("cache.corrupt_entry", key=key, size=len(data))
        return entry

    async def _payload(self, entry: _Entry, key: str) -> bytes | None:
        if not entry.compressed:
            return entry.body
        try:
            return await _maybe_in_thread(zlib.decompress, entry.body)
        except zlib.error:
            log.warning("cache.corrupt_entry", key=key, size=len(entry.body))
            return None

    async def _read_fresh(
        self, full: str, key: str, decode: Callable[[bytes], T]
    ) -> T | Literal[_Missing.MISSING]:
        entry = await self._read(full, key)
        if entry is None or self._clock() >= entry.fresh_until:
            return _MISSING
        payload = await self._payload(entry, key)
        if payload is None:
            return _MISSING
        try:
            value = decode(payload)
        except Exception as exc:
            # Bytes this decoder cannot read (an encoding changed without a version bump):
            # drop them so the load that follows replaces them instead of finding them again.
            log.warning("cache.decode_error", key=key, error=repr(exc))
            await self._guard("delete", key, partial(self._store.delete, full), None)
            return _MISSING
        note_data_read(entry.fresh_until)
        return value

    # -- loading ---------------------------------------------------------------------

    def _flight_done(self, full: str, task: asyncio.Task[_Loaded]) -> None:
        if self._flights.get(full) is task:
            del self._flights[full]
        # Mark the error as seen: every waiter may be gone, and the error was theirs.
        if not task.cancelled():
            task.exception()

    async def _fill(
        self,
        full: str,
        key: str,
        loader: Callable[[], Awaitable[T]],
        *,
        ttl: int,
        encode: Callable[[T], bytes],
        compress: bool,
    ) -> _Loaded:
        """Wait for our turn across processes, then load, store and return the payload."""
        lock = self._lock_prefix + key
        token = secrets.token_urlsafe(16)
        deadline = time.monotonic() + self._lock_wait
        delay = _POLL_MIN
        while True:
            # Lock first, then read: the holder writes the value before it releases the
            # lock, so whoever sees the lock free also sees the value it left.
            locked = await self._guard(
                "lock", key, partial(self._store.try_lock, lock, token, self._lock_ttl_ms), True
            )
            entry = await self._read(full, key)
            if entry is not None and self._clock() < entry.fresh_until:
                payload = await self._payload(entry, key)
                if payload is not None:
                    if locked:
                        await self._unlock(lock, key, token)
                    return _Loaded(payload, entry.fresh_until)
            if locked:
                break
            if time.monotonic() >= deadline:
                log.warning("cache.lock_wait_exceeded", key=key, waited=self._lock_wait)
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
        keeper = None
        if locked and self._store.distributed:
            keeper = asyncio.create_task(self._keep_lock(lock, key, token))
        try:
            return await self._load(full, key, entry, loader, ttl, encode, compress)
        finally:
            if keeper is not None:
                keeper.cancel()
            if locked:
                await self._unlock(lock, key, token)

    async def _load(
        self,
        full: str,
        key: str,
        held: _Entry | None,
        loader: Callable[[], Awaitable[T]],
        ttl: int,
        encode: Callable[[T], bytes],
        compress: bool,
    ) -> _Loaded:
        self.stats.loads += 1
        try:
            value = await loader()
        except Exception as exc:
            self.stats.load_errors += 1
            stale = await self._stale_payload(key, held, exc)
            if stale is None:
                raise
            assert held is not None
            return _Loaded(stale, held.fresh_until, stale=True)
        payload = encode(value)
        fresh_until = await self._write(full, key, payload, ttl=ttl, compress=compress)
        return _Loaded(payload, fresh_until)

    async def _stale_payload(self, key: str, held: _Entry | None, exc: Exception) -> bytes | None:
        if held is None or not isinstance(exc, self._stale_on):
            return None
        now = self._clock()
        # Redis drops the entry at the same moment, but the memory store and a clock that
        # runs ahead of the writer's must not serve it past the grace either.
        if now >= held.fresh_until + self._stale_grace:
            return None
        payload = await self._payload(held, key)
        if payload is None:
            return None
        self.stats.stale_served += 1
        log.warning(
            "cache.stale_served",
            key=key,
            age=round(now - held.stored_at, 3),
            expired_for=round(now - held.fresh_until, 3),
            error=getattr(exc, "code", type(exc).__name__),
        )
        return payload

    async def _write(
        self,
        full: str,
        key: str,
        payload: bytes,
        *,
        ttl: float,
        compress: bool,
        grace: bool = True,
    ) -> float:
        """Store ``payload``; returns its fresh-until time."""
        keep = ttl + self._stale_grace if grace else ttl
        if keep <= 0:
            return self._clock() + ttl
        body = payload
        if compress:
            body = await _maybe_in_thread(partial(zlib.compress, level=_ZLIB_LEVEL), payload)
        now = self._clock()
        data = _pack(body, stored_at=now, fresh_until=now + ttl, compressed=compress)
        keep_ms = max(1, int(keep * 1000))
        await self._guard("write", key, partial(self._store.write, full, data, keep_ms), None)
        return now + ttl

    async def _keep_lock(self, lock: str, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lock_ttl / 3)
            held = await self._guard(
                "lock_refresh",
                key,
                partial(self._store.refresh_lock, lock, token, self._lock_ttl_ms),
                True,
            )
            if not held:
                # Someone else may load too now; that costs an upstream call, not correctness.
                log.warning("cache.lock_lost", key=key)
                return

    async def _unlock(self, lock: str, key: str, token: str) -> None:
        await self._guard("unlock", key, partial(self._store.unlock, lock, token), None)

    # -- store failures --------------------------------------------------------------

    async def _guard(self, op: str, key: str, call: Callable[[], Awaitable[R]], fallback: R) -> R:
        """Run a store call; on failure (or while the breaker is open) answer ``fallback``."""
        if not self._breaker.allow():
            return fallback
        try:
            result = await call()
        except StoreError as exc:
            self._store_failed(op, key, exc)
            return fallback
        self._breaker.succeeded(user=_USER)
        return result

    def _store_failed(self, op: str, key: str, exc: StoreError) -> None:
        self.stats.store_errors += 1
        if exc.unavailable:
            # The store is away: the breaker says so once (redis.degraded) for every user.
            self._breaker.failed(exc.__cause__ or exc, user=_USER)
            return
        now = time.monotonic()
        if now < self._next_error_log_at:
            self._suppressed_errors += 1
            return
        log.warning(
            "cache.store_error",
            op=op,
            key=key,
            error=str(exc),
            suppressed=self._suppressed_errors,
        )
        self._suppressed_errors = 0
        self._next_error_log_at = now + _STORE_ERROR_LOG_INTERVAL
