"""Per-client rate limits on ``/graphql`` and ``/api``; a stricter one for login and register.

Contract:

* Every HTTP request under ``/graphql`` or ``/api`` costs one hit of ``PYPOLE_RATE_LIMIT`` (moving
  window) for its client IP. Everything else (``/health/*``, static assets) is never counted.
* ``POST /api/v1/auth/login`` and ``POST /api/v1/auth/register`` also cost one hit of
  ``PYPOLE_AUTH_RATE_LIMIT``, a separate bucket. The GraphQL ``login`` and ``register``
  mutations are charged where they resolve, by :class:`AuthRateLimit` (or a direct call to
  :meth:`RateLimiter.hit_auth`), so aliasing a mutation or repeating it in a batch pays once per
  execution instead of slipping past a check on the request text.
* Counters live in Redis when ``PYPOLE_REDIS_URL`` is set, so every instance shares one
  budget, and in process otherwise. When Redis fails the limiter counts in process (the limit
  still holds per instance), logs ``ratelimit.store_fallback`` once, and probes Redis again after
  a back-off that grows from ``retry_backoff`` to ``max_retry_backoff`` seconds.
* Responses carry draft-ietf-httpapi-ratelimit-headers-07 headers (``RateLimit-Policy: 60;w=60``
  and ``RateLimit: limit=60, remaining=59, reset=60``), plus ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix time, the GitHub convention);
  a 429 adds ``Retry-After`` (seconds). ``reset`` is the number of seconds until the oldest
  counted request leaves the window, i.e. until one more request is allowed.
* A refused request gets HTTP 429 with JSON ``{"detail": "Rate limit exceeded: 60 per 1 minute"}``;
  under ``/graphql`` the body also has ``errors: [{message, extensions: {code: "RATE_LIMITED",
  retryAfter}}]``, a GraphQL-over-HTTP request error, so REST and GraphQL clients both read it.
* ``X-Forwarded-For`` is believed only when the peer is in ``PYPOLE_TRUSTED_PROXIES``; the client
  is the rightmost hop that is not a trusted proxy. The result is stored in
  ``scope["state"]["client_ip"]`` for the access log. IPv6 clients share one budget per /64,
  since one host usually owns a whole /64.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.util import WindowStats
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info

from pypole_gql.config import ConfigError, Settings
from pypole_gql.errors import RateLimited
from pypole_gql.logging import get_logger

log = get_logger("pypole.ratelimit")

T = TypeVar("T")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_KEY_PREFIX = "pypole:ratelimit:v1"
LIMITED_PREFIXES = ("/graphql", "/api")
AUTH_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register"})
GRAPHQL_PREFIX = "/graphql"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of charging one request: whether it may proceed and what to tell the client.

    ``limit`` is the policy reported in the headers: the one that refused the request, or else
    the one closest to running out. ``policies`` lists every policy that was charged.
    """

    allowed: bool
    limit: RateLimitItem
    remaining: int
    reset_at: float
    reset_after: int
    policies: tuple[RateLimitItem, ...]

    @property
    def detail(self) -> str:
        return f"Rate limit exceeded: {self.limit}"

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy``/``RateLimit`` (draft 07), ``X-RateLimit-*`` and, when refused,
        ``Retry-After``."""
        amount = str(self.limit.amount)
        remaining = str(self.remaining)
        headers = {
            "RateLimit-Policy": ", ".join(f"{p.amount};w={p.get_expiry()}" for p in self.policies),
            "RateLimit": f"limit={amount}, remaining={remaining}, reset={self.reset_after}",
            "X-RateLimit-Limit": amount,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers

    def error(self) -> RateLimited:
        """The :class:`RateLimited` error for this refusal (REST renders it as a 429)."""
        return RateLimited(
            self.detail, headers=self.headers(), extra={"retryAfter": max(1, self.reset_after)}
        )


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


def _parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"PYPOLE_TRUSTED_PROXIES: {cidr!r} is not an IP network") from exc
    return tuple(networks)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class RateLimiter:
    """Charges requests against the general and the auth budget of their client IP.

    Built once per app (``Resources.limiter``) and closed at shutdown with :meth:`close`.
    """

    def __init__(
        self,
        *,
        rate_limit: str,
        auth_rate_limit: str,
        trusted_proxies: Sequence[str] = (),
        redis_url: str = "",
        key_prefix: str = DEFAULT_KEY_PREFIX,
        redis_timeout: float = 0.25,
        retry_backoff: float = 1.0,
        max_retry_backoff: float = 30.0,
    ) -> None:
        self.limits = _parse_limits(rate_limit, "PYPOLE_RATE_LIMIT")
        self.auth_limits = _parse_limits(auth_rate_limit, "PYPOLE_AUTH_RATE_LIMIT")
        self.trusted_proxies = _parse_networks(trusted_proxies)
        self._memory_storage = MemoryStorage()
        self._memory = MovingWindowRateLimiter(self._memory_storage)
        self._pool: aioredis.ConnectionPool | None = None
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            url = redis_url.removeprefix("async+")
            # Our own pool, so no client-side retries (redis-py retries with back-off by
            # default): a dead Redis must cost one short timeout, then the fallback decides.
            self._pool = aioredis.ConnectionPool.from_url(
                url, socket_timeout=redis_timeout, socket_connect_timeout=redis_timeout
            )
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=key_prefix,
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]  # typed as scalars only
            )
            self._redis = MovingWindowRateLimiter(storage)
        self._retry_backoff = retry_backoff
        self._max_retry_backoff = max_retry_backoff
        self._backoff = retry_backoff
        self._degraded_since: float | None = None
        self._retry_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> RateLimiter:
        """The limiter ``PYPOLE_RATE_LIMIT``, ``PYPOLE_AUTH_RATE_LIMIT``,
        ``PYPOLE_TRUSTED_PROXIES`` and ``PYPOLE_REDIS_URL`` describe; raises ``ConfigError``
        on a malformed limit or network."""
        return cls(
            rate_limit=settings.rate_limit,
            auth_rate_limit=settings.auth_rate_limit,
            trusted_proxies=settings.trusted_proxies,
            redis_url=settings.redis_url,
            **options,
        )

    @property
    def shared(self) -> bool:
        """True while counts go to Redis (False in process, or while Redis is failing)."""
        return self._redis is not None and self._degraded_since is None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
        timer = self._memory_storage.timer
        if timer is not None and not timer.done():
            timer.cancel()

    # -- client identity -------------------------------------------------------------------

    def client_ip(self, scope: Scope) -> str:
        """The client address of this request, resolved once and kept in ``scope["state"]``.

        ``X-Forwarded-For`` counts only when the peer is a trusted proxy; then the client is
        the rightmost hop that is not itself a trusted proxy.
        """
        state = scope.setdefault("state", {})
        resolved = state.get("client_ip")
        if resolved:
            return str(resolved)
        peer = scope.get("client")
        address = str(peer[0]) if peer else "unknown"
        if self.trusted_proxies and self._is_trusted(address):
            forwarded = [
                hop
                for name, value in scope.get("headers", [])
                if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")
            ]
            for hop in reversed(forwarded):
                hop_ip = _parse_ip(hop)
                if hop_ip is None:
                    break  # garbage: stop at the last hop a trusted proxy vouched for
                address = str(hop_ip)
                if not self._is_trusted(address):
                    break
        else:
            parsed = _parse_ip(address)
            address = str(parsed) if parsed is not None else address
        state["client_ip"] = address
        return address

    def _is_trusted(self, address: str) -> bool:
        ip = _parse_ip(address)
        return ip is not None and any(ip in network for network in self.trusted_proxies)

    @staticmethod
    def _bucket(address: str) -> str:
        ip = _parse_ip(address)
        if isinstance(ip, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((ip, 64), strict=False))
        return address

    # -- charging ----------------------------------------------------------------------------

    async def hit(self, scope: Scope, *, auth: bool = False) -> Decision:
        """Charge one request to the general budget, and also to the auth budget if ``auth``.

        Never raises for a store failure: Redis errors fall back to the in-process store.
        """
        bucket = self._bucket(self.client_ip(scope))
        charges = [("api", item) for item in self.limits]
        if auth:
            charges += [("auth", item) for item in self.auth_limits]
        return await self._charge(bucket, charges)

    async def hit_auth(self, conn: HTTPConnection) -> Decision:
        """Charge a login or register attempt to the auth budget alone.

        For the GraphQL ``login`` and ``register`` mutations, which the middleware cannot tell
        apart from other GraphQL requests (it has already charged the general budget): call it
        at the top of the resolver, before any password is checked, or put
        :class:`AuthRateLimit` on the field. Raises :class:`RateLimited` when refused.
        """
        bucket = self._bucket(self.client_ip(conn.scope))
        decision = await self._charge(bucket, [("auth", item) for item in self.auth_limits])
        if not decision.allowed:
            raise decision.error()
        return decision

    async def _charge(self, bucket: str, charges: list[tuple[str, RateLimitItem]]) -> Decision:
        report: tuple[RateLimitItem, WindowStats] | None = None
        allowed = True
        for scope_name, item in charges:
            ok, stats = await self._store(
                functools.partial(_acquire, item=item, scope_name=scope_name, bucket=bucket)
            )
            if not ok:
                allowed, report = False, (item, stats)
                break
            if report is None or stats.remaining < report[1].remaining:
                report = (item, stats)
        assert report is not None
        item, stats = report
        now = time.time()
        return Decision(
            allowed=allowed,
            limit=item,
            remaining=max(0, stats.remaining),
            reset_at=max(stats.reset_time, now),
            reset_after=max(0, math.ceil(stats.reset_time - now)),
            policies=tuple(item for _, item in charges),
        )

    async def _store(self, op: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        """Run ``op`` on Redis while it works, on the in-process store otherwise."""
        if self._redis is not None:
            now = time.monotonic()
            probing = self._degraded_since is not None
            if not probing or now >= self._retry_at:
                if probing:
                    # One probe per back-off period; requests meanwhile stay in process.
                    self._retry_at = now + self._backoff
                try:
                    result = await op(self._redis)
                except Exception as exc:
                    self._redis_failed(exc, probing=probing)
                else:
                    if probing:
                        self._redis_recovered()
                    return result
        return await op(self._memory)

    def _redis_failed(self, exc: Exception, *, probing: bool) -> None:
        now = time.monotonic()
        if self._degraded_since is None:
            self._degraded_since = now
            self._backoff = self._retry_backoff
            self._retry_at = now + self._backoff
            log.warning(
                "ratelimit.store_fallback",
                store="memory",
                error_type=type(exc).__name__,
                error=str(exc),
                retry_in=self._backoff,
            )
        elif probing:
            self._backoff = min(self._backoff * 2, self._max_retry_backoff)
            self._retry_at = now + self._backoff
            log.debug("ratelimit.store_probe_failed", error_type=type(exc).__name__)

    def _redis_recovered(self) -> None:
        since = self._degraded_since
        self._degraded_since = None
        self._backoff = self._retry_backoff
        log.info(
            "ratelimit.store_recovered",
            store="redis",
            degraded_seconds=round(time.monotonic() - since, 1) if since is not None else None,
        )


async def _acquire(
    strategy: MovingWindowRateLimiter, item: RateLimitItem, scope_name: str, bucket: str
) -> tuple[bool, WindowStats]:
    allowed = await strategy.hit(item, scope_name, bucket)
    stats = await strategy.get_window_stats(item, scope_name, bucket)
    return allowed, stats


def get_limiter(conn: HTTPConnection) -> RateLimiter:
    """The app's limiter (``Resources.limiter``); raises if the lifespan has not built it."""
    resources = getattr(conn.app.state, "resources", None)
    limiter = getattr(resources, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("no rate limiter: Resources.limiter is built in the app's lifespan")
    return limiter


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class RateLimitMiddleware:
    """Pure ASGI middleware charging ``/graphql`` and ``/api`` requests to the app's limiter.

    Add it inside :class:`~pypole_gql.middleware.RequestContextMiddleware` so the access log
    shows the client IP it resolves and the 429s it answers.
    """

    def __init__(self, app: ASGIApp, *, auth_paths: frozenset[str] = AUTH_PATHS) -> None:
        self.app = app
        self.auth_paths = auth_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not any(_under(path, prefix) for prefix in LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        limiter = get_limiter(HTTPConnection(scope))
        auth = scope["method"] == "POST" and path.rstrip("/") in self.auth_paths
        try:
            decision = await limiter.hit(scope, auth=auth)
        except Exception:
            # The stores never fail by design; if they do, serve the request but say so loudly.
            log.exception("ratelimit.check_failed", path=path)
            await self.app(scope, receive, send)
            return
        headers = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
        if not decision.allowed:
            await self._refuse(scope, send, decision, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = list(message.get("headers", []))
                # A handler that reported a stricter policy itself (AuthRateLimit) wins.
                if not any(name.lower() == b"ratelimit" for name, _ in existing):
                    message["headers"] = existing + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(
        scope: Scope, send: Send, decision: Decision, headers: list[tuple[bytes, bytes]]
    ) -> None:
        content: dict[str, Any] = {"detail": decision.detail}
        if _under(scope["path"], GRAPHQL_PREFIX):
            content["errors"] = [
                {"message": decision.detail, "extensions": decision.error().extensions()}
            ]
        body = orjson.dumps(content)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AuthRateLimit(FieldExtension):
    """Charges a GraphQL field (``login``, ``register``) to the auth budget on every execution.

    ``@strawberry.mutation(extensions=[AuthRateLimit()])``. Because it runs per resolved field,
    aliases and batched operations each pay. A refusal raises :class:`RateLimited` (rendered
    with ``extensions.code = "RATE_LIMITED"``) and turns the HTTP status into 429 with the
    rate-limit headers. ``info.context`` needs ``request`` and ``response`` attributes.
    """

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        request: HTTPConnection = info.context.request
        try:
            await get_limiter(request).hit_auth(request)
        except RateLimited as exc:
            response = info.context.response
            response.status_code = 429
            for name, value in exc.headers.items():
                response.headers[name] = value
            raise
        return await next_(source, info, **kwargs)
