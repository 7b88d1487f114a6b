"""The baseline: a plain Starlette endpoint answering JSON bytes held in memory.

``BENCH_PLAIN_DIR`` names a folder of ``<name>.json`` files, read once at start-up;
``GET`` or ``POST /plain/<name>`` answers that file's bytes as ``application/json``;
``GET /revalidate/<name>`` answers 304 (the same ``ETag``, ``Cache-Control`` and ``Vary``
as the app's) when ``If-None-Match`` names the bytes' tag, else the bytes. Nothing else runs
per request: no middleware, no parsing of the request body, no log.

    BENCH_PLAIN_DIR=... uvicorn bench.plain:app
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _bodies() -> dict[str, bytes]:
    folder = Path(os.environ.get("BENCH_PLAIN_DIR", "."))
    return {path.stem: path.read_bytes() for path in folder.glob("*.json")}


BODIES = _bodies()
ETAGS = {name: '"' + hashlib.sha256(body).hexdigest()[:32] + '"' for name, body in BODIES.items()}


async def plain(request: Request) -> Response:
    body = BODIES.get(request.path_params["name"])
    if body is None:
        return Response(status_code=404)
    return Response(body, media_type="application/json")


async def revalidate(request: Request) -> Response:
    name = request.path_params["name"]
    body = BODIES.get(name)
    if body is None:
        return Response(status_code=404)
    headers = {
        "etag": ETAGS[name],
        "cache-control": "public, max-age=86400",
        "vary": "Accept, Authorization",
    }
    if request.headers.get("if-none-match") == ETAGS[name]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def live(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/plain/{name}", plain, methods=["GET", "POST"]),
        Route("/revalidate/{name}", revalidate),
        Route("/health/live", live),
    ]
)
