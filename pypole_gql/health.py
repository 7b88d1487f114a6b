"""``/health/live`` (the process answers) and ``/health/ready`` (its dependencies do)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pypole_gql.resources import get_resources
from pypole_gql.web.responses import ORJSONResponse


async def live(_request: Request) -> Response:
    return ORJSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    checks = await get_resources(request).readiness()
    ok = all(checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: ("ok" if good else "failing") for name, good in checks.items()},
    }
    return ORJSONResponse(body, status_code=200 if ok else 503)


routes = [
    Route("/health/live", live, methods=["GET", "HEAD"]),
    Route("/health/ready", ready, methods=["GET", "HEAD"]),
]
