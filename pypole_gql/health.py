"""``/health/live`` (the process answers), ``/health/ready`` (its dependencies do) and ``/``
(what this server is and where its docs are)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pypole_gql.resources import get_resources
from pypole_gql.version import SERVICE_NAME, package_version
from pypole_gql.web.responses import ORJSONResponse


async def live(_request: Request) -> Response:
    return ORJSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    body, status = await get_resources(request).readiness_report()
    return ORJSONResponse(body, status_code=status)


#: Where the server's faces are, below its own address.
LINKS = {
    "graphql": "/graphql",
    "rest": "/api/v1",
    "swagger_ui": "/api/v1/docs",
    "redoc": "/api/v1/redoc",
    "openapi": "/api/v1/openapi.json",
    "health": "/health/ready",
}


async def root(_request: Request) -> Response:
    # The older backend answered {"message", "version", "docs"} here; those keys stay.
    return ORJSONResponse(
        {
            "message": f"{SERVICE_NAME}: F1 data over GraphQL and REST",
            "service": SERVICE_NAME,
            "version": package_version(),
            "docs": LINKS["swagger_ui"],
            "links": LINKS,
        }
    )


routes = [
    Route("/", root, methods=["GET", "HEAD"]),
    Route("/health/live", live, methods=["GET", "HEAD"]),
    Route("/health/ready", ready, methods=["GET", "HEAD"]),
]
