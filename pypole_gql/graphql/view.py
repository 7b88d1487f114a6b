"""The ``/graphql`` endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from pypole_gql.graphql.context import GraphQLContext
from pypole_gql.resources import get_resources


class GraphQLView(GraphQL[GraphQLContext, None]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        assert isinstance(request, Request) and isinstance(response, Response)
        return GraphQLContext(request, response, get_resources(request))

    async def render_graphql_ide(self, request: Request) -> Response:
        return await super().render_graphql_ide(request)


def make_view(schema: Any, *, graphiql: bool) -> GraphQLView:
    return GraphQLView(
        schema,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
        multipart_uploads_enabled=False,
    )
