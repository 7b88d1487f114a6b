"""``/api/v1/jolpica``: the older PyPole backend's Jolpica routes over :class:`F1Service`.

Shapes are that backend's: Jolpica objects are passed through exactly as Jolpica gives
them (its field names, string values, every row), wrapped in a small envelope. A season
or round that does not exist is a 404, a malformed parameter a 422, Jolpica down with
nothing cached a 503 with ``Retry-After``; errors are always ``{"detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.f1 import Schedule, SeasonTable, Standings
from pypole_gql.errors import NotFound
from pypole_gql.resources import get_resources
from pypole_gql.rest.jolpica_schemas import (
    ConstructorStandingsBody,
    DriverStandingsBody,
    NextRaceBody,
    RaceResultsBody,
    ScheduleBody,
)
from pypole_gql.rest.params import RoundPath, RoundQuery, SeasonPath, SeasonQuery
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import respond
from pypole_gql.services.f1 import F1Service

router = APIRouter(prefix="/jolpica", tags=["jolpica"])


def _service(request: Request) -> F1Service:
    return get_resources(request).f1


#: What the schedule and standings routes say of a season without a calendar yet.
UNPUBLISHED = (
    "A season that can exist (1950 to five years ahead) but whose calendar Jolpica has not "
    "published yet answers 200 with an empty list, as the older backend did: its clients "
    "fall back to the previous season on an empty list."
)


async def _schedule_of(service: F1Service, season: int | None) -> Schedule:
    """The season's calendar, empty when it is not published yet."""
    return await service.current_schedule() if season is None else await service.schedule(season)


def _schedule(schedule: Schedule) -> Response:
    return respond(
        ScheduleBody(season=schedule.season, races=[race.raw for race in schedule.races])
    )


async def _round_of(service: F1Service, season: int, round_: int) -> None:
    """:class:`NotFound` unless the season has the round (the service checks both)."""
    if await service.race(season, round_) is None:
        raise NotFound(f"Round {round_} of season {season} not found")


# Literal paths before ``/schedule/{season}``, which would otherwise take "current".
@router.get(
    "/schedule",
    response_model=ScheduleBody,
    operation_id="schedule",
    summary="A season's schedule",
    description=UNPUBLISHED,
    responses=errors(422, 503),
)
async def schedule(request: Request, season: SeasonQuery = None) -> Response:
    return _schedule(await _schedule_of(_service(request), season))


@router.get(
    "/schedule/current",
    response_model=ScheduleBody,
    operation_id="current_schedule",
    summary="The current season's schedule",
    description=UNPUBLISHED,
    responses=errors(503),
)
async def current_schedule(request: Request) -> Response:
    return _schedule(await _schedule_of(_service(request), None))


@router.get(
    "/schedule/next",
    response_model=NextRaceBody,
    operation_id="next_race",
    summary="The next race",
    response_description='The next race, or `{"message": "No upcoming races found", "race": null}`',
    responses=errors(503),
)
async def next_race(request: Request) -> Response:
    race = await _service(request).next_race()
    if race is None:
        return respond(NextRaceBody(message="No upcoming races found", race=None))
    return respond(NextRaceBody(race=race.raw))


@router.get(
    "/schedule/{season}",
    response_model=ScheduleBody,
    operation_id="season_schedule",
    summary="A season's schedule",
    description=UNPUBLISHED,
    responses=errors(422, 503),
)
async def season_schedule(request: Request, season: SeasonPath) -> Response:
    return _schedule(await _schedule_of(_service(request), season))


async def _standings(
    request: Request,
    season: int | None,
    round_: int | None,
    table_of: Callable[[F1Service, int, int | None], Awaitable[Standings[Any]]],
    body: type[DriverStandingsBody | ConstructorStandingsBody],
) -> Response:
    service = _service(request)
    if season is not None and round_ is not None:
        await _round_of(service, season, round_)  # both checked before anything loads
    else:
        calendar = await _schedule_of(service, season)
        season = calendar.season
        if round_ is not None:
            await _round_of(service, season, round_)
        elif not calendar.races:  # not published yet: no table to ask Jolpica for
            return respond(body(season=season, round=None, standings=[]))
    table = await table_of(service, season, round_)
    return respond(
        body(season=table.season, round=table.round, standings=[e.raw for e in table.entries])
    )


@router.get(
    "/standings/drivers",
    response_model=DriverStandingsBody,
    operation_id="driver_standings",
    summary="Driver standings",
    description=f"After `round`, or the latest round when left out. {UNPUBLISHED}",
    responses=errors(404, 422, 503),
)
async def driver_standings(
    request: Request, season: SeasonQuery = None, round: RoundQuery = None
) -> Response:
    return await _standings(request, season, round, F1Service.driver_standings, DriverStandingsBody)


@router.get(
    "/standings/constructors",
    response_model=ConstructorStandingsBody,
    operation_id="constructor_standings",
    summary="Constructor standings",
    description=f"After `round`, or the latest round when left out. {UNPUBLISHED}",
    responses=errors(404, 422, 503),
)
async def constructor_standings(
    request: Request, season: SeasonQuery = None, round: RoundQuery = None
) -> Response:
    return await _standings(
        request, season, round, F1Service.constructor_standings, ConstructorStandingsBody
    )


async def _round_table(
    request: Request,
    season: int,
    round_: int,
    table_of: Callable[[F1Service, int], Awaitable[SeasonTable[Any]]],
    what: str,
) -> Response:
    service = _service(request)
    await _round_of(service, season, round_)
    entry = (await table_of(service, season)).for_round(round_)
    if entry is None:
        raise NotFound(f"No {what} for round {round_} of season {season} yet")
    return respond(RaceResultsBody(season=season, round=round_, race=entry.raw))


@router.get(
    "/results/{season}/{round}",
    response_model=RaceResultsBody,
    operation_id="race_results",
    summary="A race's results",
    responses=errors(404, 422, 503),
)
async def race_results(request: Request, season: SeasonPath, round: RoundPath) -> Response:
    return await _round_table(request, season, round, F1Service.results, "results")


@router.get(
    "/qualifying/{season}/{round}",
    response_model=RaceResultsBody,
    operation_id="qualifying_results",
    summary="A race's qualifying results",
    responses=errors(404, 422, 503),
)
async def qualifying_results(request: Request, season: SeasonPath, round: RoundPath) -> Response:
    return await _round_table(request, season, round, F1Service.qualifying, "qualifying results")
