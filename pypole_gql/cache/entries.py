"""The cache's entries in its store: envelopes read and written through a breaker.

:class:`Entries` reads and writes :mod:`~pypole_gql.cache.envelope` envelopes (a corrupt
one reads as absent, ``cache.corrupt_entry``). Every store call goes through
:class:`StoreGuard`, so a failing store never fails a request. The breaker is the
store's own (for Redis, the app's one :class:`~pypole_gql.redis_link.RedisLink` breaker,
shared with the rate limiter and the budget) or, for a store without one, a private one.
A store that is away is reported by that breaker (``redis.degraded``,
``redis.recovered``); a store that answers with errors (OOM on write) logs at most one
``cache.store_error`` line per interval, with a count of the lines it stands for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Final, TypeVar

from pypole_gql.cache.envelope import Envelope, compress_body, decompress_body, pack, unpack
from pypole_gql.cache.stores import CacheStore, StoreError
from pypole_gql.logging import get_logger
from pypole_gql.redis_link import Breaker

__all__ = ["Entries", "StoreGuard"]

log = get_logger("pypole.cache")

R = TypeVar("R")

_USER: Final = "cache"
_STORE_ERROR_LOG_INTERVAL: Final = 10.0


class StoreGuard:
    """Runs store calls for one :class:`~pypole_gql.cache.Cache`; ``failed`` is called with
    each failure (the cache counts them)."""

    def __init__(
        self,
        store: CacheStore,
        *,
        breaker_cooldown: float,
        failed: Callable[[], None] = lambda: None,
    ) -> None:
        breaker = getattr(store, "breaker", None)
        self.breaker: Breaker = (
            breaker
            if isinstance(breaker, Breaker)
            else Breaker(cooldown=breaker_cooldown, max_cooldown=breaker_cooldown)
        )
        self._count_failure = failed
        self._next_error_log_at = 0.0
        self._suppressed_errors = 0

    async def __call__(self, op: str, key: str, call: Callable[[], Awaitable[R]], fallback: R) -> R:
        """Run a store call; on failure (or while the breaker is open) answer ``fallback``."""
        if not self.breaker.allow():
            return fallback
        try:
            result = await call()
        except StoreError as exc:
            self._failed(op, key, exc)
            return fallback
        self.breaker.succeeded(user=_USER)
        return result

    def _failed(self, op: str, key: str, exc: StoreError) -> None:
        self._count_failure()
        if exc.unavailable:
            # The store is away: the breaker says so once (redis.degraded) for every user.
            self.breaker.failed(exc.__cause__ or exc, user=_USER)
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


class Entries:
    """Envelopes under full keys (``key`` is the caller's name for log lines)."""

    __slots__ = ("_clock", "_store", "guard")

    def __init__(self, store: CacheStore, guard: StoreGuard, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self.guard = guard

    async def read(self, full: str, key: str) -> Envelope | None:
        data = await self.guard("read", key, partial(self._store.read, full), None)
        if data is None:
            return None
        entry = unpack(data)
        if entry is None:
            log.warning("cache.corrupt_entry", key=key, size=len(data))
        return entry

    async def payload(self, entry: Envelope, key: str) -> bytes | None:
        """The entry's payload (decompressed), or None when it is corrupt."""
        if not entry.compressed:
            return entry.body
        payload = await decompress_body(entry.body)
        if payload is None:
            log.warning("cache.corrupt_entry", key=key, size=len(entry.body))
        return payload

    async def write(
        self, full: str, key: str, payload: bytes, *, ttl: float, keep: float, compress: bool
    ) -> float:
        """Store ``payload`` fresh for ``ttl`` and held ``keep`` seconds; its fresh-until."""
        if keep <= 0:
            return self._clock() + ttl
        body = await compress_body(payload) if compress else payload
        now = self._clock()
        data = pack(body, stored_at=now, fresh_until=now + ttl, compressed=compress)
        keep_ms = max(1, int(keep * 1000))
        await self.guard("write", key, partial(self._store.write, full, data, keep_ms), None)
        return now + ttl

    async def delete(self, full: str, key: str) -> None:
        await self.guard("delete", key, partial(self._store.delete, full), None)
