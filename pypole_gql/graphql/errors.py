"""GraphQL error rendering: our errors pass with ``extensions.code``; the rest is masked."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from pypole_gql.errors import AppError
from pypole_gql.logging import get_logger, request_id_var

log = get_logger("pypole.graphql")
INTERNAL_MESSAGE = "Internal server error"


def render_error(error: GraphQLError) -> GraphQLError:
    """Map one execution error to what the client may see."""
    original = error.original_error
    if original is None:
        # Parse and validation errors: the client's request is wrong, the message is safe.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "BAD_USER_INPUT")
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    if isinstance(original, AppError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=original.extensions(),
        )
    if isinstance(original, GraphQLError):  # e.g. variable coercion raised inside execution
        return render_error(original)
    request_id = request_id_var.get()
    log.error(
        "graphql.unexpected_error",
        path=list(error.path or []),
        error_type=type(original).__name__,
        exc_info=original,
    )
    return GraphQLError(
        INTERNAL_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "request_id": request_id},
    )


class AppErrors(SchemaExtension):
    """Apply :func:`render_error` to every error of an operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [render_error(e) for e in errors]
