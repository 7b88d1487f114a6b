"""``examples/queries/``: the dashboard's typical operations, valid against the schema built
from the code (not against the committed ``schema.graphql``, which has a test of its own).

Each ``.graphql`` file holds one named operation, named after the file (``race_weekend`` ->
``RaceWeekend``), that takes its inputs as variables; the fragments they share live in
``fragments.graphql``. The generated client (tests/contract/test_codegen.py) compiles the
whole directory as one document, so that is validated too.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    parse,
    validate,
)
from graphql.language import Visitor, visit
from graphql.language.ast import ArgumentNode

from tests.schema_support import core_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "queries"
FRAGMENTS = EXAMPLES / "fragments.graphql"
OPERATION_FILES = sorted(path for path in EXAMPLES.glob("*.graphql") if path != FRAGMENTS)

#: What the dashboard does (issue #5, "Contracts"); more examples are welcome.
DASHBOARD_OPERATIONS = {
    "SeasonDashboard",
    "RaceWeekend",
    "NextRace",
    "DriverLapsAndStints",
    "LapTelemetry",
    "RaceAnalysis",
    "Register",
    "Login",
    "RefreshToken",
    "Me",
    "UpdatePreferences",
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return core_schema()


@cache
def _parsed(path: Path) -> DocumentNode:
    return parse(path.read_text(), no_location=False)


def _fragments() -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in _parsed(FRAGMENTS).definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _operation(path: Path) -> OperationDefinitionNode:
    (operation,) = _parsed(path).definitions
    assert isinstance(operation, OperationDefinitionNode)
    return operation


def _spreads(node: Node) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            names.add(spread.name.value)

    visit(node, Spreads())
    return names


def _with_fragments(operation: OperationDefinitionNode) -> DocumentNode:
    """The operation and every fragment it spreads, directly or through another fragment."""
    known = _fragments()
    needed: dict[str, FragmentDefinitionNode] = {}
    pending = _spreads(operation)
    while pending:
        name = pending.pop()
        if name in needed or name not in known:
            continue  # an unknown fragment is left for validate() to report
        needed[name] = known[name]
        pending |= _spreads(known[name])
    return DocumentNode(definitions=(operation, *needed.values()))


def _literals(value: ValueNode) -> Iterator[ValueNode]:
    """Parts of an argument value that are not variables."""
    if isinstance(value, VariableNode):
        return
    if isinstance(value, ListValueNode):
        for item in value.values:
            yield from _literals(item)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            yield from _literals(field.value)
    else:
        yield value


def _pascal(stem: str) -> str:
    return "".join(part.title() for part in stem.split("_"))


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def test_the_dashboard_operations_are_all_there() -> None:
    names = {name.value for path in OPERATION_FILES if (name := _operation(path).name)}
    missing = DASHBOARD_OPERATIONS - names
    assert not missing, f"no example for {sorted(missing)}"


def test_fragments_file_holds_only_fragments() -> None:
    definitions = _parsed(FRAGMENTS).definitions
    assert definitions
    assert all(isinstance(d, FragmentDefinitionNode) for d in definitions)


@pytest.mark.parametrize("path", OPERATION_FILES, ids=_ids(OPERATION_FILES))
def test_one_operation_named_after_its_file(path: Path) -> None:
    definitions = _parsed(path).definitions
    assert len(definitions) == 1, f"{path.name}: one operation and nothing else"
    operation = _operation(path)
    assert operation.name is not None, f"{path.name}: the operation has no name"
    assert operation.name.value == _pascal(path.stem)


@pytest.mark.parametrize("path", OPERATION_FILES, ids=_ids(OPERATION_FILES))
def test_inputs_come_as_variables(path: Path) -> None:
    literals: list[str] = []

    class Arguments(Visitor):
        def enter_argument(self, argument: ArgumentNode, *_: object) -> None:
            if any(True for _ in _literals(argument.value)):
                literals.append(argument.name.value)

    visit(_operation(path), Arguments())
    assert not literals, f"{path.name}: literal values for {literals}; use variables"


@pytest.mark.parametrize("path", OPERATION_FILES, ids=_ids(OPERATION_FILES))
def test_operation_is_valid_against_the_schema(path: Path, schema: GraphQLSchema) -> None:
    errors = validate(schema, _with_fragments(_operation(path)))
    assert not errors, f"{path.name}:\n" + "\n".join(str(error) for error in errors)


def test_whole_directory_is_one_valid_document(schema: GraphQLSchema) -> None:
    """What codegen compiles: unique names, every fragment used, every spread defined."""
    definitions = [
        d for path in sorted(EXAMPLES.glob("*.graphql")) for d in _parsed(path).definitions
    ]
    errors = validate(schema, DocumentNode(definitions=tuple(definitions)))
    assert not errors, "\n".join(str(error) for error in errors)
