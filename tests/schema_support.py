"""The app's GraphQL schema as graphql-core sees it, for tests that walk or validate against it.

Strawberry keeps its ``GraphQLSchema`` in a private attribute and has no public accessor, so
the tests rebuild it from the printed SDL (what ``schema.graphql`` holds and clients see):
the same types, fields, arguments, defaults and descriptions.
"""

from __future__ import annotations

from graphql import GraphQLSchema
from graphql import build_schema as parse_sdl
from strawberry import Schema
from strawberry.printer import print_schema

from pypole_gql.graphql.schema import build_schema


def core_schema(schema: Schema | None = None) -> GraphQLSchema:
    """``schema`` (the app's, by default) as a graphql-core schema built from its SDL."""
    return parse_sdl(print_schema(schema or build_schema()))
