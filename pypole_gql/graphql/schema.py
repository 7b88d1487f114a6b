"""The GraphQL schema: feature modules contribute their Query and Mutation types here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from pypole_gql.graphql.errors import AppErrors
from pypole_gql.graphql.execution import ExecutionContext as FastListExecution
from pypole_gql.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, DocumentLimits
from pypole_gql.graphql.validation_cache import CachedValidation

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "build_schema"]


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
    from pypole_gql.graphql.predictions import PredictionQuery
    from pypole_gql.graphql.profiles import ProfileQuery
    from pypole_gql.graphql.sessions import SessionQuery
    from pypole_gql.graphql.strategy import StrategyQuery
    from pypole_gql.graphql.widgets import WidgetQuery

    return (
        AuthQuery,
        F1Query,
        SessionQuery,
        ProfileQuery,
        StrategyQuery,
        WidgetQuery,
        PredictionQuery,
    )


def _mutation_types() -> tuple[type, ...]:
    from pypole_gql.graphql.auth import AuthMutation
    from pypole_gql.graphql.predictions import PredictionMutation

    return (AuthMutation, PredictionMutation)


def _root_type(name: str, types: tuple[type, ...], description: str) -> type:
    """The feature modules' root types merged into one, with the description of the whole."""
    merged = merge_types(name, types)
    return strawberry.type(type(name, (merged,), {}), description=description)


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema with its abuse limits; ``introspection=False`` also hides field suggestions."""
    from graphql.validation import NoSchemaIntrospectionCustomRule

    # Factories, not instances: an extension keeps the request's execution context, so each
    # request needs its own (a shared instance would mix up concurrent requests).
    # The limits (depth, aliases, repeated fields, directives, list sizes) are checked by
    # DocumentLimits before standard validation runs; see pypole_gql.graphql.limits.
    extensions: list[Any] = [
        AppErrors,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        DocumentLimits,
    ]
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    # Last: it sees the rules added above, and runs only when DocumentLimits passed.
    extensions.append(CachedValidation)
    query = _root_type(
        "Query",
        _query_types(),
        "Read operations: championship data from Jolpica, session data from FastF1 and the "
        "signed-in user. Send `Authorization: Bearer <accessToken>` for user fields.",
    )
    mutation = _root_type(
        "Mutation",
        _mutation_types(),
        "Account operations (registration, sign-in, token refresh, sign-out and profile "
        "changes) and the signed-in user's race predictions.",
    )
    return _Schema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        execution_context_class=FastListExecution,
    )
