"""The ``/api/v1`` REST shim: the older PyPole backend's routes over the same services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Mount

if TYPE_CHECKING:
    from fastapi import FastAPI

API_PREFIX = "/api/v1"


def api_routes(api: FastAPI | None = None) -> list[BaseRoute]:
    """``/api/v1`` (``api``, or a new :func:`~pypole_gql.rest.app.api_app`) and the docs
    pages' assets."""
    from pypole_gql.docs.pages import asset_routes
    from pypole_gql.rest.app import api_app

    return [
        Mount(API_PREFIX, app=api or api_app()),
        # The docs pages' scripts and styles (also GraphiQL's), outside /api: not rate limited.
        *asset_routes(),
    ]
