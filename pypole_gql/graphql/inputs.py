"""Argument names of the frontend's GraphQL fields: the services name fields in snake case
(``constructor_id``, ``picks[0].driver_id``); errors name them as the schema does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pypole_gql.errors import BadUserInput, InvalidParam

_SNAKE = re.compile(r"_([a-z])")


def camel(field: str) -> str:
    """``picks[0].driver_id`` -> ``picks[0].driverId``."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), field)


@contextmanager
def graphql_fields(**renamed: str) -> Iterator[None]:
    """A :class:`BadUserInput` of the block names its field as the schema does: ``renamed``
    first (service name -> argument), else in camel case."""
    try:
        yield
    except InvalidParam:
        raise  # renamed by the error formatter (graphql.errors.ARGUMENT_NAMES)
    except BadUserInput as exc:
        if exc.field is None:
            raise
        field = renamed.get(exc.field) or camel(exc.field)
        if field == exc.field:
            raise
        raise BadUserInput(exc.message, field=field, extra=exc.extra) from None
