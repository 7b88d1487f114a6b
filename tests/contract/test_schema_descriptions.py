"""The schema documents itself: every type, field, argument, enum value and input field of
``build_schema()`` carries a description, and the committed ``schema.graphql`` is what
``pypole export-schema`` writes from the code.

Built-in scalars (String, Int, Float, Boolean, ID), introspection types and the directives
of the GraphQL specification are not ours to describe and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_directive,
    is_specified_scalar_type,
)

from pypole_gql.cli import main as pypole
from tests.schema_support import core_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_SCHEMA = REPO_ROOT / "schema.graphql"


def _ours(named: GraphQLNamedType) -> bool:
    return not (is_introspection_type(named) or is_specified_scalar_type(named))


def _arguments(owner: str, arguments: dict[str, GraphQLArgument]) -> Iterator[tuple[str, bool]]:
    for name, argument in arguments.items():
        yield f"argument {owner}({name}:)", bool(argument.description)


def _documentation(schema: GraphQLSchema) -> Iterator[tuple[str, bool]]:
    """(what, has a description) for every element of the schema that we define."""
    for named in schema.type_map.values():
        if not _ours(named):
            continue
        yield f"type {named.name}", bool(named.description)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in named.fields.items():
                yield f"field {named.name}.{name}", bool(field.description)
                yield from _arguments(f"{named.name}.{name}", field.args)
        elif isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                yield f"input field {named.name}.{name}", bool(input_field.description)
        elif isinstance(named, GraphQLEnumType):
            for name, value in named.values.items():
                yield f"enum value {named.name}.{name}", bool(value.description)
    for directive in schema.directives:
        if is_specified_directive(directive):
            continue
        yield f"directive @{directive.name}", bool(directive.description)
        yield from _arguments(f"@{directive.name}", directive.args)


def test_every_schema_element_has_a_description() -> None:
    elements = list(_documentation(core_schema()))
    undocumented = [what for what, described in elements if not described]
    assert len(elements) > 100, "the walk found too little of the schema to mean anything"
    assert not undocumented, "without a description:\n  " + "\n  ".join(undocumented)


def test_the_walk_reports_what_lacks_a_description() -> None:
    from graphql import build_schema as parse_sdl

    schema = parse_sdl(
        '''
        """Described."""
        type Query {
          bare(plain: Int, """Described.""" told: Int): Colour
          """Described."""
          told: Int
        }
        enum Colour { RED """Described.""" BLUE }
        input Filter { loose: Int }
        directive @mark(level: Int) on FIELD
        '''
    )
    undocumented = sorted(what for what, described in _documentation(schema) if not described)
    assert undocumented == [
        "argument @mark(level:)",
        "argument Query.bare(plain:)",
        "directive @mark",
        "enum value Colour.RED",
        "field Query.bare",
        "input field Filter.loose",
        "type Colour",
        "type Filter",
    ]


def test_committed_schema_is_what_export_schema_writes(tmp_path: Path) -> None:
    exported = tmp_path / "schema.graphql"
    assert pypole(["export-schema", "--output", str(exported)]) == 0
    assert COMMITTED_SCHEMA.read_text() == exported.read_text(), (
        "schema.graphql is out of date: run `uv run pypole export-schema` and commit it"
    )
