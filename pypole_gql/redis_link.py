"""The app's one link to Redis: one connection pool, one circuit breaker, one set of events.

The cache (:mod:`pypole_gql.cache.stores`), the rate limiter (:mod:`pypole_gql.ratelimit`) and
the outbound budget (:mod:`pypole_gql.upstream.budget`) all keep state in Redis and all do
without it (loading, counting in process). :func:`~pypole_gql.resources.build_resources` opens
one :class:`RedisLink` and gives it to the three, so a dead Redis costs one short timeout for
all of them, not one per user, and is reported once:

* ``redis.degraded`` (warning) when a call finds Redis down (refused, reset, timed out), with
  the user that found it; from then on :meth:`Breaker.allow` says no, and every user works
  without Redis;
* one call (any user's) probes Redis after a cool-down that doubles on each failed probe, from
  ``cooldown`` to ``max_cooldown`` seconds; a readiness check that Redis answers
  (:meth:`RedisLink.ping`) closes it too, so a load balancer's probes notice the return;
* ``redis.recovered`` (info) when a call answers again, with how long Redis was away.

No client-side retries (redis-py retries with back-off by default): a retry loop against a
dead Redis multiplies the time a request waits for state it can do without. The pool is a
blocking one: a burst of concurrent calls waits (up to ``socket_timeout``) for a free
connection instead of failing with ``MaxConnectionsError``, which would read as Redis down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pypole_gql.logging import get_logger
from pypole_gql.redis_mux import Multiplexer, connection_factory

log = get_logger("pypole.redis")

#: Seconds to open a connection, handshake included. Generous for a local Redis on purpose:
#: a burst opens many connections at once on a busy event loop, and a connect timed out
#: there reads as Redis down (the breaker opens, every instance loads on its own). A dead
#: Redis refuses at once; only a black-holed one costs this, once per cool-down.
DEFAULT_CONNECT_TIMEOUT: Final = 1.0
#: Seconds a command may wait for its answer.
DEFAULT_SOCKET_TIMEOUT: Final = 0.5
#: Seconds the breaker first keeps calls away from a Redis that looks down, and at most.
DEFAULT_COOLDOWN: Final = 1.0
DEFAULT_MAX_COOLDOWN: Final = 10.0
#: Errors that mean Redis itself is away (other errors, such as OOM on a write, do not).
UNAVAILABLE: Final = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


class Breaker:
    """Whether to call Redis now; told by its users how each call went.

    Closed: every call goes. Open (after a failure that says Redis is away): calls are skipped
    until the cool-down has passed; then one call probes, and the cool-down doubles (up to
    ``max_cooldown``) for the next period. A call that answers closes it again.
    """

    def __init__(
        self,
        *,
        cooldown: float = DEFAULT_COOLDOWN,
        max_cooldown: float = DEFAULT_MAX_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cooldown < 0 or max_cooldown < cooldown:
            raise ValueError("need 0 <= cooldown <= max_cooldown")
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._clock = clock
        self._down_since: float | None = None
        self._next_cooldown = cooldown
        self._retry_at = 0.0

    @property
    def degraded(self) -> bool:
        """True from a failure until a call answers again."""
        return self._down_since is not None

    @property
    def retry_in(self) -> float:
        """Seconds until the next probe (0 while closed)."""
        return max(0.0, self._retry_at - self._clock()) if self.degraded else 0.0

    def allow(self) -> bool:
        """Whether a call may go to Redis now (while open, one per cool-down: a probe)."""
        if self._down_since is None:
            return True
        now = self._clock()
        if now < self._retry_at:
            return False
        self._retry_at = now + self._next_cooldown
        self._next_cooldown = min(self._next_cooldown * 2, self.max_cooldown)
        return True

    def failed(self, exc: BaseException, *, user: str) -> None:
        """A call found Redis away: open (logging ``redis.degraded`` the first time)."""
        now = self._clock()
        if self._down_since is None:
            self._down_since = now
            self._retry_at = now + self.cooldown
            self._next_cooldown = min(self.cooldown * 2, self.max_cooldown)
            log.warning(
                "redis.degraded",
                user=user,
                error_type=type(exc).__name__,
                error=str(exc),
                retry_in=self.cooldown,
            )
            return
        log.debug("redis.probe_failed", user=user, error_type=type(exc).__name__)

    def succeeded(self, *, user: str) -> None:
        """A call answered: close (logging ``redis.recovered`` if it was open)."""
        since = self._down_since
        if since is None:
            return
        self._down_since = None
        self._next_cooldown = self.cooldown
        self._retry_at = 0.0
        log.info("redis.recovered", user=user, down_for=round(self._clock() - since, 3))


class RedisLink:
    """One Redis client over one pool, and the breaker every user of it shares.

    ``client`` (over ``pool``) serves the cache, the budget and everything else; ``mux`` is
    one multiplexed connection with the pool's settings and timeouts, for the command every
    request makes (the rate limiter's charge: :mod:`pypole_gql.redis_mux`).

    Built with :meth:`from_url` without connecting (connections are made on first use); closed
    once, by whoever opened it (:func:`~pypole_gql.resources.build_resources`).
    """

    def __init__(self, pool: BlockingConnectionPool, breaker: Breaker) -> None:
        self.pool = pool
        self.client: Redis = Redis(connection_pool=pool)
        self.breaker = breaker
        kwargs = pool.connection_kwargs
        self.mux = Multiplexer(
            connection_factory(pool),
            timeout=kwargs.get("socket_timeout") or DEFAULT_SOCKET_TIMEOUT,
            connect_timeout=kwargs.get("socket_connect_timeout") or DEFAULT_CONNECT_TIMEOUT,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        max_connections: int = 64,
        cooldown: float = DEFAULT_COOLDOWN,
        max_cooldown: float = DEFAULT_MAX_COOLDOWN,
        client_name: str = "pypole",
        clock: Callable[[], float] | None = None,
    ) -> RedisLink:
        """``clock``: seconds for the breaker's cool-down (only differences count);
        ``None`` is :func:`time.monotonic`."""
        pool: BlockingConnectionPool = BlockingConnectionPool.from_url(
            url.removeprefix("async+"),
            max_connections=max_connections,
            timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            client_name=client_name,
        )
        breaker = Breaker(
            cooldown=cooldown, max_cooldown=max_cooldown, clock=clock or time.monotonic
        )
        return cls(pool, breaker)

    async def ping(self) -> bool:
        """Readiness: whether Redis answers now. Bypasses the breaker, and closes it when Redis
        answers (a failure is left to the users to report: it costs them nothing yet)."""
        try:
            await self.client.ping()
        except Exception:
            return False
        self.breaker.succeeded(user="readiness")
        return True

    async def close(self) -> None:
        await self.mux.aclose()
        await self.client.aclose(close_connection_pool=True)
