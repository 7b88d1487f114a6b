"""Per-client rate limits on ``/graphql`` and ``/api``; a stricter one for login and register.

Contract:

* Every HTTP request under ``/graphql`` or ``/api`` costs one hit of ``PYPOLE_RATE_LIMIT`` (moving
  window) for its client IP. Never counted: everything else (``/health/*``, the docs pages'
  assets under ``/static/docs``), the docs pages themselves (``/api/v1/docs``, ``/redoc``,
  ``/openapi.json`` and GraphiQL's page, ``GET /graphql`` from a browser), ``/api/v1/health``
  and CORS preflights.
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
* A refused request gets HTTP 429 rendered by :func:`pypole_gql.errors.render_for_path`: under
  ``/api`` ``{"detail": "Rate limit exceeded: 300 per 1 minute"}``, under ``/graphql`` a
  GraphQL-over-HTTP request error ``{"errors": [{message, extensions: {code: "RATE_LIMITED",
  retryAfter, requestId}}]}``.
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
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs

import redis.asyncio as aioredis
from limits import RateLimitItem, parse_many
from limits.util import WindowStats
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info

from pypole_gql.config import ConfigError, Settings
from pypole_gql.errors import RateLimited, render_for_path
from pypole_gql.logging import get_logger, request_id_var

log = get_logger("pypole.ratelimit")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_KEY_PREFIX = "pypole:ratelimit:v1"
LIMITED_PREFIXES = ("/graphql", "/api")
AUTH_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register"})
#: Never charged on GET/HEAD: the docs pages and the document they render, and the health
#: route (a load balancer's probe must not lock itself, or a dashboard, out).
EXEMPT_PATHS = frozenset(
    {"/api/v1/docs", "/api/v1/redoc", "/api/v1/openapi.json", "/api/v1/health"}
)
GRAPHQL_PREFIX = "/graphql"
#: Resolved client addresses remembered per limiter (peer and forwarded-for values).
ADDRESS_MEMO_ENTRIES: Final = 4096
#: How often the in-process store drops the windows of clients gone quiet (seconds).
SWEEP_INTERVAL: Final = 10.0

# One round trip per request: every policy of the request is charged by one script, in
# order, stopping at the first refusal. The keys and the list layout are those of the
# ``limits`` library's moving window (newest hit first, trimmed to the limit, expiring
# with the window), so instances of older versions count in the same windows.
# ARGV: now, then per key: limit, expiry. Returns per key charged: allowed (0/1), the
# oldest hit still in the window (a string, "" when none) and how many hits it holds.
_CHARGE_SCRIPT: Final = """
local now = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local expiry = tonumber(ARGV[2 * i + 1])
    local allowed = 1
    local entry = redis.call('lindex', key, limit - 1)
    if entry and tonumber(entry) >= now - expiry then
        allowed = 0
    else
        redis.call('lpush', key, now)
        redis.call('ltrim', key, 0, limit - 1)
        redis.call('expire', key, expiry)
    end
    local low, high, found = 0, redis.call('llen', key) - 1, nil
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local value = tonumber(redis.call('lindex', key, mid))
        if value and value > now - expiry then
            found = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    if found then
        table.insert(result, allowed)
        table.insert(result, redis.call('lindex', key, found))
        table.insert(result, found + 1)
    else
        table.insert(result, allowed)
        table.insert(result, "")
        table.insert(result, 0)
    end
    if allowed == 0 then
        break
    end
