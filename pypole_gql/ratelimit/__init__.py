"""Per-client rate limits on ``/graphql`` and ``/api``; a stricter one for login and register.

Modules: :mod:`.client_ip` (who the client is), :mod:`.decision` (what to answer: headers,
the 429), :mod:`.windows` (the moving windows, in process and on Redis), :mod:`.limiter`
(charging a request, falling back when Redis is away) and :mod:`.middleware` (which requests
are charged). The GraphQL ``login``/``register`` charge is
:class:`pypole_gql.graphql.auth_limit.AuthRateLimit`.

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
  budget, and in process otherwise. While Redis is away (the app's one
  :class:`~pypole_gql.redis_link.RedisLink` breaker is open: ``redis.degraded``) the limiter
  counts in process, so the limit still holds per instance, until Redis answers again
  (``redis.recovered``).
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

from pypole_gql.ratelimit.decision import Decision
from pypole_gql.ratelimit.limiter import DEFAULT_KEY_PREFIX, RateLimiter
from pypole_gql.ratelimit.middleware import (
    AUTH_PATHS,
    EXEMPT_PATHS,
    RateLimitMiddleware,
    charged,
    get_limiter,
)

__all__ = [
    "AUTH_PATHS",
    "DEFAULT_KEY_PREFIX",
    "EXEMPT_PATHS",
    "Decision",
    "RateLimitMiddleware",
    "RateLimiter",
    "charged",
    "get_limiter",
]
