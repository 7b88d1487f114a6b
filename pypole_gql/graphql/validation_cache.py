"""graphql-core's standard validation, remembered per query text.

A dashboard sends the same few documents over and over; validating one costs a visit of
every node by some thirty rules, which was most of a small query's execution time. The
result depends only on the schema, the document and the rules, so it is kept per query
text in a bounded LRU (``cachetools.LRUCache``).

Strawberry's own ``ValidationCache`` extension does not serve here: it replaces the
errors :class:`~pypole_gql.graphql.limits.DocumentLimits` found (and validates the
abusive document they were meant to spare), hands every request the same list, and keys
on the parsed document (hashed node by node) instead of the text.

It runs after :class:`~pypole_gql.graphql.limits.DocumentLimits` and only when that found
nothing: the limits (which depend on the variables too) are checked on every request, and
a refused document never reaches this cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_ENTRIES = 512
#: Longer documents are validated every time rather than kept.
MAX_QUERY_CHARS = 20_000

_Key = tuple[int, str, tuple[Any, ...]]
_cache: LRUCache[_Key, list[GraphQLError]] = LRUCache(maxsize=MAX_ENTRIES)


class CachedValidation(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        query = context.query
        if (
            context.pre_execution_errors is None
            and document is not None
            and query is not None
            and len(query) <= MAX_QUERY_CHARS
            and context.validation_rules
        ):
            rules = tuple(context.validation_rules)
            key = (id(context.schema._schema), query, rules)
            errors = _cache.get(key)
            if errors is None:
                errors = validate_document(context.schema._schema, document, rules)
                _cache[key] = errors
            # A copy: the caller may extend the list with errors of its own.
            context.pre_execution_errors = list(errors)
        yield
