"""The baseline: a plain Starlette endpoint answering JSON bytes held in memory.

``BENCH_PLAIN_DIR`` names a folder of ``<name>.json`` files, read once at start-up;
``GET`` or ``POST /plain/<name>`` answers that file's bytes as ``application/json``.
Nothing else runs per request: no middleware, no parsing of the request body, no log.

    BENCH_PLAIN_DIR=... uvicorn bench.plain:app
"""

from __future__ import annotations

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


async def plain(request: Request) -> Response:
    body = BODIES.get(request.path_params["name"])
    if body is None:
        return Response(status_code=404)
    return Response(body, media_type="application/json")


async def live(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/plain/{name}", plain, methods=["GET", "POST"]),
        Route("/health/live", live),
    ]
)
