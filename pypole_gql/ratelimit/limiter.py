"""Charging requests against the general and the auth budget of their client.

In Redis while the app's :class:`~pypole_gql.redis_link.RedisLink` works (every instance then
shares one budget), in process while its breaker is open or when no Redis is configured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, parse_many
from limits.util import WindowStats
from starlette.requests import HTTPConnection
from starlette.types import Scope

from pypole_gql.config import ConfigError, Settings
from pypole_gql.logging import get_logger
from pypole_gql.ratelimit.client_ip import ClientResolver
from pypole_gql.ratelimit.decision import Decision, policy_header
from pypole_gql.ratelimit.windows import Charge, MemoryWindows, RedisWindows
from pypole_gql.redis_link import RedisLink

log = get_logger("pypole.ratelimit")

DEFAULT_KEY_PREFIX = "pypole:ratelimit:v1"
#: Who the limiter's failures and recoveries are reported as (``redis.degraded``).
USER = "ratelimit"


def _parse_limits(value: str, setting: str) -> tuple[RateLimitItem, ...]:
    try:
        items = tuple(parse_many(value))
    except ValueError as exc:
        raise ConfigError(
            f"{setting}={value!r} is not a rate limit such as '60/minute' or '5/second;60/minute'"
        ) from exc
    if not items:
        raise ConfigError(f"{setting} is empty")
    return items


class _Budget:
    """The policies one kind of request is charged against, and what the answer reports
    about all of them (worked out once: every charged request sends it)."""

    __slots__ = ("amounts", "charges", "policies", "policy_header", "policy_pair")

    def __init__(self, charges: tuple[Charge, ...]) -> None:
        self.charges = charges
        self.policies = tuple(charge.item for charge in charges)
        self.policy_header = policy_header(self.policies)
        # As Decision.raw_headers writes them, for the answers sent without a Decision.
        self.policy_pair = (b"ratelimit-policy", self.policy_header.encode())
        self.amounts = tuple(b"%d" % charge.amount for charge in charges)


def _reported(results: list[WindowStats]) -> int:
    """The index of the policy to report: the one that refused, else the one closest to
    running out (the first of equals)."""
    index = len(results) - 1
    if index and results[index].remaining >= 0:
        for i in range(index - 1, -1, -1):
            if results[i].remaining <= results[index].remaining:
                index = i
    return index


class RateLimiter:
    """Charges requests against the general and the auth budget of their client IP.

    Built once per app (``Resources.limiter``) and closed at shutdown with :meth:`close`.
    ``redis``: the app's link (not closed here). Without it, ``redis_url`` opens a link of
    the limiter's own (``redis_timeout`` per call; after a failure Redis is probed again
    after ``retry_backoff`` seconds, doubling up to ``max_retry_backoff``), closed by
    :meth:`close`.
    """

    def __init__(
        self,
        *,
        rate_limit: str,
        auth_rate_limit: str,
        trusted_proxies: Sequence[str] = (),
        redis: RedisLink | None = None,
        redis_url: str = "",
        key_prefix: str = DEFAULT_KEY_PREFIX,
        redis_timeout: float = 0.25,
        retry_backoff: float = 1.0,
        max_retry_backoff: float = 30.0,
    ) -> None:
        self.limits = _parse_limits(rate_limit, "PYPOLE_RATE_LIMIT")
        self.auth_limits = _parse_limits(auth_rate_limit, "PYPOLE_AUTH_RATE_LIMIT")
        self.clients = ClientResolver(trusted_proxies)
        api = [Charge("api", item, item.amount, item.get_expiry()) for item in self.limits]
        auth = [Charge("auth", item, item.amount, item.get_expiry()) for item in self.auth_limits]
        self._api = _Budget(tuple(api))
        self._auth = _Budget(tuple(auth))
        self._both = _Budget((*api, *auth))
        self._memory = MemoryWindows()
        self._own_link = False
        if redis is None and redis_url:
            redis = RedisLink.from_url(
                redis_url,
                connect_timeout=redis_timeout,
                socket_timeout=redis_timeout,
                cooldown=retry_backoff,
                max_cooldown=max(retry_backoff, max_retry_backoff),
                client_name="pypole-ratelimit",
            )
            self._own_link = True
        self._link = redis
        self._redis = RedisWindows(redis.mux, key_prefix) if redis is not None else None

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> RateLimiter:
        """The limiter ``PYPOLE_RATE_LIMIT``, ``PYPOLE_AUTH_RATE_LIMIT``,
        ``PYPOLE_TRUSTED_PROXIES`` and ``PYPOLE_REDIS_URL`` describe (pass ``redis=`` the
        app's link to share it); raises ``ConfigError`` on a malformed limit or network."""
        if "redis" not in options:
            options["redis_url"] = settings.redis_url
        return cls(
            rate_limit=settings.rate_limit,
            auth_rate_limit=settings.auth_rate_limit,
            trusted_proxies=settings.trusted_proxies,
            **options,
        )

    @property
    def trusted_proxies(self) -> tuple[Any, ...]:
        return self.clients.trusted_proxies

    @property
    def shared(self) -> bool:
        """True while counts go to Redis (False in process, or while Redis is failing)."""
        return self._link is not None and not self._link.breaker.degraded

    async def close(self) -> None:
        if self._link is not None and self._own_link:
            await self._link.close()

    def client_ip(self, scope: Scope) -> str:
        """The client address of this request (see :class:`.ClientResolver`)."""
        return self.clients.client_ip(scope)

    # -- charging ----------------------------------------------------------------------------

    async def hit(self, scope: Scope, *, auth: bool = False) -> Decision:
        """Charge one request to the general budget, and also to the auth budget if ``auth``.

        Never raises for a store failure: Redis errors fall back to the in-process store.
        """
        clients = self.clients
        bucket = clients.bucket(clients.client_ip(scope))
        return await self._charge(bucket, self._both if auth else self._api)

    async def hit_auth(self, conn: HTTPConnection) -> Decision:
        """Charge a login or register attempt to the auth budget alone.

        For the GraphQL ``login`` and ``register`` mutations, which the middleware cannot tell
        apart from other GraphQL requests (it has already charged the general budget): call it
        at the top of the resolver, before any password is checked, or put
        :class:`~pypole_gql.graphql.auth_limit.AuthRateLimit` on the field. Raises
        :class:`~pypole_gql.errors.RateLimited` when refused.
        """
        bucket = self.clients.bucket(self.clients.client_ip(conn.scope))
        decision = await self._charge(bucket, self._auth)
        if not decision.allowed:
            raise decision.error()
        return decision

    def hit_now(self, scope: Scope) -> Decision | None:
        """:meth:`hit` (general budget) without awaiting, when counts stay in process (no
        Redis configured); None when they go to Redis: then await :meth:`hit`."""
        if self._link is not None:
            return None
        clients = self.clients
        bucket = clients.bucket(clients.client_ip(scope))
        now = time.time()
        budget = self._api
        return self._decide(budget, self._memory.charge(bucket, budget.charges, now), now)

    def hit_now_headers(self, scope: Scope) -> list[tuple[bytes, bytes]] | Decision | None:
        """:meth:`hit_now`, an allowed charge answered by its header pairs alone (a new
        list, :meth:`Decision.raw_headers` for the same charge, no Decision built); the
        Decision of a refusal; None when counts go to Redis (then await :meth:`hit`)."""
        if self._link is not None:
            return None
        bucket = self.clients.client_bucket(scope)
        now = time.time()
        budget = self._api
        results = self._memory.charge(bucket, budget.charges, now)
        index = _reported(results)
        reset_time, remaining = results[index]
        if remaining < 0:
            return self._decide(budget, results, now)
        amount = budget.amounts[index]
        left = b"%d" % remaining
        reset_after = math.ceil(reset_time - now)
        return [
            budget.policy_pair,
            (
                b"ratelimit",
                b"limit=%b, remaining=%b, reset=%d"
                % (amount, left, reset_after if reset_after > 0 else 0),
            ),
            (b"x-ratelimit-limit", amount),
            (b"x-ratelimit-remaining", left),
            (b"x-ratelimit-reset", b"%d" % math.ceil(reset_time if reset_time > now else now)),
        ]

    async def _charge(self, bucket: str, budget: _Budget) -> Decision:
        now = time.time()
        charges = budget.charges
        if self._link is None:  # no Redis configured: no round trip to wait for
            results = self._memory.charge(bucket, charges, now)
        else:
            results = await self._store(bucket, charges, now)
        return self._decide(budget, results, now)

    @staticmethod
    def _decide(budget: _Budget, results: list[WindowStats], now: float) -> Decision:
        index = _reported(results)
        reset_time, remaining = results[index]
        return Decision(
            remaining >= 0,  # allowed
            budget.charges[index].item,  # limit
            max(0, remaining),  # remaining
            max(reset_time, now),  # reset_at
            max(0, math.ceil(reset_time - now)),  # reset_after
            budget.policies,
            budget.policy_header,
        )

    async def _store(
        self, bucket: str, charges: tuple[Charge, ...], now: float
    ) -> list[WindowStats]:
        """Charge on Redis while it works, in process otherwise."""
        link, redis = self._link, self._redis
        if link is not None and redis is not None and link.breaker.allow():
            try:
                result = await redis.charge(bucket, charges, now)
            except Exception as exc:
                # Any failure (a script error too): this request counts in process.
                link.breaker.failed(exc, user=USER)
            else:
                link.breaker.succeeded(user=USER)
                return result
        return self._memory.charge(bucket, charges, now)
