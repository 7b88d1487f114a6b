"""``/api/v1/fastf1/race/{year}/{race}/...``: a session's records and lap analysis over
:class:`SessionService`, each cut from the one loaded session (no load of its own).

Every tabular route also answers ``?format=csv`` (:mod:`pypole_gql.rest.csv_format`).
``track-map`` and ``lap-positions`` carry the fields the older PyPole web frontend reads
(``points``; ``frames`` and ``drivers``). Errors as the other FastF1 routes: 404 naming an
unknown event, session, driver or lap (or a lap without car data to compare), 422 for bad
parameters, 503 when the data cannot be loaded or the session has no position data.

The routes are declared once, in :data:`TABLES`: each names its path, response model and
summary, a ``select`` whose parameters are the route's (FastAPI reads its signature) and
which answers what the route is about, and how that becomes CSV rows or the JSON body.
:func:`_route` makes the one handler shape from such a declaration, adding ``format``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain import sessions
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

Found = TypeVar("Found")


@dataclass(frozen=True, slots=True)
class Table(Generic[Found]):
    """One route of a session's records: ``GET {path}`` (``path`` without its ``/`` names
    the CSV's columns in :data:`~.session_schemas.COLUMNS` and its file; the operation is
    ``session_`` and that name in snake case)."""

    path: str
    model: type[BaseModel]
    summary: str
    #: The route's parameters (``asked`` among them) and what it answers about.
    select: Callable[..., Awaitable[Found]]
    #: ``format=csv``: the rows of what was selected.
    rows: Callable[[Found], Sequence[Mapping[str, Any]]]
    #: ``format=json``: the body, a ``model``.
    body: Callable[[AskedSession, Found], BaseModel]

    @property
    def what(self) -> str:
        return self.path.removeprefix("/")


_FORMAT = inspect.Parameter(
    "format", inspect.Parameter.KEYWORD_ONLY, default="json", annotation=FormatQuery
)


def _route(table: Table[Any]) -> None:
    """Add ``table``'s route: its ``select``'s parameters and ``format``."""
    what = table.what

    async def handler(format: str = "json", **params: Any) -> Response:
        found = await table.select(**params)
        asked: AskedSession = params["asked"]
        if format == "csv":
            return csv_response(asked.data, what, s.COLUMNS[what], table.rows(found))
        return respond(table.body(asked, found))

    operation_id = "session_" + what.replace("-", "_")
    selected = inspect.signature(table.select, eval_str=True)
    handler.__name__ = handler.__qualname__ = operation_id
    handler.__signature__ = selected.replace(  # type: ignore[attr-defined]
        parameters=[*selected.parameters.values(), _FORMAT], return_annotation=Response
    )
    router.get(
        table.path,
        response_model=table.model,
        responses=CSV_RESPONSE,
        operation_id=operation_id,
        summary=table.summary,
    )(handler)


async def _results(asked: Asked) -> Sequence[sessions.SessionResult]:
    return results(asked.data)


async def _weather(asked: Asked) -> Sequence[sessions.WeatherSample]:
    return weather(asked.data)


async def _race_control(
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
) -> Sequence[sessions.RaceControlMessage]:
    return race_control(asked.data, category, flag)


async def _track_status(asked: Asked) -> Sequence[sessions.TrackStatusChange]:
    return track_status(asked.data)


async def _pit_stops(
    request: Request, asked: Asked, drivers: DriversQuery = None
) -> Sequence[sessions.PitStop]:
    return await get_resources(request).sessions.pit_stops(asked.data, driver_list(drivers))


async def _positions(asked: Asked, drivers: DriversQuery = None) -> Sequence[sessions.LapPosition]:
    return positions(asked.data, driver_list(drivers))


async def _track_map(
    request: Request,
    asked: Asked,
    driver: OptionalDriverQuery = None,
    lap: OptionalLapQuery = None,
    max_points: MaxPointsQuery = None,
) -> sessions.TrackMap:
    service = get_resources(request).sessions
    found = service.track_map(asked.data, driver, lap, max_points=max_points)
    if found is None:
        raise UpstreamUnavailable(f"No position data available for {asked.data.label}")
    return found


def _track_map_body(asked: AskedSession, found: sessions.TrackMap) -> BaseModel:
    lap_row = find_lap(asked.data, found.driver_number, found.lap_number)
    return s.TrackMapBody.of_map(asked, found, lap_row)


async def _compare(
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
) -> sessions.LapComparison:
    service = get_resources(request).sessions
    return service.compare(asked.data, driver_list(drivers) or [], laps)


async def _lap_frames(asked: Asked) -> Sequence[sessions.LapFrame]:
    return lap_frames(asked.data)


TABLES: tuple[Table[Any], ...] = (
    Table(
        "/results",
        s.ResultsBody,
        "Session results (FastF1's Session.results)",
        _results,
        s.result_rows,
        lambda asked, found: s.ResultsBody.of(asked, results=s.result_rows(found)),
    ),
    Table(
        "/weather",
        s.WeatherBody,
        "Weather samples of a session",
        _weather,
        s.weather_rows,
        lambda asked, found: s.WeatherBody.of(asked, weather=s.weather_rows(found)),
    ),
    Table(
        "/race-control",
        s.RaceControlBody,
        "Race control messages of a session",
        _race_control,
        s.race_control_rows,
        lambda asked, found: s.RaceControlBody.of(asked, messages=s.race_control_rows(found)),
    ),
    Table(
        "/track-status",
        s.TrackStatusBody,
        "Track status changes of a session",
        _track_status,
        s.track_status_rows,
        lambda asked, found: s.TrackStatusBody.of(asked, track_status=s.track_status_rows(found)),
    ),
    Table(
        "/pit-stops",
        s.SessionPitStopsBody,
        "Pit stops of a session, with Jolpica's durations (races)",
        _pit_stops,
        s.pit_stop_rows,
        lambda asked, found: s.SessionPitStopsBody.of(asked, pit_stops=s.pit_stop_rows(found)),
    ),
    Table(
        "/positions",
        s.PositionsBody,
        "Position, gap to the leader and interval at each lap's end",
        _positions,
        s.position_rows,
        lambda asked, found: s.PositionsBody.of(asked, positions=s.position_rows(found)),
    ),
    Table(
        "/track-map",
        s.TrackMapBody,
        "The track's shape: one lap's x, y, z (default the fastest lap)",
        _track_map,
        s.track_point_rows,
        _track_map_body,
    ),
    Table(
        "/compare",
        s.CompareBody,
        "Two to four laps on one distance axis, with the time delta",
        _compare,
        s.compared_sample_rows,
        s.CompareBody.of_comparison,
    ),
    Table(
        "/lap-positions",
        s.LapPositionsBody,
        "The session lap by lap: every car's position and place at each lap's end",
        _lap_frames,
        s.lap_frame_rows,
        s.LapPositionsBody.of_frames,
    ),
)

for _table in TABLES:
    _route(_table)
