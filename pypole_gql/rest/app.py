"""The ``/api/v1`` app: FastAPI, mounted by the main app (:func:`pypole_gql.rest.api_routes`).

FastAPI brings each route's parameters, response model and OpenAPI entry from one
declaration; its own docs routes are off (ours are offline pages), its errors are rendered in
the older backend's shapes (:mod:`pypole_gql.rest.errors`) and its telemetry is off (the
access log and the request id are the app's own).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from pypole_gql.rest.auth import router as auth_routes
from pypole_gql.rest.comparison import router as comparison_routes
from pypole_gql.rest.docs import router as docs_routes
from pypole_gql.rest.document import INFO, generate
from pypole_gql.rest.errors import EXCEPTION_HANDLERS
from pypole_gql.rest.fastf1 import router as fastf1_routes
from pypole_gql.rest.fastf1_records import router as fastf1_record_routes
from pypole_gql.rest.health import router as health_routes
from pypole_gql.rest.jolpica import router as jolpica_routes
from pypole_gql.rest.predictor import router as predictor_routes
from pypole_gql.rest.profiles import router as profile_routes
from pypole_gql.rest.race_weekend import router as race_weekend_routes
from pypole_gql.rest.strategy import router as strategy_routes
from pypole_gql.rest.widgets import router as widget_routes
from pypole_gql.web.responses import ORJSONResponse


class HeadAsGet:
    """``HEAD`` answered by the ``GET`` route, as Starlette's own routes do (the server
    sends no body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)


def api_app() -> FastAPI:
    api = FastAPI(
        title=INFO["title"],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        default_response_class=ORJSONResponse,
        exception_handlers=EXCEPTION_HANDLERS,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    routers = (
        auth_routes,
        jolpica_routes,
        fastf1_routes,
        fastf1_record_routes,
        strategy_routes,
        profile_routes,
        race_weekend_routes,
        widget_routes,
        comparison_routes,
        predictor_routes,
        health_routes,
        docs_routes,
    )
    for router in routers:
        # The routes themselves, not an included router: the app's routes are then the
        # routes, as Starlette lists them (and as the tests walk them).
        api.router.routes.extend(router.routes)
    api.add_middleware(HeadAsGet)

    def openapi() -> dict[str, object]:
        if api.openapi_schema is None:
            api.openapi_schema = generate(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api
