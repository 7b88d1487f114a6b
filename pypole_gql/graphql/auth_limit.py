"""Charging the GraphQL ``login`` and ``register`` fields to the auth rate limit."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info

from pypole_gql.errors import RateLimited
from pypole_gql.ratelimit import get_limiter


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
