"""The GraphQL schema: feature modules contribute their Query and Mutation types here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from pypole_gql.graphql.errors import AppErrors

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry would log every error with a traceback at ERROR level, a wrong password
        # included. AppErrors already logs the unexpected ones (graphql.unexpected_error);
        # AppErrors and parse/validation errors are the client's, not faults of the server.
        return


def _query_types() -> tuple[type, ...]:
    from pypole_gql.graphql.auth import AuthQuery
    from pypole_gql.graphql.f1 import F1Query

    return (AuthQuery, F1Query)


def _mutation_types() -> tuple[type, ...]:
    from pypole_gql.graphql.auth import AuthMutation

    return (AuthMutation,)


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema with its abuse limits; ``introspection=False`` also hides field suggestions."""
    from graphql.validation import NoSchemaIntrospectionCustomRule

    # Factories, not instances: an extension keeps the request's execution context, so each
    # request needs its own (a shared instance would mix up concurrent requests).
    extensions: list[Any] = [
        AppErrors,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    query = merge_types("Query", _query_types())
    mutation = merge_types("Mutation", _mutation_types())
    return _Schema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
