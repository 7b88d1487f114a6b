"""The byte stores behind :class:`~pypole_gql.cache.Cache`: Redis, or a bounded in-process LRU.

A store knows nothing of envelopes, freshness or codecs: it keeps opaque bytes under a
key until a physical expiry, and offers the short lock the cache uses for single flight
across processes. Redis failures surface as :class:`StoreError` so the cache can decide
what a failure costs (nothing, for the request).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from redis.exceptions import RedisError

from pypole_gql.cache.memo import ExpiringLRU
from pypole_gql.logging import get_logger
from pypole_gql.redis_link import DEFAULT_CONNECT_TIMEOUT, UNAVAILABLE, Breaker, RedisLink

log = get_logger("pypole.cache")

R = TypeVar("R")

#: Rough bookkeeping cost of one in-process entry beyond its key and value bytes.
_ENTRY_OVERHEAD = 128

# Compare-and-delete / compare-and-extend: a lock is only touched by the token that took it,
# so a holder whose lock already expired cannot release (or extend) the next holder's lock.
_RELEASE_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_REFRESH_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class StoreError(Exception):
    """A store operation failed.

    ``unavailable`` is true when the store itself looks down (connection refused or reset,
    timeout): the cache then stops calling it for a moment. Other failures (a command
    error such as OOM on write) are logged but do not stop reads.
    """

    def __init__(self, message: str, *, unavailable: bool) -> None:
        super().__init__(message)
        self.unavailable = unavailable


class CacheStore(Protocol):
    """Opaque bytes with a physical expiry, plus a best-effort exclusive lock."""

    #: True when other processes share the store, so the lock means something.
    distributed: bool

    async def read(self, key: str) -> bytes | None: ...

    async def write(self, key: str, data: bytes, ttl_ms: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def try_lock(self, key: str, token: str, ttl_ms: int) -> bool: ...

    async def refresh_lock(self, key: str, token: str, ttl_ms: int) -> bool: ...

    async def unlock(self, key: str, token: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    """An in-process LRU bounded both in bytes and in entries (:class:`ExpiringLRU`).

    Eviction is least-recently-read first. A value bigger than the whole byte budget is
    not kept at all (it would evict everything else and still not fit).
    """

    distributed = False

    def __init__(
        self,
        *,
        max_bytes: int = 128 * 1024 * 1024,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Values held: (expires_at, data, cost).
        self._entries: ExpiringLRU[str, tuple[float, bytes, int]] = ExpiringLRU(
            max_entries=max_entries,
            max_bytes=max_bytes,
            expires=itemgetter(0),
            size=itemgetter(2),
            clock=clock,
        )
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._clock = clock

    @property
    def evictions(self) -> int:
        """Entries pushed out by a bound."""
        return self._entries.evictions

    @property
    def size_bytes(self) -> int:
        """Bytes accounted to the entries held now (keys, values and a fixed overhead)."""
        return self._entries.size_bytes

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return self._entries.keys()

    async def read(self, key: str) -> bytes | None:
        item = self._entries.get(key)
        return None if item is None else item[1]

    async def write(self, key: str, data: bytes, ttl_ms: int) -> None:
        cost = len(key) + len(data) + _ENTRY_OVERHEAD
        if not self._entries.put(key, (self._clock() + ttl_ms / 1000, data, cost)):
            log.warning("cache.value_too_large", key=key, size=len(data), max_bytes=self.max_bytes)

    async def delete(self, key: str) -> None:
        self._entries.drop(key)

    # One process is the whole world of this store: the in-process single flight of the
    # cache already guarantees one loader per key, so the lock is always granted.
    async def try_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        return True

    async def refresh_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        return True

    async def unlock(self, key: str, token: str) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()


class RedisStore:
    """Redis through the app's :class:`~pypole_gql.redis_link.RedisLink` (short timeouts, no
    client-side retries: the link's breaker decides when to try again).

    ``owned``: the store closes the link with itself (a link :meth:`from_url` made).
    """

    distributed = True

    def __init__(self, link: RedisLink, *, owned: bool = False) -> None:
        self.link = link
        self._client = link.client
        self._owned = owned
        self._release = self._client.register_script(_RELEASE_LUA)
        self._refresh = self._client.register_script(_REFRESH_LUA)

    @property
    def breaker(self) -> Breaker:
        """The link's breaker: the cache skips the store while it is open."""
        return self.link.breaker

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        socket_timeout: float = 0.5,
        max_connections: int = 64,
        breaker_cooldown: float = 2.0,
    ) -> RedisStore:
        """A store on a link of its own to ``url``, without connecting (connections are made
        on first use); its breaker keeps calls away for ``breaker_cooldown`` seconds after a
        failure."""
        link = RedisLink.from_url(
            url,
            connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            max_connections=max_connections,
            cooldown=breaker_cooldown,
            max_cooldown=breaker_cooldown,
            client_name="pypole-cache",
        )
        return cls(link, owned=True)

    async def _call(self, op: Callable[[], Awaitable[R]]) -> R:
        try:
            return await op()
        except UNAVAILABLE as exc:
            raise StoreError(f"{type(exc).__name__}: {exc}", unavailable=True) from exc
        except RedisError as exc:
            raise StoreError(f"{type(exc).__name__}: {exc}", unavailable=False) from exc

    async def read(self, key: str) -> bytes | None:
        value: Any = await self._call(lambda: self._client.get(key))
        return None if value is None else bytes(value)

    async def write(self, key: str, data: bytes, ttl_ms: int) -> None:
        await self._call(lambda: self._client.set(key, data, px=ttl_ms))

    async def delete(self, key: str) -> None:
        await self._call(lambda: self._client.delete(key))

    async def try_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        taken: Any = await self._call(lambda: self._client.set(key, token, nx=True, px=ttl_ms))
        return bool(taken)

    async def refresh_lock(self, key: str, token: str, ttl_ms: int) -> bool:
        kept: Any = await self._call(lambda: self._refresh(keys=[key], args=[token, ttl_ms]))
        return bool(kept)

    async def unlock(self, key: str, token: str) -> None:
        await self._call(lambda: self._release(keys=[key], args=[token]))

    async def ping(self) -> bool:
        return await self.link.ping()

    async def close(self) -> None:
        if self._owned:
            await self.link.close()


def open_store(
    redis_url: str | None,
    *,
    redis: RedisLink | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    socket_timeout: float = 0.5,
    breaker_cooldown: float = 2.0,
    memory_max_bytes: int = 128 * 1024 * 1024,
    memory_max_entries: int = 10_000,
    clock: Callable[[], float] = time.time,
) -> CacheStore:
    """Redis on the app's link ``redis``, else on a link of its own to ``redis_url``, else
    (no URL) the in-process store with its bounds. Connects to nothing yet."""
    if redis is not None:
        return RedisStore(redis)
    if redis_url:
        return RedisStore.from_url(
            redis_url,
            connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            breaker_cooldown=breaker_cooldown,
        )
    return MemoryStore(max_bytes=memory_max_bytes, max_entries=memory_max_entries, clock=clock)
