"""Swagger UI (``/api/v1/docs``), ReDoc (``/api/v1/redoc``) and GraphiQL (``/graphql``): the
pages (their routes are the REST app's, :mod:`pypole_gql.rest.docs`, and the GraphQL view's).

Every script, style sheet and font comes from this package under ``/static/docs`` (outside
``/api``, so loading a page costs one rate-limited request, not six): the pages work in a
closed network, and their Content-Security-Policy names no other origin, so a browser refuses
anything a bundle might try to fetch from elsewhere. When the assets were not installed (see
``hatch_build.py``) the pages answer 503 with what to do instead of a blank page.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
VENDOR_DIR = HERE / "vendor"
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
ASSETS_PATH = "/static/docs"
SPEC_PATH = "/api/v1/openapi.json"

# Styles inline: Swagger UI and ReDoc (styled-components) inject <style> elements. Workers
# from blob: URLs: ReDoc's search index and GraphiQL's editors.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MISSING_ASSETS = (
    "The API docs assets are not installed in this copy of pypole_gql. They are fetched from "
    "the npm registry when the package is built: run `uv sync --reinstall-package pypole-gql` "
    "(or `python hatch_build.py`) where the registry is reachable."
)


@functools.cache
def missing_assets() -> tuple[str, ...]:
    """The vendored files that ``assets.json`` pins but ``vendor/`` lacks (empty: all there)."""
    pins = json.loads((HERE / "assets.json").read_text())
    wanted = [dest for pkg in pins["packages"] for dest in pkg["files"].values()]
    return tuple(dest for dest in wanted if not (VENDOR_DIR / dest).is_file())


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text())


def _page(request: Request, template: str, **values: str) -> Response:
    if missing_assets():
        return PlainTextResponse(MISSING_ASSETS, status_code=503, headers=SECURITY_HEADERS)
    root = request.base_url.path.rstrip("/")  # the app's mount point, not /api/v1's
    escaped = {key: html.escape(root + value) for key, value in values.items()}
    body = _template(template).substitute(assets=html.escape(root + ASSETS_PATH), **escaped)
    return HTMLResponse(body, headers=SECURITY_HEADERS)


def swagger_ui(request: Request) -> Response:
    return _page(request, "swagger.html", spec_url=SPEC_PATH)


def redoc(request: Request) -> Response:
    return _page(request, "redoc.html", spec_url=SPEC_PATH)


def graphiql(request: Request) -> Response:
    """GraphiQL for the GraphQL endpoint at the request's own path."""
    return _page(request, "graphiql.html", endpoint=request.url.path)


def asset_routes() -> list[BaseRoute]:
    """``/static/docs``: our scripts, and the vendored bundles when they are installed."""
    mounts: list[BaseRoute] = []
    if VENDOR_DIR.is_dir():
        mounts.append(Mount("/vendor", app=StaticFiles(directory=VENDOR_DIR)))
    mounts.append(Mount("/", app=StaticFiles(directory=STATIC_DIR)))
    return [Mount(ASSETS_PATH, routes=mounts)]
