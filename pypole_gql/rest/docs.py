"""``/api/v1/openapi.json``, ``/api/v1/docs`` (Swagger UI) and ``/api/v1/redoc``: the REST
document and the offline pages over it (:mod:`pypole_gql.docs.pages`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pypole_gql.docs import pages
from pypole_gql.rest.document import rendered
from pypole_gql.rest.responses import errors
from pypole_gql.web.responses import JSON_MEDIA_TYPE

router = APIRouter(tags=["documentation"])
_PAGE: dict[str, Any] = {
    "response_class": HTMLResponse,
    "response_description": "An HTML page",
    "responses": errors(503, notes={503: "The page's assets are not installed"}),
}


@router.get(
    "/openapi.json",
    operation_id="openapi",
    summary="This OpenAPI document",
    response_description="The OpenAPI 3.1 document of /api/v1",
    responses=errors(),
)
async def openapi_json(request: Request) -> Response:
    return Response(rendered(request.app), media_type=JSON_MEDIA_TYPE)


@router.get("/docs", operation_id="swagger_ui", summary="Swagger UI over this document", **_PAGE)
async def swagger_ui(request: Request) -> Response:
    return pages.swagger_ui(request)


@router.get("/redoc", operation_id="redoc", summary="ReDoc over this document", **_PAGE)
async def redoc(request: Request) -> Response:
    return pages.redoc(request)
