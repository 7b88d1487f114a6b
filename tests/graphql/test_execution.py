"""The executor's fast path for lists of numbers and booleans answers what graphql-core would."""

from __future__ import annotations

import math
from typing import Any

import pytest
import strawberry
from strawberry.types import ExecutionResult

from pypole_gql.graphql.execution import ExecutionContext

VALUES: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def floats(self) -> list[float]:
        return VALUES["floats"]  # type: ignore[no-any-return]

    @strawberry.field
    def ints(self) -> list[int]:
        return VALUES["ints"]  # type: ignore[no-any-return]

    @strawberry.field
    def bools(self) -> list[bool]:
        return VALUES["bools"]  # type: ignore[no-any-return]

    @strawberry.field
    def maybe_floats(self) -> list[float | None]:
        return VALUES["floats"]  # type: ignore[no-any-return]


FAST = strawberry.Schema(query=Query, execution_context_class=ExecutionContext)
PLAIN = strawberry.Schema(query=Query)

CASES = [
    {"floats": [0.0, 1.5, -2.25, 1e300], "ints": [0, -(2**31), 2**31 - 1], "bools": [True]},
    {"floats": [], "ints": [], "bools": []},
    {"floats": [1.0, math.nan], "ints": [1, 2], "bools": [False, True]},
    {"floats": [1.0, math.inf], "ints": [2**31], "bools": [True, None]},
    {"floats": [1.0, None], "ints": [1, None], "bools": [1, 0]},
    {"floats": [1, 2.5, True], "ints": [1.0, 2], "bools": ["yes"]},
    {"floats": [1e308, 1e308], "ints": [-(2**31) - 1], "bools": [False]},
]


def _run(schema: strawberry.Schema, field: str) -> ExecutionResult:
    return schema.execute_sync(f"{{ {field} }}")


@pytest.mark.parametrize("values", CASES)
@pytest.mark.parametrize("field", ["floats", "ints", "bools", "maybeFloats"])
def test_fast_path_equals_graphql_core(values: dict[str, Any], field: str) -> None:
    VALUES.clear()
    VALUES.update(values)
    fast, plain = _run(FAST, field), _run(PLAIN, field)
    assert fast.data == plain.data
    assert [e.message for e in fast.errors or []] == [e.message for e in plain.errors or []]
    assert [e.path for e in fast.errors or []] == [e.path for e in plain.errors or []]


class _Counting(ExecutionContext):
    item_by_item = 0

    def complete_iterable_value(self, *args: Any, **kwargs: Any) -> Any:
        type(self).item_by_item += 1
        return super().complete_iterable_value(*args, **kwargs)


def test_clean_lists_skip_item_by_item_completion() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=_Counting)
    VALUES.clear()
    VALUES.update(floats=[float(i) for i in range(5000)], ints=list(range(5000)), bools=[True])
    result = schema.execute_sync("{ floats ints bools }")
    assert result.errors is None and result.data is not None
    assert len(result.data["floats"]) == 5000
    assert _Counting.item_by_item == 0
    VALUES["floats"] = [1.0, math.nan]
    assert schema.execute_sync("{ floats }").errors
    assert _Counting.item_by_item == 1
