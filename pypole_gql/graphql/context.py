"""The per-request GraphQL context: resources, the bearer token, DataLoaders made per request."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from pypole_gql.auth.tokens import parse_bearer
from pypole_gql.resources import Resources

L = TypeVar("L", bound=DataLoader[Any, Any])


class GraphQLContext:
    """What every resolver sees as ``info.context``."""

    def __init__(self, request: Request, response: Response, resources: Resources) -> None:
        self.request = request
        self.response = response
        self.resources = resources
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}
        self.cache: dict[Hashable, Any] = {}

    @property
    def settings(self) -> Any:
        return self.resources.settings

    def loader(self, key: Hashable, factory: Callable[[], L]) -> L:
        """The request's DataLoader for ``key``, created by ``factory`` on first use.

        Loaders live exactly one request, so batching spans the whole query while no data
        leaks between users or outlives the cache policy.
        """
        existing = self._loaders.get(key)
        if existing is None:
            existing = factory()
            self._loaders[key] = existing
        return existing  # type: ignore[return-value]

    @property
    def bearer_token(self) -> str | None:
        return parse_bearer(self.request.headers.get("authorization"))


#: What resolvers take as ``info``.
Info = strawberry.Info[GraphQLContext, None]
