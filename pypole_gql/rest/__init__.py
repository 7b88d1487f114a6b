"""The ``/api/v1`` REST shim: the older PyPole backend's routes over the same services."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount


def api_routes() -> list[BaseRoute]:
    from pypole_gql.docs.pages import asset_routes, page_routes
    from pypole_gql.rest.auth import routes as auth_routes
    from pypole_gql.rest.fastf1 import routes as fastf1_routes
    from pypole_gql.rest.jolpica import routes as jolpica_routes

    return [
        Mount(
            "/api/v1",
            routes=[
                Mount("/auth", routes=auth_routes),
                Mount("/jolpica", routes=jolpica_routes),
                Mount("/fastf1", routes=fastf1_routes),
                *page_routes(),
            ],
        ),
        # The docs pages' scripts and styles (also GraphiQL's), outside /api: not rate limited.
        *asset_routes(),
    ]