end
return result
"""


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
            "RateLimit-Policy": _policy_header(self.policies),
            "RateLimit": f"limit={amount}, remaining={remaining}, reset={self.reset_after}",
            "X-RateLimit-Limit": amount,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """:meth:`headers` as ASGI header pairs (lower-case names), built directly: every
        limited response carries them."""
        amount = str(self.limit.amount).encode()
        remaining = str(self.remaining).encode()
        headers = [
            (b"ratelimit-policy", _policy_header(self.policies).encode()),
            (
                b"ratelimit",
                b"limit=%b, remaining=%b, reset=%d" % (amount, remaining, self.reset_after),
            ),
            (b"x-ratelimit-limit", amount),
            (b"x-ratelimit-remaining", remaining),
            (b"x-ratelimit-reset", b"%d" % math.ceil(self.reset_at)),
        ]
        if not self.allowed:
            headers.append((b"retry-after", b"%d" % max(1, self.reset_after)))
        return headers

    def error(self) -> RateLimited:
        """The :class:`RateLimited` error for this refusal (REST renders it as a 429)."""
        return RateLimited(
            self.detail, headers=self.headers(), extra={"retryAfter": max(1, self.reset_after)}
        )


@functools.lru_cache(maxsize=64)
def _policy_header(policies: tuple[RateLimitItem, ...]) -> str:
    return ", ".join(f"{p.amount};w={p.get_expiry()}" for p in policies)


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


@dataclass(frozen=True, slots=True)
class _Address:
    """What the limiter needs to know about one address, worked out once per address."""

    text: str  # normalised: an IPv4-mapped IPv6 address reads as the IPv4 one
    bucket: str  # the budget it counts against: itself, or its /64 for IPv6
    trusted: bool  # inside PYPOLE_TRUSTED_PROXIES


@dataclass(frozen=True, slots=True)
class _Charge:
    """One policy to charge: the budget (``api`` or ``auth``) and its limit."""

    scope: str
    item: RateLimitItem
    amount: int
    expiry: int


class _MemoryWindows:
    """Moving windows in process, as the ``limits`` library's moving window counts them.

    Per (budget, client, policy): the times of the hits still inside the window, oldest
    first, at most ``limit`` of them. A request is refused when the window already holds
    ``limit`` hits. Runs on the event loop without awaiting, so it needs no lock. Windows
    of clients gone quiet are dropped every :data:`SWEEP_INTERVAL` seconds.
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int, int], deque[float]] = {}
        self._next_sweep = 0.0

    def charge(self, bucket: str, charges: Sequence[_Charge], now: float) -> list[WindowStats]:
        """Charge each policy in order, stopping after the first that refuses; returns the
        stats of those charged, a refusal's ``remaining`` being -1."""
        if now >= self._next_sweep:
            self._sweep(now)
        results = []
        for charge in charges:
            key = (charge.scope, bucket, charge.amount, charge.expiry)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque(maxlen=charge.amount)
            start = now - charge.expiry
            while window and window[0] < start:
                window.popleft()
            allowed = len(window) < charge.amount
            if allowed:
                window.append(now)
            oldest = window[0] if window else now
            remaining = charge.amount - len(window) if allowed else -1
            results.append(WindowStats(oldest + charge.expiry, remaining))
            if not allowed:
                break
        return results

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_INTERVAL
        stale = [
            key for key, window in self._windows.items() if not window or window[-1] < now - key[3]
        ]
        for key in stale:
            del self._windows[key]


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
        api = [_Charge("api", item, item.amount, item.get_expiry()) for item in self.limits]
        auth = [_Charge("auth", item, item.amount, item.get_expiry()) for item in self.auth_limits]
        self._api_charges = tuple(api)
        self._auth_charges = tuple(auth)
        self._both_charges = (*api, *auth)
        self._policies = {
            charges: tuple(charge.item for charge in charges)
            for charges in (self._api_charges, self._auth_charges, self._both_charges)
        }
        self._addresses: dict[str, _Address | None] = {}
        self._memory = _MemoryWindows()
        self._key_prefix = key_prefix
        self._pool: aioredis.ConnectionPool | None = None
        self._script: Any = None
        if redis_url:
            url = redis_url.removeprefix("async+")
            # Our own pool, so no client-side retries (redis-py retries with back-off by
            # default): a dead Redis must cost one short timeout, then the fallback decides.
            self._pool = aioredis.ConnectionPool.from_url(
                url, socket_timeout=redis_timeout, socket_connect_timeout=redis_timeout
            )
            client = aioredis.Redis(connection_pool=self._pool)
            self._script = client.register_script(_CHARGE_SCRIPT)
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
        return self._script is not None and self._degraded_since is None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

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
        text = str(peer[0]) if peer else "unknown"
        found = self._address(text)
        if found is not None:
            text = found.text
            if found.trusted:
                text = self._forwarded_client(scope, text)
        state["client_ip"] = text
        return text

    def _forwarded_client(self, scope: Scope, peer: str) -> str:
        forwarded = [
            hop
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        client = peer
        for hop in reversed(forwarded):
            found = self._address(hop.strip())
            if found is None:
                break  # garbage: stop at the last hop a trusted proxy vouched for
            client = found.text
            if not found.trusted:
                break
        return client

    def _address(self, value: str) -> _Address | None:
        """``value`` parsed, bucketed and checked against the trusted proxies (None when it
        is not an IP address), remembered for the next request from it."""
        memo = self._addresses
        if value in memo:
            return memo[value]
        ip = _parse_ip(value)
        found = None
        if ip is not None:
            bucket = (
                str(ipaddress.IPv6Network((ip, 64), strict=False))
                if isinstance(ip, ipaddress.IPv6Address)
                else str(ip)
            )
            trusted = any(ip in network for network in self.trusted_proxies)
            found = _Address(str(ip), bucket, trusted)
        if len(memo) >= ADDRESS_MEMO_ENTRIES:
            memo.clear()
        memo[value] = found
        return found

    def _bucket(self, address: str) -> str:
        found = self._address(address)
        return address if found is None else found.bucket

    # -- charging ----------------------------------------------------------------------------

    async def hit(self, scope: Scope, *, auth: bool = False) -> Decision:
        """Charge one request to the general budget, and also to the auth budget if ``auth``.

        Never raises for a store failure: Redis errors fall back to the in-process store.
        """
        bucket = self._bucket(self.client_ip(scope))
        return await self._charge(bucket, self._both_charges if auth else self._api_charges)

    async def hit_auth(self, conn: HTTPConnection) -> Decision:
        """Charge a login or register attempt to the auth budget alone.

        For the GraphQL ``login`` and ``register`` mutations, which the middleware cannot tell
        apart from other GraphQL requests (it has already charged the general budget): call it
        at the top of the resolver, before any password is checked, or put
        :class:`AuthRateLimit` on the field. Raises :class:`RateLimited` when refused.
        """
        bucket = self._bucket(self.client_ip(conn.scope))
        decision = await self._charge(bucket, self._auth_charges)
        if not decision.allowed:
            raise decision.error()
        return decision

    async def _charge(self, bucket: str, charges: tuple[_Charge, ...]) -> Decision:
        now = time.time()
        results = await self._store(bucket, charges, now)
        # The policy to report: the one that refused, else the one closest to running out.
        index = len(results) - 1
        if results[index].remaining >= 0:
            for i in range(index - 1, -1, -1):
                if results[i].remaining <= results[index].remaining:
                    index = i
        reset_time, remaining = results[index]
        return Decision(
            allowed=remaining >= 0,
            limit=charges[index].item,
            remaining=max(0, remaining),
            reset_at=max(reset_time, now),
            reset_after=max(0, math.ceil(reset_time - now)),
            policies=self._policies[charges],
        )

    async def _store(
        self, bucket: str, charges: tuple[_Charge, ...], now: float
    ) -> list[WindowStats]:
        """Charge on Redis while it works, in process otherwise."""
        if self._script is not None:
            probing = self._degraded_since is not None
            if not probing or time.monotonic() >= self._retry_at:
                if probing:
                    # One probe per back-off period; requests meanwhile stay in process.
                    self._retry_at = time.monotonic() + self._backoff
                try:
                    result = await self._redis_charge(bucket, charges, now)
                except Exception as exc:
                    self._redis_failed(exc, probing=probing)
                else:
                    if probing:
                        self._redis_recovered()
                    return result
        return self._memory.charge(bucket, charges, now)

    async def _redis_charge(
        self, bucket: str, charges: tuple[_Charge, ...], now: float
    ) -> list[WindowStats]:
        keys = [f"{self._key_prefix}:{c.item.key_for(c.scope, bucket)}" for c in charges]
        args: list[float | int] = [now]
        for charge in charges:
            args += [charge.amount, charge.expiry]
        reply = await self._script(keys=keys, args=args)
        results = []
        for i in range(0, len(reply), 3):
            allowed, oldest, count = int(reply[i]), reply[i + 1], int(reply[i + 2])
            charge = charges[i // 3]
            start = float(oldest) if oldest else now
            remaining = charge.amount - count if allowed else -1
            results.append(WindowStats(start + charge.expiry, remaining))
        return results

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


def get_limiter(conn: HTTPConnection) -> RateLimiter:
    """The app's limiter (``Resources.limiter``); raises if the lifespan has not built it."""
    return _limiter_of(conn.scope)


def _limiter_of(scope: Scope) -> RateLimiter:
    resources = getattr(scope["app"].state, "resources", None)
    limiter = getattr(resources, "limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("no rate limiter: Resources.limiter is built in the app's lifespan")
    return limiter


_LIMITED_EXACT: Final = frozenset(LIMITED_PREFIXES)
_LIMITED_UNDER: Final = tuple(prefix + "/" for prefix in LIMITED_PREFIXES)


def _limited(path: str) -> bool:
    return path in _LIMITED_EXACT or path.startswith(_LIMITED_UNDER)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _is_preflight(scope: Scope) -> bool:
    """A CORS preflight: ``OPTIONS`` asking which method it may use (answered by the CORS
    middleware when it runs, by the router's 405 otherwise; charged in neither case)."""
    return (
        scope["method"] == "OPTIONS"
        and _header(scope, b"access-control-request-method") is not None
    )


def _is_graphiql_page(scope: Scope) -> bool:
    """A browser asking ``/graphql`` for GraphiQL's page: a GET with no ``query`` parameter
    that accepts HTML (Strawberry's own test for rendering the IDE)."""
    if scope["method"] not in ("GET", "HEAD") or scope["path"].rstrip("/") != GRAPHQL_PREFIX:
        return False
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if "query" in params:
        return False
    accept = (_header(scope, b"accept") or b"").decode("latin-1")
    return "text/html" in accept or "*/*" in accept


def charged(scope: Scope, *, graphiql: bool = True) -> bool:
    """Whether this request costs a hit: ``/graphql`` and ``/api`` requests do, except the
    docs pages (:data:`EXEMPT_PATHS`, GraphiQL's page when ``graphiql`` is on), the health
    route and CORS preflights. Their assets (``/static/docs``) are outside both prefixes."""
    path: str = scope["path"]
    if not _limited(path) or _is_preflight(scope):
        return False
    if scope["method"] in ("GET", "HEAD") and path.rstrip("/") in EXEMPT_PATHS:
        return False
    return not (graphiql and _is_graphiql_page(scope))


class RateLimitMiddleware:
    """Pure ASGI middleware charging ``/graphql`` and ``/api`` requests to the app's limiter.

    Add it inside :class:`~pypole_gql.middleware.RequestContextMiddleware` so the access log
    shows the client IP it resolves and the 429s it answers. ``graphiql``: whether the app
    serves GraphiQL's page on ``GET /graphql`` (then that page is not charged).
    """

    def __init__(
        self, app: ASGIApp, *, auth_paths: frozenset[str] = AUTH_PATHS, graphiql: bool = True
    ) -> None:
        self.app = app
        self.auth_paths = auth_paths
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not charged(scope, graphiql=self.graphiql):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limiter = _limiter_of(scope)
        auth = scope["method"] == "POST" and path.rstrip("/") in self.auth_paths
        try:
            decision = await limiter.hit(scope, auth=auth)
        except Exception:
            # The stores never fail by design; if they do, serve the request but say so loudly.
            log.exception("ratelimit.check_failed", path=path)
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await self._refuse(scope, send, decision)
            return
        headers = decision.raw_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = list(message.get("headers", ()))
                for name, _ in existing:
                    # A handler that reported a stricter policy itself (AuthRateLimit) wins.
                    if name.lower() == b"ratelimit":
                        break
                else:
                    message["headers"] = existing + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, decision: Decision) -> None:
        """429 in the shape of the edge (:func:`~pypole_gql.errors.render_for_path`)."""
        rendered = render_for_path(scope["path"], decision.error(), request_id_var.get())
        await send(
            {"type": "http.response.start", "status": 429, "headers": rendered.raw_headers()}
        )
        await send({"type": "http.response.body", "body": rendered.body()})


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
