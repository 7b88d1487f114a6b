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
  stale) to the request's :class:`~pypole_gql.cache.freshness.Freshness`, so a response
  built from cached data knows how long it stays true (the response cache uses it).

The stored bytes are an envelope (:mod:`pypole_gql.cache.envelope`); the stores are in
:mod:`pypole_gql.cache.stores`, read and written through :mod:`pypole_gql.cache.entries`.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Literal, TypeVar, overload

from pypole_gql.cache.entries import Entries, StoreGuard
from pypole_gql.cache.envelope import Envelope, orjson_decode, orjson_encode
from pypole_gql.cache.freshness import note_read
from pypole_gql.cache.locks import LoadLock
from pypole_gql.cache.stores import CacheStore, RedisStore, open_store
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import count_cache, get_logger
from pypole_gql.redis_link import DEFAULT_CONNECT_TIMEOUT, RedisLink

__all__ = ["DEFAULT_STALE_GRACE", "Cache", "CacheStats"]

log = get_logger("pypole.cache")

T = TypeVar("T")

#: Same default as ``Settings.stale_grace``; the app passes the setting explicitly.
DEFAULT_STALE_GRACE: Final = 7 * 24 * 3600

# Waiters for another process's load poll with a growing delay within these bounds.
_POLL_MIN: Final = 0.02
_POLL_MAX: Final = 0.2


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
class _Loaded:
    """What a load in flight gives every waiter: the payload and how fresh it is."""

    payload: bytes
    fresh_until: float
    stale: bool = False


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
        self._lock_wait = lock_wait
        self._clock = clock
        self._flights: dict[str, asyncio.Task[_Loaded]] = {}
        # Store calls go through the store's own breaker (a Redis store's is the app's
        # RedisLink one, shared with the rate limiter and the budget).
        self._guard = StoreGuard(store, breaker_cooldown=breaker_cooldown, failed=self._failed)
        self._entries = Entries(store, self._guard, clock)

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
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
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
        store = open_store(
            redis_url,
            redis=redis,
            connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            breaker_cooldown=breaker_cooldown,
            memory_max_bytes=memory_max_bytes,
            memory_max_entries=memory_max_entries,
            clock=clock,
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
        note_read(loaded.fresh_until, stale=loaded.stale)
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
            note_read(self._clock(), stale=False)
            return None
        self._count(hit=True)
        return value

    async def peek(self, key: str) -> tuple[bytes, float] | None:
        """The fresh payload under ``key`` and its fresh-until time, or None.

        Raw bytes for callers that keep their own encoding (the GraphQL response cache):
        not counted as a hit or a miss and not reported as a data read of the request.
        """
        full = self._full_key(key)
        entry = await self._entries.read(full, key)
        if entry is None or self._clock() >= entry.fresh_until:
            return None
        payload = await self._entries.payload(entry, key)
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
        await self._entries.delete(full, key)

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

    async def _read_fresh(
        self, full: str, key: str, decode: Callable[[bytes], T]
    ) -> T | Literal[_Missing.MISSING]:
        entry = await self._entries.read(full, key)
        if entry is None or self._clock() >= entry.fresh_until:
            return _MISSING
        payload = await self._entries.payload(entry, key)
        if payload is None:
            return _MISSING
        try:
            value = decode(payload)
        except Exception as exc:
            # Bytes this decoder cannot read (an encoding changed without a version bump):
            # drop them so the load that follows replaces them instead of finding them again.
            log.warning("cache.decode_error", key=key, error=repr(exc))
            await self._entries.delete(full, key)
            return _MISSING
        note_read(entry.fresh_until)
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
        lock = LoadLock(
            self._store, self._guard, lock=self._lock_prefix + key, key=key, ttl=self._lock_ttl
        )
        deadline = time.monotonic() + self._lock_wait
        delay = _POLL_MIN
        while True:
            # Lock first, then read: the holder writes the value before it releases the
            # lock, so whoever sees the lock free also sees the value it left.
            locked = await lock.take()
            entry = await self._entries.read(full, key)
            if entry is not None and self._clock() < entry.fresh_until:
                payload = await self._entries.payload(entry, key)
                if payload is not None:
                    await lock.release()
                    return _Loaded(payload, entry.fresh_until)
            if locked:
                break
            if time.monotonic() >= deadline:
                log.warning("cache.lock_wait_exceeded", key=key, waited=self._lock_wait)
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
        lock.keep()
        try:
            return await self._load(full, key, entry, loader, ttl, encode, compress)
        finally:
            await lock.release()

    async def _load(
        self,
        full: str,
        key: str,
        held: Envelope | None,
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

    async def _stale_payload(self, key: str, held: Envelope | None, exc: Exception) -> bytes | None:
        if held is None or not isinstance(exc, self._stale_on):
            return None
        now = self._clock()
        # Redis drops the entry at the same moment, but the memory store and a clock that
        # runs ahead of the writer's must not serve it past the grace either.
        if now >= held.fresh_until + self._stale_grace:
            return None
        payload = await self._entries.payload(held, key)
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
        self, full: str, key: str, payload: bytes, *, ttl: float, compress: bool, grace: bool = True
    ) -> float:
        """Store ``payload``; returns its fresh-until time."""
        keep = ttl + self._stale_grace if grace else ttl
        return await self._entries.write(full, key, payload, ttl=ttl, keep=keep, compress=compress)

    def _failed(self) -> None:
        self.stats.store_errors += 1
