"""An outbound request budget (moving window) shared by every instance of the app.

Jolpica allows anonymous clients a few requests a second and a few hundred an hour per
address; every instance of the app counts against the same allowance, so the budget
lives in Redis when one is configured (``limits``' moving window, which never lets more
than N requests into any window of the period, unlike a fixed window that allows 2N
around a boundary), over the app's one :class:`~pypole_gql.redis_link.RedisLink`. Without
Redis, or while the link's breaker is open, it is kept in process.

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

from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import get_logger
from pypole_gql.redis_link import DEFAULT_CONNECT_TIMEOUT, RedisLink

log = get_logger("pypole.upstream")

#: After Redis failed, how long a budget on a link of its own stays in process before trying
#: Redis again (in the app the link's breaker decides, for the cache and limiter as well).
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
        redis: RedisLink | None = None,
        redis_url: str | None = None,
        key_prefix: str = "pypole-budget",
        max_wait: float = 5.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
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
        self._own_link = False
        if redis is None and redis_url:
            # A link of its own (closed by close()): for a budget used outside the app.
            redis = RedisLink.from_url(
                redis_url,
                connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
                cooldown=_REDIS_COOLDOWN,
                max_cooldown=_REDIS_COOLDOWN,
                client_name="pypole-budget",
            )
            self._own_link = True
        self._link = redis
        self._redis: MovingWindowRateLimiter | None = None
        if redis is not None:
            options: dict[str, Any] = {"connection_pool": redis.pool}
            storage = RedisStorage(
                "async+redis://",  # the pool says where; limits only reads the scheme
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=key_prefix,
                **options,
            )
            self._redis = MovingWindowRateLimiter(storage)
        # FIFO: asyncio.Lock wakes waiters in arrival order, so the first caller to queue
        # is the first served, and waiters do not all poll Redis at the same moment.
        self._turn = asyncio.Lock()

    @property
    def shared(self) -> bool:
        """True when the budget is kept in Redis right now."""
        return (
            self._redis is not None and self._link is not None and not self._link.breaker.degraded
        )

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
        link, redis = self._link, self._redis
        if link is not None and redis is not None and link.breaker.allow():
            try:
                taken = await self._take_from(redis)
            except StorageError as exc:
                link.breaker.failed(exc.storage_error, user=f"budget:{self.name}")
                # Start over in process: windows this call already took in Redis stay taken
                # there, which again only errs towards sending less.
            else:
                link.breaker.succeeded(user=f"budget:{self.name}")
                return taken
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

    def _exceeded(self, wait: float, window: str) -> BudgetExceeded:
        retry_after = max(1, math.ceil(wait))
        log.warning("budget.exceeded", budget=self.name, window=window, retry_after=retry_after)
        return BudgetExceeded(
            f"{self.name} request budget ({self.rate}) exhausted, try again later",
            retry_after=retry_after,
        )

    async def close(self) -> None:
        if self._link is not None and self._own_link:
            await self._link.close()
