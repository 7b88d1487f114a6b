"""What one charge decides and how it is told: ``RateLimit``/``X-RateLimit-*`` headers,
``Retry-After``, and the :class:`~pypole_gql.errors.RateLimited` error of a refusal."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from limits import RateLimitItem

from pypole_gql.errors import RateLimited


@dataclass(slots=True)
class Decision:
    """The outcome of charging one request: whether it may proceed and what to tell the client
    (read-only by convention: not frozen, since one is built for every charged request and a
    frozen dataclass costs twice as much to build).

    ``limit`` is the policy reported in the headers: the one that refused the request, or else
    the one closest to running out. ``policies`` lists every policy that was charged;
    ``policy_header`` is their ``RateLimit-Policy`` value (worked out from them when empty).
    """

    allowed: bool
    limit: RateLimitItem
    remaining: int
    reset_at: float
    reset_after: int
    policies: tuple[RateLimitItem, ...]
    policy_header: str = ""

    def _policy(self) -> str:
        return self.policy_header or policy_header(self.policies)

    @property
    def detail(self) -> str:
        return f"Rate limit exceeded: {self.limit}"

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy``/``RateLimit`` (draft 07), ``X-RateLimit-*`` and, when refused,
        ``Retry-After``."""
        amount = str(self.limit.amount)
        remaining = str(self.remaining)
        headers = {
            "RateLimit-Policy": self._policy(),
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
        amount = b"%d" % self.limit.amount
        remaining = b"%d" % self.remaining
        headers = [
            (b"ratelimit-policy", self._policy().encode()),
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
def policy_header(policies: tuple[RateLimitItem, ...]) -> str:
    """The ``RateLimit-Policy`` value of ``policies``: ``<limit>;w=<window seconds>`` each."""
    return ", ".join(f"{p.amount};w={p.get_expiry()}" for p in policies)
