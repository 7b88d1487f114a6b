"""The replay's control API under ``/_replay/``, for tests in another process.

- ``GET /_replay/requests``: ``{"count", "counts": {path: n}, "requests": [...]}``, filtered
  by the query parameters ``prefix``, ``glob``, ``regex``, ``method`` and
  ``query.<name>=<value>`` (see :class:`RequestMatch`).
- ``DELETE /_replay/requests``: forget the logged requests.
- ``POST /_replay/reset``: forget the logged requests, remove every fault, go back to the
  starting forms.
- ``GET /_replay/faults``: the active faults with ``id``, ``remaining`` and ``hits``.
- ``POST /_replay/faults``: add one; the body is one flat JSON object of match and fault keys,
  e.g. ``{"prefix": "/ergast/", "status": 503, "times": 2}`` (see :class:`Fault`);
  answers 201 with the fault and its ``id``, or 400 with ``detail``.
- ``DELETE /_replay/faults``: remove every fault; ``DELETE /_replay/faults/{id}``: remove one
  (404 when there is no such fault).
- ``GET /_replay/info``: fixture counts, whether the generator is loaded, the ``forms``
  generated answers are written in, the fixed ``now``.
- ``PUT /_replay/forms``: ``{"forms": "csv" | "jolpica" | "recorded"}`` switches the forms
  (:data:`~pypole_gql.replay.generator.REPLAY_FORMS`); answers with the info, or 400.
  ``POST /_replay/reset`` goes back to the starting forms.

Requests to ``/_replay/`` are neither logged nor faulted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from pypole_gql.replay.faults import Fault, FaultRegistry
from pypole_gql.replay.matching import RequestMatch
from pypole_gql.replay.recorder import RequestLog

PREFIX = "/_replay/"


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


def _bad_request(detail: str) -> web.Response:
    return _json({"detail": detail}, status=400)


def _match_from_params(request: web.Request) -> RequestMatch:
    params = request.query
    query = {
        name.removeprefix("query."): value
        for name, value in params.items()
        if name.startswith("query.")
    }
    return RequestMatch(
        glob=params.get("glob"),
        regex=params.get("regex"),
        prefix=params.get("prefix"),
        method=params.get("method"),
        query=query or None,
    )


def control_routes(
    log: RequestLog,
    faults: FaultRegistry,
    info: Callable[[], dict[str, Any]],
    set_forms: Callable[[str], None],
    reset_all: Callable[[], None],
) -> list[web.RouteDef]:
    async def list_requests(request: web.Request) -> web.Response:
        try:
            match = _match_from_params(request)
        except ValueError as exc:
            return _bad_request(str(exc))
        records = log.snapshot(match)
        return _json(
            {
                "count": len(records),
                "counts": log.counts(match),
                "requests": [r.to_json() for r in records],
            }
        )

    async def clear_requests(request: web.Request) -> web.Response:
        log.clear()
        return web.Response(status=204)

    async def reset(request: web.Request) -> web.Response:
        reset_all()
        return web.Response(status=204)

    async def list_faults(request: web.Request) -> web.Response:
        return _json(faults.to_json())

    async def add_fault(request: web.Request) -> web.Response:
        try:
            data = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _bad_request("body must be a JSON object")
        if not isinstance(data, dict):
            return _bad_request("body must be a JSON object")
        try:
            fault = Fault.from_json(data)
        except ValueError as exc:
            return _bad_request(str(exc))
        return _json({"id": faults.add(fault), **fault.to_json()}, status=201)

    async def clear_faults(request: web.Request) -> web.Response:
        faults.clear()
        return web.Response(status=204)

    async def remove_fault(request: web.Request) -> web.Response:
        try:
            fault_id = int(request.match_info["id"])
        except ValueError:
            return _bad_request("fault id must be an integer")
        if not faults.remove(fault_id):
            return _json({"detail": f"no fault {fault_id}"}, status=404)
        return web.Response(status=204)

    async def show_info(request: web.Request) -> web.Response:
        return _json(info())

    async def change_forms(request: web.Request) -> web.Response:
        try:
            data = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _bad_request("body must be a JSON object")
        forms = data.get("forms") if isinstance(data, dict) else None
        if not isinstance(forms, str):
            return _bad_request('body must be {"forms": "<name>"}')
        try:
            set_forms(forms)
        except ValueError as exc:
            return _bad_request(str(exc))
        return _json(info())

    return [
        web.get(f"{PREFIX}requests", list_requests),
        web.delete(f"{PREFIX}requests", clear_requests),
        web.post(f"{PREFIX}reset", reset),
        web.get(f"{PREFIX}faults", list_faults),
        web.post(f"{PREFIX}faults", add_fault),
        web.delete(f"{PREFIX}faults", clear_faults),
        web.delete(PREFIX + "faults/{id}", remove_fault),
        web.get(f"{PREFIX}info", show_info),
        web.put(f"{PREFIX}forms", change_forms),
    ]
