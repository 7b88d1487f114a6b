"""An outbound request budget (moving window) shared by every instance of the app.

Jolpica allows anonymous clients a few requests a second and a few hundred an hour per
address; every instance of the app counts against the same allowance, so the budget
lives in Redis when one is configured (``limits``' moving window, which never lets more
than N requests into any window of the period, unlike a fixed window that allows 2N
around a boundary). Without Redis, or while Redis fails, it is kept in process.

A request over budget waits for the window to move when that happens soon enough and
otherwise is not sent at all: :class:`BudgetExceeded` is an :class:`UpstreamUnavailable`,
so the cache answers it with a stale value when it holds one.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Final

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import get_logger

log = get_logger("pypole.upstream")

#: After Redis failed, how long the budget stays in process before trying Redis again.
_REDIS_COOLDOWN: Final = 10.0
# A waiter goes a little after the window is due to move. The window counts when slots
# were taken, Jolpica counts when requests arrive: a request on a new connection (or
# from a busy process) arrives some milliseconds later than one on a warm connection,
# which would squeeze two windows' requests into one second at the other end.
_WAIT_SLACK: Final = 0.1


class BudgetExceeded(UpstreamUnavailable):
    """The outbound budget has no room soon enough; the request was not sent."""

    default_message = "Upstream request budget exhausted, try again later"


class OutboundBudget:
    """``acquire()`` before each request to one upstream; raises when there is no room.

    ``rate`` is a ``limits`` string such as ``"4/second;500/hour"``. ``name`` keys the
    budget (every instance that uses the same name, prefix and Redis shares it).
    ``max_wait`` bounds how long one ``acquire`` waits, its queue time in this process
    included; a caller may pass a shorter bound (its own deadline).
    """

    def __init__(
        self,
        rate: str,
        *,
        name: str,
        redis_url: str | None = None,
        key_prefix: str = "pypole-budget",
        max_wait: float = 5.0,
        connect_timeout: float = 0.25,
        socket_timeout: float = 0.5,
    ) -> None:
        items = parse_many(rate)
        if not items:
            raise ValueError(f"empty rate: {rate!r}")
        # Shortest window first: it is the one worth waiting for; the long ones only say
        # no. A slot taken in a short window before a long one refuses is simply wasted,
        # which errs on the side of sending less.
        self.items: list[RateLimitItem] = sorted(items, key=lambda item: item.get_expiry())
        self.rate = rate
        self.name = name
        self.max_wait = max_wait
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._pool: ConnectionPool | None = None
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            # The pool is ours (limits has no close); no client-side retries: a dead Redis
            # should cost one short timeout, then the in-process budget takes over.
            self._pool = ConnectionPool.from_url(
                redis_url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0),
                client_name="pypole-budget",
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=key_prefix,
                **options,
            )
            self._redis = MovingWindowRateLimiter(storage)
        self._redis_down_until = 0.0
        # FIFO: asyncio.Lock wakes waiters in arrival order, so the first caller to queue
        # is the first served, and waiters do not all poll Redis at the same moment.
        self._turn = asyncio.Lock()

    @property
    def shared(self) -> bool:
        """True when the budget is kept in Redis right now."""
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    async def acquire(self, max_wait: float | None = None) -> None:
        """Take one request from the budget, waiting at most ``max_wait`` seconds.

        Raises :class:`BudgetExceeded` when no room opens within the bound (then nothing
        is taken from a window that has none).
        """
        bound = self.max_wait if max_wait is None else min(max_wait, self.max_wait)
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(bound, 0.0)):
                await self._turn.acquire()
        except TimeoutError:
            raise self._exceeded(bound, "queue") from None
        try:
            while True:
                wait, item = await self._try_take()
                if item is None:
                    return
                left = bound - (time.monotonic() - started)
                if wait > left:
                    raise self._exceeded(wait, str(item))
                await asyncio.sleep(wait)
        finally:
            self._turn.release()

    async def _try_take(self) -> tuple[float, RateLimitItem | None]:
        """Take a slot in every window: ``(0, None)``, or how long until the full one moves."""
        try:
            return await self._take_from(self._limiter())
        except StorageError as exc:
            self._redis_failed(exc)
            # Start over in process: windows this call already took in Redis stay taken
            # there, which again only errs towards sending less.
            return await self._take_from(self._memory)

    async def _take_from(
        self, limiter: MovingWindowRateLimiter
    ) -> tuple[float, RateLimitItem | None]:
        for item in self.items:
            if await limiter.hit(item, self.name):
                continue
            stats = await limiter.get_window_stats(item, self.name)
            return max(stats.reset_time - time.time(), 0.0) + _WAIT_SLACK, item
        return 0.0, None

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._redis is None:
            return self._memory
        if time.monotonic() < self._redis_down_until:
            return self._memory
        if self._redis_down_until:
            # Back to the shared budget; a failure here starts another cool-down.
            self._redis_down_until = 0.0
            log.info("budget.redis_retry", budget=self.name)
        return self._redis

    def _redis_failed(self, exc: StorageError) -> None:
        if time.monotonic() >= self._redis_down_until:
            log.warning(
                "budget.redis_failed",
                budget=self.name,
                error=repr(exc.storage_error),
                fallback="memory",
                retry_in=_REDIS_COOLDOWN,
            )
        self._redis_down_until = time.monotonic() + _REDIS_COOLDOWN

    def _exceeded(self, wait: float, window: str) -> BudgetExceeded:
        retry_after = max(1, math.ceil(wait))
        log.warning("budget.exceeded", budget=self.name, window=window, retry_after=retry_after)
        return BudgetExceeded(
            f"{self.name} request budget ({self.rate}) exhausted, try again later",
            retry_after=retry_after,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
