"""``/api/v1/fastf1``: the older PyPole backend's FastF1 routes over :class:`SessionService`.

Shapes are that backend's (snake_case, lap times also as ``"m:ss.fff"``). An unknown
event, session, driver or lap is a 404 naming it; a bad session type or year a 422; data
not available or the upstream down a 503 with ``Retry-After``. Never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pypole_gql.domain.sessions import (
    Lap,
    SessionData,
    Stint,
    fastest_lap,
    find_lap,
    lap_telemetry,
    require_driver,
    select_laps,
)
from pypole_gql.errors import BadUserInput, UpstreamUnavailable
from pypole_gql.resources import get_resources
from pypole_gql.rest.common import (
    ORJSONResponse,
    RequestValidationError,
    parse_path,
    parse_query,
)
from pypole_gql.services.sessions import FIRST_SEASON, SessionService

SessionTypeName = Literal["FP1", "FP2", "FP3", "Q", "SQ", "SS", "S", "R"]
RaceText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
DriverText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8, pattern=r"^\w+$")
]


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RacePath(_Params):
    year: int = Field(ge=FIRST_SEASON, le=2100)
    race: RaceText


class DriverPath(RacePath):
    driver: DriverText


class SessionQuery(_Params):
    session_type: SessionTypeName = "R"


class TelemetryQuery(SessionQuery):
    driver: DriverText
    lap: int = Field(ge=1, le=500)
    max_points: int | None = Field(default=None, ge=2, le=100_000)


def _service(request: Request) -> SessionService:
    return get_resources(request).sessions


async def _session(request: Request, path: RacePath, query: SessionQuery) -> SessionData:
    service = _service(request)
    # The path and query models already bound year, race and type; the service's own
    # checks (the season limit, event names) name GraphQL's fields: say where they are here.
    try:
        return await service.session(path.year, path.race, query.session_type)
    except BadUserInput as exc:
        where = {"year": ["path", "year"], "race": ["path", "race"]}
        loc = where.get(exc.field or "", ["query", "session_type"] if exc.field == "type" else [])
        raise RequestValidationError(
            [{"loc": loc, "msg": exc.message, "type": "value_error"}]
        ) from exc


def format_lap_time(seconds: float | None) -> str | None:
    """``83.456`` -> ``"1:23.456"`` (minutes not zero-padded, milliseconds rounded)."""
    if seconds is None:
        return None
    millis = round(seconds * 1000)
    minutes, millis = divmod(millis, 60_000)
    return f"{minutes}:{millis // 1000:02d}.{millis % 1000:03d}"


def lap_body(lap: Lap) -> dict[str, Any]:
    return {
        "driver": lap.driver,
        "lap_number": lap.lap_number,
        "lap_time": format_lap_time(lap.lap_time),
        "lap_time_seconds": lap.lap_time,
        "sector1_time": lap.sector1_time,
        "sector2_time": lap.sector2_time,
        "sector3_time": lap.sector3_time,
        "compound": lap.compound,
        "tyre_life": None if lap.tyre_life is None else round(lap.tyre_life),
        "stint": lap.stint,
        "is_personal_best": lap.is_personal_best,
    }


def stint_body(stint: Stint) -> dict[str, Any]:
    return {
        "driver": stint.driver,
        "stint": stint.stint,
        "compound": stint.compound,
        "start_lap": stint.start_lap,
        "end_lap": stint.end_lap,
        "num_laps": stint.lap_count,
        "avg_lap_time": stint.average_lap_time,
        "avg_pace_time": stint.average_pace_time,
    }


def _envelope(path: RacePath, query: SessionQuery, data: SessionData) -> dict[str, Any]:
    return {
        "year": path.year,
        "race": path.race,
        "event_name": data.info.event_name,
        "round": data.info.round,
        "session_type": query.session_type,
    }


async def laps(request: Request) -> Response:
    path = parse_path(request, RacePath)
    query = parse_query(request, SessionQuery)
    data = await _session(request, path, query)
    rows = [lap_body(lap) for lap in data.laps]
    return ORJSONResponse({**_envelope(path, query, data), "laps": rows, "total_laps": len(rows)})


async def driver_laps(request: Request) -> Response:
    path = parse_path(request, DriverPath)
    query = parse_query(request, SessionQuery)
    data = await _session(request, path, query)
    driver = require_driver(data, path.driver)
    rows = [lap_body(lap) for lap in select_laps(data, [driver.number])]
    return ORJSONResponse(
        {
            **_envelope(path, query, data),
            "driver": driver.code,
            "laps": rows,
            "total_laps": len(rows),
        }
    )


async def telemetry(request: Request) -> Response:
    path = parse_path(request, RacePath)
    query = parse_query(request, TelemetryQuery)
    data = await _session(request, path, query)
    found = lap_telemetry(data, query.driver, query.lap, max_points=query.max_points)
    if found is None:
        raise UpstreamUnavailable(
            f"No telemetry available for {query.driver} in {data.info.year} "
            f"{data.info.event_name} {data.info.session_name}"
        )
    lap = find_lap(data, query.driver, query.lap)
    columns = zip(
        found.distance.tolist(),
        found.speed.tolist(),
        found.throttle.tolist(),
        found.brake.tolist(),
        found.gear.tolist(),
        found.rpm.tolist(),
        found.drs.tolist(),
        strict=True,
    )
    samples = [
        {
            "distance": distance,
            "speed": speed,
            "throttle": throttle,
            "brake": brake,
            "gear": gear,
            "rpm": rpm,
            "drs": drs,
        }
        for distance, speed, throttle, brake, gear, rpm, drs in columns
    ]
    return ORJSONResponse(
        {
            **_envelope(path, query, data),
            "driver": found.driver,
            "lap_number": found.lap_number,
            "lap_time": format_lap_time(lap.lap_time),
            "lap_time_seconds": lap.lap_time,
            "compound": lap.compound,
            "sample_count": found.sample_count,
            "telemetry": samples,
        }
    )


async def stints(request: Request) -> Response:
    path = parse_path(request, RacePath)
    query = parse_query(request, SessionQuery)
    data = await _session(request, path, query)
    return ORJSONResponse(
        {**_envelope(path, query, data), "stints": [stint_body(s) for s in data.stints]}
    )


async def fastest(request: Request) -> Response:
    path = parse_path(request, RacePath)
    query = parse_query(request, SessionQuery)
    data = await _session(request, path, query)
    lap = fastest_lap(data)
    body = _envelope(path, query, data)
    if lap is None:
        return ORJSONResponse({**body, "message": "No valid lap times found", "fastest_lap": None})
    return ORJSONResponse({**body, "fastest_lap": lap_body(lap)})


routes = [
    Route("/race/{year}/{race}/laps", laps, methods=["GET"]),
    Route("/race/{year}/{race}/driver/{driver}/laps", driver_laps, methods=["GET"]),
    Route("/race/{year}/{race}/telemetry", telemetry, methods=["GET"]),
    Route("/race/{year}/{race}/stints", stints, methods=["GET"]),
    Route("/race/{year}/{race}/fastest-lap", fastest, methods=["GET"]),
]
