"""``/api/v1/fastf1``: the older PyPole backend's FastF1 routes over :class:`SessionService`.

Shapes are that backend's (snake_case, lap times also as ``"m:ss.fff"``). An unknown
event, session, driver or lap is a 404 naming it; a bad session type or year a 422; data
not available or the upstream down a 503 with ``Retry-After``. Never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.params import DEFAULT_SESSION_TYPE
from pypole_gql.domain.sessions import (
    SessionData,
    fastest_lap,
    find_lap,
    require_driver,
    select_laps,
)
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import (
    DriverPath,
    DriverQuery,
    LapQuery,
    MaxPointsQuery,
    RacePath,
    SessionTypeQuery,
    YearPath,
)
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import (
    DriverLapsBody,
    FastestLapBody,
    LapBody,
    LapsBody,
    StintBody,
    StintsBody,
    TelemetryBody,
    TelemetrySample,
    format_lap_time,
    respond,
)
from pypole_gql.services.sessions import SessionService

router = APIRouter(
    prefix="/fastf1/race/{year}/{race}",
    tags=["fastf1"],
    responses=errors(
        404, 422, 503, notes={404: "Unknown event, session, driver or lap; the message names it"}
    ),
)


def _service(request: Request) -> SessionService:
    return get_resources(request).sessions


async def _session(request: Request, year: int, race: str, session_type: str) -> SessionData:
    return await _service(request).session(year, race, session_type)


@router.get(
    "/laps",
    response_model=LapsBody,
    operation_id="session_laps",
    summary="Every lap of a session",
)
async def laps(
    request: Request,
    year: YearPath,
    race: RacePath,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
) -> Response:
    data = await _session(request, year, race, session_type)
    return respond(LapsBody.of_laps(year, race, data, data.laps))


@router.get(
    "/driver/{driver}/laps",
    response_model=DriverLapsBody,
    operation_id="driver_laps",
    summary="One driver's laps of a session",
)
async def driver_laps(
    request: Request,
    year: YearPath,
    race: RacePath,
    driver: DriverPath,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
) -> Response:
    data = await _session(request, year, race, session_type)
    found = require_driver(data, driver)
    rows = select_laps(data, [found.number])
    return respond(DriverLapsBody.of_laps(year, race, data, rows, driver=found.code))


@router.get(
    "/telemetry",
    response_model=TelemetryBody,
    operation_id="lap_telemetry",
    summary="Car telemetry of one lap",
)
async def telemetry(
    request: Request,
    year: YearPath,
    race: RacePath,
    *,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
    driver: DriverQuery,
    lap: LapQuery,
    max_points: MaxPointsQuery = None,
) -> Response:
    data = await _session(request, year, race, session_type)
    found = _service(request).telemetry(data, driver, lap, max_points=max_points)
    if found is None:
        info = data.info
        raise UpstreamUnavailable(
            f"No telemetry available for {driver} in {info.year} {info.event_name} "
            f"{info.session_name}"
        )
    timed = find_lap(data, driver, lap)
    body = TelemetryBody.of(
        year,
        race,
        data,
        driver=found.driver,
        lap_number=found.lap_number,
        lap_time=format_lap_time(timed.lap_time),
        lap_time_seconds=timed.lap_time,
        compound=timed.compound,
        sample_count=found.sample_count,
        telemetry=TelemetrySample.all_of(found),
    )
    return respond(body)


@router.get(
    "/stints",
    response_model=StintsBody,
    operation_id="session_stints",
    summary="Tyre stints of a session",
)
async def stints(
    request: Request,
    year: YearPath,
    race: RacePath,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
) -> Response:
    data = await _session(request, year, race, session_type)
    rows = [StintBody.of(stint) for stint in data.stints]
    return respond(StintsBody.of(year, race, data, stints=rows))


@router.get(
    "/fastest-lap",
    response_model=FastestLapBody,
    operation_id="fastest_lap",
    summary="The fastest lap of a session",
)
async def fastest(
    request: Request,
    year: YearPath,
    race: RacePath,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
) -> Response:
    data = await _session(request, year, race, session_type)
    lap = fastest_lap(data)
    if lap is None:
        body = FastestLapBody.of(
            year, race, data, message="No valid lap times found", fastest_lap=None
        )
    else:
        body = FastestLapBody.of(year, race, data, fastest_lap=LapBody.of(lap))
    return respond(body)
