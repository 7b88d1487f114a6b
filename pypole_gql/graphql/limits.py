"""What one GraphQL request may cost, checked before any resolver runs.

Each check refuses a request before the next, more expensive step takes place: the view
bounds the body (size, media type, one operation), the parser stops at ``MAX_TOKENS``,
:class:`DocumentLimits` measures the parsed document (depth, aliases, repeated fields,
directives, list sizes) before graphql-core's own validation runs, and the view cancels an
execution that outlives ``PYPOLE_GRAPHQL_TIMEOUT``.

The document is measured first because standard validation is not cheap on hostile input:
its overlapping-fields check compares every pair of fields sharing a response name, so a few
hundred copies of one field cost seconds of CPU.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSchema
from graphql.language import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import (
    ASTValidationRule,
    MaxIntrospectionDepthRule,
    ValidationContext,
    validate,
)
from strawberry.extensions import SchemaExtension

#: Bytes of one POST body (the query text and its variables).
MAX_BODY_BYTES = 64 * 1024
#: Lexical tokens of one document; the parser stops past it.
MAX_TOKENS = 5000
#: Nested fields of one operation (``{ me { id } }`` is 2). In introspection the ``ofType``
#: chains of wrapped types do not count, so the standard introspection query fits.
MAX_DEPTH = 12
#: Aliased fields of one operation, fragments expanded.
MAX_ALIASES = 30
#: Fields selected again under a response name already selected at the same place
#: (through inline fragments and fragment spreads too), in the whole document.
MAX_REPEATED_FIELDS = 20
#: Directives written in one document.
MAX_DIRECTIVES = 50
#: Items of one list, in the document or in the variables.
MAX_LIST_ITEMS = 100

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass
class _Shape:
    """What a selection set costs: its depth, aliases and repeated fields (all nested)."""

    depth: int = 0
    aliases: int = 0
    repeats: int = 0
    keys: Counter[str] = field(default_factory=Counter)


class _ShapeMeter:
    """Measures selection sets with fragments expanded, each fragment measured once.

    Expanding fragments at every spread would be exponential in a chain of fragments that
    spread the next one twice; the memo keeps it linear while the totals still count every
    expansion (such a chain simply shows a huge number of aliases or repeats).
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._memo: dict[tuple[str, bool], _Shape] = {}
        self._active: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None, introspection: bool) -> _Shape:
        shape = _Shape()
        if selection_set is not None:
            self._collect(selection_set, introspection, shape, set())
        shape.repeats += sum(count - 1 for count in shape.keys.values())
        return shape

    def _collect(
        self,
        selection_set: SelectionSetNode,
        introspection: bool,
        shape: _Shape,
        spread: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                inner = introspection or name in _INTROSPECTION_ROOTS
                child = self.measure(selection.selection_set, inner)
                level = 0 if introspection and name == "ofType" else 1
                shape.depth = max(shape.depth, level + child.depth)
                shape.aliases += child.aliases + (selection.alias is not None)
                shape.repeats += child.repeats
                shape.keys[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, introspection, shape, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in spread:  # graphql-core collects a fragment once per selection set
                    continue
                spread.add(name)
                fragment = self._fragment(name, introspection)
                shape.depth = max(shape.depth, fragment.depth)
                shape.aliases += fragment.aliases
                shape.repeats += fragment.repeats
                shape.keys.update(fragment.keys)

    def _fragment(self, name: str, introspection: bool) -> _Shape:
        key = (name, introspection)
        found = self._memo.get(key)
        if found is not None:
            return found
        definition = self._fragments.get(name)
        if definition is None or name in self._active:
            # Unknown or cyclic: graphql-core's rules report it once the limits pass.
            return _Shape()
        self._active.add(name)
        try:
            shape = _Shape()
            self._collect(definition.selection_set, introspection, shape, {name})
        finally:
            self._active.discard(name)
        self._memo[key] = shape
        return shape


def _error(message: str, nodes: Any = None, code: str = VALIDATION_FAILED) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code})


