"""The short lock that makes one process load a key while the others wait (single flight
across processes sharing Redis).

A ``SET NX PX`` lock under a key of its own, kept alive by its holder every ``ttl / 3``
seconds while the loader runs and released by compare-and-delete (only the token that took
it touches it), so a dead holder blocks the others for at most ``ttl``. On the in-process
store every lock is granted: the cache's in-process single flight already gives one loader
per key. Store failures go through the cache's :class:`~pypole_gql.cache.entries.StoreGuard`
(a store that is away grants the lock: loading beats waiting for nothing).
"""

from __future__ import annotations

import asyncio
import secrets
from functools import partial

from pypole_gql.cache.entries import StoreGuard
from pypole_gql.cache.stores import CacheStore
from pypole_gql.logging import get_logger

__all__ = ["LoadLock"]

log = get_logger("pypole.cache")


class LoadLock:
    """The lock of one load of ``key`` (a name for log lines) under the store key ``lock``."""

    __slots__ = ("_guard", "_keeper", "_key", "_lock", "_store", "_ttl", "_ttl_ms", "held", "token")

    def __init__(
        self, store: CacheStore, guard: StoreGuard, *, lock: str, key: str, ttl: float
    ) -> None:
        self._store = store
        self._guard = guard
        self._lock = lock
        self._key = key
        self._ttl = ttl
        self._ttl_ms = max(1, int(ttl * 1000))
        self._keeper: asyncio.Task[None] | None = None
        self.token = secrets.token_urlsafe(16)
        #: Whether the last :meth:`take` got the lock.
        self.held = False

    async def take(self) -> bool:
        """Try to take the lock (once, without waiting)."""
        call = partial(self._store.try_lock, self._lock, self.token, self._ttl_ms)
        self.held = await self._guard("lock", self._key, call, True)
        return self.held

    def keep(self) -> None:
        """While held, extend the lock in the background until :meth:`release`."""
        if self.held and self._store.distributed:
            self._keeper = asyncio.create_task(self._keep())

    async def release(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            self._keeper = None
        if self.held:
            self.held = False
            call = partial(self._store.unlock, self._lock, self.token)
            await self._guard("unlock", self._key, call, None)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            call = partial(self._store.refresh_lock, self._lock, self.token, self._ttl_ms)
            if not await self._guard("lock_refresh", self._key, call, True):
                # Someone else may load too now; that costs an upstream call, not correctness.
                log.warning("cache.lock_lost", key=self._key)
                return
