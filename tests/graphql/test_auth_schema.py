"""The account part of the schema is exactly the issue's contract, and fully described."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from tests.schema_support import core_schema

CONTRACT = """
scalar DateTime
type Query { me: User }
type Mutation {
  register(input: RegisterInput!): AuthPayload!
  login(email: String!, password: String!): AuthPayload!
  refreshToken(refreshToken: String!): AuthPayload!
  logout(refreshToken: String): Boolean!
  updateMe(input: UpdateMeInput!): User!
  updatePreferences(input: PreferencesInput!): User!
}
type AuthPayload { accessToken: String!  refreshToken: String!  tokenType: String!  expiresIn: Int!  user: User! }
enum Theme { DARK LIGHT SYSTEM }
input RegisterInput { email: String!  username: String!  password: String!  favoriteTeam: String favoriteDriver: String  theme: Theme }
input UpdateMeInput { email: String  username: String  password: String  currentPassword: String }
input PreferencesInput { favoriteTeam: String  favoriteDriver: String  theme: Theme }
type User { id: ID!  email: String!  username: String!  isActive: Boolean!  favoriteTeam: String favoriteDriver: String  theme: Theme!  createdAt: DateTime!  updatedAt: DateTime! }
"""  # noqa: E501
CONTRACT_TYPES = ("Query", "Mutation", "AuthPayload", "Theme", "RegisterInput", "UpdateMeInput",
                  "PreferencesInput", "User")  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return core_schema()


def shape(schema: GraphQLSchema, name: str, only: set[str] | None = None) -> Any:
    """A type's fields as {name: (type, default, {arg: (type, default)})}; enum values."""
    graphql_type = schema.type_map[name]
    if isinstance(graphql_type, GraphQLEnumType):
        return sorted(graphql_type.values)
    assert isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType)
    fields: dict[str, Any] = {}
    for field_name, field in graphql_type.fields.items():
        if only is not None and field_name not in only:
            continue
        args = {
            arg_name: (str(arg.type), getattr(arg, "default_value", None))
            for arg_name, arg in getattr(field, "args", {}).items()
        }
        fields[field_name] = (str(field.type), args)
    return fields


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_type_matches_the_contract(schema: GraphQLSchema, name: str) -> None:
    contract = build_schema(CONTRACT)
    expected = shape(contract, name)
    # Query and Mutation also hold other features' fields.
    only = set(expected) if name in ("Query", "Mutation") else None

    assert shape(schema, name, only) == expected


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_type_is_described(schema: GraphQLSchema, name: str) -> None:
    graphql_type = schema.type_map[name]
    contract_type = build_schema(CONTRACT).type_map[name]
    if name not in ("Query", "Mutation"):
        assert graphql_type.description
    if isinstance(graphql_type, GraphQLEnumType):
        assert all(value.description for value in graphql_type.values.values())
        return
    assert isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType)
    assert isinstance(contract_type, GraphQLObjectType | GraphQLInputObjectType)
    for field_name in contract_type.fields:
        field = graphql_type.fields[field_name]
        assert field.description, f"{name}.{field_name}"
        for arg_name, arg in getattr(field, "args", {}).items():
            assert arg.description, f"{name}.{field_name}({arg_name})"