class OperationShapeRule(ASTValidationRule):
    """Depth and aliases of each operation, repeated fields of the whole document."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        fragments = {
            d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
        }
        meter = _ShapeMeter(fragments)
        try:
            self._check(node, meter, fragments)
        except RecursionError:
            self.report_error(_error("The document nests too deeply to be checked"))

    def _check(
        self,
        document: DocumentNode,
        meter: _ShapeMeter,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        repeats = 0
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                shape = meter.measure(definition.selection_set, introspection=False)
                name = definition.name.value if definition.name else "anonymous"
                if shape.depth > MAX_DEPTH:
                    self.report_error(
                        _error(
                            f"Operation '{name}' is {shape.depth} fields deep; "
                            f"the limit is {MAX_DEPTH}",
                            definition,
                        )
                    )
                if shape.aliases > MAX_ALIASES:
                    self.report_error(
                        _error(
                            f"Operation '{name}' uses {shape.aliases} aliases; "
                            f"the limit is {MAX_ALIASES}",
                            definition,
                        )
                    )
                repeats += shape.repeats
        for fragment in fragments.values():
            # Fragments are validated even where nothing spreads them.
            repeats += meter.measure(fragment.selection_set, introspection=False).repeats
        if repeats > MAX_REPEATED_FIELDS:
            self.report_error(
                _error(
                    f"The document selects {repeats} fields again where they are already "
                    f"selected; the limit is {MAX_REPEATED_FIELDS}"
                )
            )


class DirectiveCountRule(ASTValidationRule):
    """At most ``MAX_DIRECTIVES`` directives in a document, reported once."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._count = 0

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        self._count += 1
        if self._count == MAX_DIRECTIVES + 1:
            self.report_error(
                _error(f"The document uses more than {MAX_DIRECTIVES} directives", node)
            )


def _longest_list(value: object) -> int:
    """The length of the longest list anywhere inside a JSON value."""
    stack = [value]
    longest = 0
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest


def list_length_rule(variables: Mapping[str, Any] | None) -> type[ASTValidationRule]:
    """A rule refusing any list longer than ``MAX_LIST_ITEMS``, written in the document or
    given in ``variables`` (the request's values, which validation does not otherwise see)."""

    class ListLengthRule(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            for name, value in (variables or {}).items():
                longest = _longest_list(value)
                if longest > MAX_LIST_ITEMS:
                    self.report_error(
                        _error(
                            f"Variable '${name}' holds a list of {longest} items; "
                            f"a list may hold at most {MAX_LIST_ITEMS}",
                            code=BAD_USER_INPUT,
                        )
                    )

        def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
            if len(node.values) > MAX_LIST_ITEMS:
                self.report_error(
                    _error(
                        f"A list of {len(node.values)} items; a list may hold at most "
                        f"{MAX_LIST_ITEMS}",
                        node,
                        code=BAD_USER_INPUT,
                    )
                )

    return ListLengthRule


def limit_rules(variables: Mapping[str, Any] | None) -> Iterator[type[ASTValidationRule]]:
    yield OperationShapeRule
    yield DirectiveCountRule
    yield MaxIntrospectionDepthRule
    yield list_length_rule(variables)


class DocumentLimits(SchemaExtension):
    """Checks the parsed document against the limits above before standard validation.

    A document over a limit is refused with only those errors: graphql-core's validation,
    which costs more and would report the same abuse hundreds of times, never sees it.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            errors = _checked(context.schema._schema, document, context.query, context.variables)
            if errors:
                context.pre_execution_errors = list(errors)
        yield


#: The verdicts of recent (query, variables) pairs: a dashboard repeats a few documents.
_MAX_VERDICTS = 512
_verdicts: LRUCache[tuple[int, str, bytes], list[GraphQLError]] = LRUCache(maxsize=_MAX_VERDICTS)
_MAX_KEY_BYTES = 20_000


def _checked(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str | None,
    variables: dict[str, Any] | None,
) -> list[GraphQLError]:
    def run() -> list[GraphQLError]:
        return validate(schema, document, list(limit_rules(variables)), max_errors=10)

    if query is None:
        return run()
    try:
        shape = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return run()
    if len(query) + len(shape) > _MAX_KEY_BYTES:
        return run()
    key = (id(schema), query, shape)
    found = _verdicts.get(key)
    if found is None:
        found = run()
        _verdicts[key] = found
    return found
