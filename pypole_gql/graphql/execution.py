"""graphql-core's executor with a fast path for long lists of plain numbers and booleans.

GraphQL completes a list item by item: for ``[Float!]!`` that is a path entry, a
non-null check and a ``serialize`` call per value. A lap's telemetry is ten such lists of
several hundred samples, so completion, not our code, dominated a telemetry query.

For a list whose item type is a non-null built-in ``Float``, ``Int`` or ``Boolean`` the
fast path checks the whole list at once and returns it as is; the values are the ones
``serialize`` would have returned (finite Python floats, 32-bit ints, bools). Anything
else, including a list the check does not accept (a NaN, an int out of range, a None),
takes graphql-core's own path, which produces the same errors it always has.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _floats(values: list[Any]) -> bool:
    # Every value a float and the sum finite: a NaN or an infinity makes the sum NaN/inf
    # (finite values that overflow the sum only send the list down the slow path).
    return set(map(type, values)) <= {float} and math.isfinite(sum(values))


def _ints(values: list[Any]) -> bool:
    return set(map(type, values)) <= {int} and (
        not values or (min(values) >= _INT_MIN and max(values) <= _INT_MAX)
    )


def _bools(values: list[Any]) -> bool:
    return set(map(type, values)) <= {bool}


#: By name: the spec reserves these names for the built-in scalars (strawberry builds its
#: own instances of them, so identity with graphql-core's would not hold).
_CHECKS: dict[str, Callable[[list[Any]], bool]] = {
    GraphQLFloat.name: _floats,
    GraphQLInt.name: _ints,
    GraphQLBoolean.name: _bools,
}


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Any,
        result: AsyncIterable[Any] | Iterable[Any],
        position_context: Any,
    ) -> Any:
        item_type = return_type.of_type
        if type(result) is list and isinstance(item_type, GraphQLNonNull):
            scalar = item_type.of_type
            check = _CHECKS.get(scalar.name) if isinstance(scalar, GraphQLScalarType) else None
            if check is not None and check(result):
                return result
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )
