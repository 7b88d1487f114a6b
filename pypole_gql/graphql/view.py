"""The ``/graphql`` endpoint: Strawberry's ASGI view with our context and its HTTP limits.

Before GraphQL sees a request the view refuses (an :class:`~pypole_gql.errors.AppError`,
rendered by :func:`~pypole_gql.errors.render` in GraphQL's shape) with a JSON
``{"errors": [...]}`` body whose ``extensions.code`` says why: a POST that is not
``application/json`` (415, so no form or multipart bodies), a body over
:data:`~pypole_gql.graphql.limits.MAX_BODY_BYTES` (413, read no further than the limit), a
batch (400) and a mutation over GET (405). Operations run
under a timeout (``PYPOLE_GRAPHQL_TIMEOUT``).

``@defer`` is answered as ``multipart/mixed`` (the GraphQL incremental delivery format)
when the client accepts it: the initial part comes at once, each deferred fragment when it
is resolved (a session's laps when the session is loaded); a ``@defer`` from a client that
does not accept ``multipart/mixed`` is refused with a 406 saying so. The timeout bounds the initial
part; deferred parts are bounded by the FastF1 load timeout. Errors of deferred parts go
through the same rendering as the rest (codes kept, unexpected errors masked).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DirectiveNode, GraphQLError, GraphQLSyntaxError, parse
from graphql.execution import SubsequentIncrementalExecutionResult
from graphql.language import Visitor, visit
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from pypole_gql.errors import (
    AppError,
    BatchingNotSupported,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    for_status,
    render,
)
from pypole_gql.graphql.context import GraphQLContext
from pypole_gql.graphql.errors import OperationTimeout, render_error
from pypole_gql.graphql.limits import MAX_BODY_BYTES
from pypole_gql.logging import get_logger, request_id_var
from pypole_gql.resources import get_resources
from pypole_gql.web.body import read_body, replay_body

log = get_logger("pypole.graphql")
_DEFER = re.compile(r"@\s*defer\b")


def _defers(query: str | None) -> bool:
    """Whether the document uses ``@defer`` (parsed only when the text mentions it)."""
    if not query or not _DEFER.search(query):
        return False
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False  # refused by the execution with its own error

    found = False

    class Directives(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            nonlocal found
            found = found or node.name.value == "defer"

    visit(document, Directives())
    return found


class GraphQLView(GraphQL[GraphQLContext, None]):
    def __init__(self, schema: Any, *, graphiql: bool, timeout: float, max_body_bytes: int) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            request = await self._admit(Request(scope, receive))
            response = await self.run(request)
        except AppError as refused:
            response = self._refusal(refused)
        except HTTPException as error:  # Strawberry's own refusals, as JSON like ours
            response = self._refusal(self._translate(error, scope["method"]))
        await response(scope, receive, send)

    async def _admit(self, request: Request) -> Request:
        """The request with its body read within the limit, or the :class:`AppError` that
        refuses it."""
        if request.method != "POST":
            return request
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            raise UnsupportedMediaType(
                "POST /graphql takes a JSON body (Content-Type: application/json); "
                "queries may also be sent as GET /graphql?query=...",
                headers={"Accept-Post": "application/json"},
            )
        try:
            body = await read_body(request, self.max_body_bytes)
        except PayloadTooLarge:
            raise PayloadTooLarge(
                f"The request body is larger than the limit of {self.max_body_bytes} bytes"
            ) from None
        if body.lstrip()[:1] == b"[":
            raise BatchingNotSupported()
        return Request(request.scope, replay_body(body, request.receive))

    @staticmethod
    def _translate(error: HTTPException, method: str) -> AppError:
        cause = error.__cause__
        if (
            method == "GET"
            and isinstance(cause, InvalidOperationTypeError)
            and cause.operation_type is OperationType.MUTATION
        ):
            return MethodNotAllowed(
                "Mutations are only accepted over POST", headers={"Allow": "POST"}
            )
        if error.status_code == 404:  # the IDE's address with the IDE turned off
            return NotFound(
                "GraphiQL is not served here; send operations with POST (application/json) "
                "or GET /graphql?query=..."
            )
        return for_status(error.status_code, error.reason)

    @staticmethod
    def _refusal(refused: AppError) -> Response:
        rendered = render(refused, "graphql", request_id=request_id_var.get())
        return Response(
            rendered.body(),
            status_code=rendered.status,
            headers=dict(rendered.headers),
            media_type="application/json",
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: GraphQLContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Strawberry's execution, cancelled past ``timeout`` seconds with code TIMEOUT."""
        accept = request.headers.get("accept", "").lower()
        if (
            not isinstance(request_data, list)
            and "multipart/mixed" not in accept
            and _defers(request_data.query)
        ):
            raise for_status(
                406,
                "@defer answers in parts: send Accept: multipart/mixed, or leave @defer out "
                "(or @defer(if: false)) for one JSON answer",
            )
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                return await super().execute_operation(
                    request, request_adapter, request_data, context, root_value, sub_response
                )
        except TimeoutError:
            if not deadline.expired():
                raise
        log.warning("graphql.timeout", timeout=self.timeout)
        timeout = OperationTimeout(
            f"The operation did not finish within {self.timeout:g} seconds; its data is still "
            "loading, retry in a moment",
            extra={"requestId": request_id_var.get()},
        )
        error = GraphQLError(timeout.message, original_error=timeout)
        return ExecutionResult(data=None, errors=[render_error(error)])

    async def _process_stream_result(
        self, request: Request, value: Any, all_pending: list[Any]
    ) -> tuple[GraphQLHTTPResponse, list[Any]]:
        # Strawberry renders the initial part through process_result, but passes the
        # errors of deferred parts as they are: render them here too.
        if isinstance(value, SubsequentIncrementalExecutionResult):
            hide = self.schema.config.disable_field_suggestions
            for item in (*(value.incremental or ()), *(value.completed or ())):
                if item.errors:
                    item.errors = [render_error(e, hide_suggestions=hide) for e in item.errors]
        return await super()._process_stream_result(request, value, all_pending)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # AppErrors renders each operation's errors; this also covers errors raised where
        # it does not see them (an extension failing), and renders nothing twice.
        if result.errors:
            hide = self.schema.config.disable_field_suggestions
            result.errors = [render_error(e, hide_suggestions=hide) for e in result.errors]
        return await super().process_result(request, result)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        assert isinstance(request, Request) and isinstance(response, Response)
        return GraphQLContext(request, response, get_resources(request))

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page over the package's own GraphiQL assets, not Strawberry's CDN template.
        from pypole_gql.docs.pages import graphiql

        return graphiql(request)


def make_view(
    schema: Any, *, graphiql: bool, timeout: float = 30.0, max_body_bytes: int = MAX_BODY_BYTES
) -> GraphQLView:
    return GraphQLView(schema, graphiql=graphiql, timeout=timeout, max_body_bytes=max_body_bytes)
