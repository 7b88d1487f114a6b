"""GraphQL error rendering: our errors pass with ``extensions.code``; the rest is masked.

Codes a client can see besides those of :mod:`pypole_gql.errors`:

- ``GRAPHQL_PARSE_FAILED``: the query text is not GraphQL (or has too many tokens);
- ``GRAPHQL_VALIDATION_FAILED``: the document does not fit the schema or the limits of
  :mod:`pypole_gql.graphql.limits`;
- ``BAD_USER_INPUT``: variables that do not fit their types, lists over the cap, and every
  :class:`~pypole_gql.errors.BadUserInput` of the services;
- ``TIMEOUT``: the operation outlived ``PYPOLE_GRAPHQL_TIMEOUT`` and was cancelled;
- ``INTERNAL``: anything unexpected; the message is generic, ``extensions.requestId`` names
  the log lines (``graphql.unexpected_error``, with the traceback) that tell the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from pypole_gql.errors import AppError, Internal, InvalidParam, graphql_error
from pypole_gql.logging import get_logger, request_id_var

log = get_logger("pypole.graphql")
INTERNAL_MESSAGE = "Internal server error"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
# graphql-core ends a message with its guesses: "... Did you mean 'season'?"
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
#: The services' names of parameters (pypole_gql.domain.params) -> the schema's arguments.
ARGUMENT_NAMES = {
    "season": "year",
    "session_type": "type",
    "max_points": "maxPoints",
    "driver_id": "driverId",
}


class OperationTimeout(AppError):
    """The operation ran longer than ``PYPOLE_GRAPHQL_TIMEOUT`` and was cancelled."""

    code = "TIMEOUT"
    status = 504
    default_message = "The operation took too long; its data is still loading, retry in a moment"


def _located(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def render_error(
    error: GraphQLError, *, hide_suggestions: bool = False, client_code: str = BAD_USER_INPUT
) -> GraphQLError:
    """Map one error to what the client may see.

    An error without an original exception is about the request (parse, validation,
    variables): its message is safe, ``client_code`` is its code unless it carries one
    (syntax errors are always ``GRAPHQL_PARSE_FAILED``). Rendering twice changes nothing.
    """
    original = error.original_error
    if original is None:
        extensions = dict(error.extensions or {})
        if isinstance(error, GraphQLSyntaxError):
            extensions["code"] = PARSE_FAILED
        extensions.setdefault("code", client_code)
        message = _SUGGESTION.sub("", error.message) if hide_suggestions else error.message
        return _located(error, message, extensions)
    if isinstance(original, AppError):
        if isinstance(original, InvalidParam) and original.field in ARGUMENT_NAMES:
            original = original.renamed(ARGUMENT_NAMES[original.field])
        return _located(error, **graphql_error(original))
    if isinstance(original, GraphQLError):  # e.g. variable coercion raised inside execution
        return render_error(original, hide_suggestions=hide_suggestions, client_code=client_code)
    request_id = request_id_var.get()
    log.error(
        "graphql.unexpected_error",
        request_id=request_id,
        path=list(error.path or []),
        error_type=type(original).__name__,
        exc_info=original,
    )
    return _located(error, **graphql_error(Internal(INTERNAL_MESSAGE), request_id=request_id))


class AppErrors(SchemaExtension):
    """Apply :func:`render_error` to every error of an operation.

    It remembers which errors validation produced, so those get ``GRAPHQL_VALIDATION_FAILED``
    while errors found later about the request (its variables) get ``BAD_USER_INPUT``.
    """

    def __init__(self) -> None:
        self._validation_errors: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors or []
        self._validation_errors = {id(error) for error in errors}

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            hide = self.execution_context.schema.config.disable_field_suggestions
            result.errors = [
                render_error(
                    error,
                    hide_suggestions=hide,
                    client_code=(
                        VALIDATION_FAILED
                        if id(error) in self._validation_errors
                        else BAD_USER_INPUT
                    ),
                )
                for error in errors
            ]
