"""``/api/v1/fastf1/race/{year}/{race}/...``: a session's records and lap analysis over
:class:`SessionService`, each cut from the one loaded session (no load of its own).

Every tabular route also answers ``?format=csv`` (:mod:`pypole_gql.rest.csv_format`).
``track-map`` and ``lap-positions`` carry the fields the older PyPole web frontend reads
(``points``; ``frames`` and ``drivers``). Errors as the other FastF1 routes: 404 naming an
unknown event, session, driver or lap (or a lap without car data to compare), 422 for bad
parameters, 503 when the data cannot be loaded or the session has no position data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.sessions import (
    find_lap,
    lap_frames,
    positions,
    race_control,
    results,
    track_status,
    weather,
)
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.resources import get_resources
from pypole_gql.rest import session_schemas as s
from pypole_gql.rest.csv_format import CSV_RESPONSE, csv_response
from pypole_gql.rest.fastf1 import LOADING_RESPONSE, Asked
from pypole_gql.rest.params import (
    DriverListText,
    DriversQuery,
    FormatQuery,
    MaxPointsQuery,
    OptionalDriverQuery,
    OptionalLapQuery,
    driver_list,
)
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import AskedSession, respond

router = APIRouter(
    prefix="/fastf1/race/{year}/{race}",
    tags=["fastf1"],
    responses={
        **LOADING_RESPONSE,
        **errors(
            404,
            422,
            503,
            notes={404: "Unknown event, session, driver or lap; the message names it"},
        ),
    },
)


def _tabular(asked: AskedSession, what: str, format: str, rows: list[Any], body: Any) -> Response:
    if format == "csv":
        return csv_response(asked.data, what, s.COLUMNS[what], rows)
    return respond(body)


@router.get(
    "/results",
    response_model=s.ResultsBody,
    responses=CSV_RESPONSE,
    operation_id="session_results",
    summary="Session results (FastF1's Session.results)",
)
async def session_results(asked: Asked, format: FormatQuery = "json") -> Response:
    rows = s.result_rows(results(asked.data))
    return _tabular(asked, "results", format, rows, s.ResultsBody.of(asked, results=rows))


@router.get(
    "/weather",
    response_model=s.WeatherBody,
    responses=CSV_RESPONSE,
    operation_id="session_weather",
    summary="Weather samples of a session",
)
async def session_weather(asked: Asked, format: FormatQuery = "json") -> Response:
    rows = s.weather_rows(weather(asked.data))
    return _tabular(asked, "weather", format, rows, s.WeatherBody.of(asked, weather=rows))


@router.get(
    "/race-control",
    response_model=s.RaceControlBody,
    responses=CSV_RESPONSE,
    operation_id="session_race_control",
    summary="Race control messages of a session",
)
async def session_race_control(
    asked: Asked,
    category: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only this category: Flag, SafetyCar, Drs, CarEvent, Other (any case).",
        ),
    ] = None,
    flag: Annotated[
        str | None,
        Query(
            max_length=40, description="Only this flag: YELLOW, DOUBLE YELLOW, RED ... (any case)."
        ),
    ] = None,
    format: FormatQuery = "json",
) -> Response:
    rows = s.race_control_rows(race_control(asked.data, category, flag))
    body = s.RaceControlBody.of(asked, messages=rows)
    return _tabular(asked, "race-control", format, rows, body)


@router.get(
    "/track-status",
    response_model=s.TrackStatusBody,
    responses=CSV_RESPONSE,
    operation_id="session_track_status",
    summary="Track status changes of a session",
)
async def session_track_status(asked: Asked, format: FormatQuery = "json") -> Response:
    rows = s.track_status_rows(track_status(asked.data))
    body = s.TrackStatusBody.of(asked, track_status=rows)
    return _tabular(asked, "track-status", format, rows, body)


@router.get(
    "/pit-stops",
    response_model=s.SessionPitStopsBody,
    responses=CSV_RESPONSE,
    operation_id="session_pit_stops",
    summary="Pit stops of a session, with Jolpica's durations (races)",
)
async def session_pit_stops(
    request: Request, asked: Asked, drivers: DriversQuery = None, format: FormatQuery = "json"
) -> Response:
    service = get_resources(request).sessions
    rows = s.pit_stop_rows(await service.pit_stops(asked.data, driver_list(drivers)))
    body = s.SessionPitStopsBody.of(asked, pit_stops=rows)
    return _tabular(asked, "pit-stops", format, rows, body)


@router.get(
    "/positions",
    response_model=s.PositionsBody,
    responses=CSV_RESPONSE,
    operation_id="session_positions",
    summary="Position, gap to the leader and interval at each lap's end",
)
async def session_positions(
    asked: Asked, drivers: DriversQuery = None, format: FormatQuery = "json"
) -> Response:
    rows = s.position_rows(positions(asked.data, driver_list(drivers)))
    body = s.PositionsBody.of(asked, positions=rows)
    return _tabular(asked, "positions", format, rows, body)


@router.get(
    "/track-map",
    response_model=s.TrackMapBody,
    responses=CSV_RESPONSE,
    operation_id="session_track_map",
    summary="The track's shape: one lap's x, y, z (default the fastest lap)",
)
async def session_track_map(
    request: Request,
    asked: Asked,
    driver: OptionalDriverQuery = None,
    lap: OptionalLapQuery = None,
    max_points: MaxPointsQuery = None,
    format: FormatQuery = "json",
) -> Response:
    service = get_resources(request).sessions
    found = service.track_map(asked.data, driver, lap, max_points=max_points)
    if found is None:
        raise UpstreamUnavailable(f"No position data available for {asked.data.label}")
    if format == "csv":
        rows = s.track_point_rows(found)
        return csv_response(asked.data, "track-map", s.COLUMNS["track-map"], rows)
    lap_row = find_lap(asked.data, found.driver_number, found.lap_number)
    return respond(s.TrackMapBody.of_map(asked, found, lap_row))


@router.get(
    "/compare",
    response_model=s.CompareBody,
    responses=CSV_RESPONSE,
    operation_id="session_compare",
    summary="Two to four laps on one distance axis, with the time delta",
)
async def session_compare(
    request: Request,
    asked: Asked,
    drivers: Annotated[
        list[DriverListText],
        Query(
            min_length=1,
            max_length=4,
            description="2 to 4 driver codes or car numbers, the reference first (repeat "
            "the parameter or separate with commas).",
        ),
    ],
    laps: Annotated[
        list[int] | None,
        Query(
            max_length=4,
            description="The lap of each driver, in the same order; fastest laps when left out.",
        ),
    ] = None,
    format: FormatQuery = "json",
) -> Response:
    service = get_resources(request).sessions
    found = service.compare(asked.data, driver_list(drivers) or [], laps)
    if format == "csv":
        rows = s.compared_sample_rows(found)
        return csv_response(asked.data, "compare", s.COLUMNS["compare"], rows)
    return respond(s.CompareBody.of_comparison(asked, found))


@router.get(
    "/lap-positions",
    response_model=s.LapPositionsBody,
    responses=CSV_RESPONSE,
    operation_id="session_lap_positions",
    summary="The session lap by lap: every car's position and place at each lap's end",
)
async def session_lap_positions(asked: Asked, format: FormatQuery = "json") -> Response:
    frames = lap_frames(asked.data)
    if format == "csv":
        rows = s.lap_frame_rows(frames)
        return csv_response(asked.data, "lap-positions", s.COLUMNS["lap-positions"], rows)
    return respond(s.LapPositionsBody.of_frames(asked, frames))
