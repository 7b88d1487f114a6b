"""``/api/v1/jolpica``: the older PyPole backend's Jolpica routes over :class:`F1Service`.

Shapes are that backend's: Jolpica objects are passed through exactly as Jolpica gives
them (its field names, string values, every row), wrapped in a small envelope. A season
or round that does not exist is a 404, a malformed parameter a 422, Jolpica down with
nothing cached a 503 with ``Retry-After``; errors are always ``{"detail": ...}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pypole_gql.domain.f1 import Schedule
from pypole_gql.errors import NotFound
from pypole_gql.resources import get_resources
from pypole_gql.rest.common import ORJSONResponse, parse_path, parse_query
from pypole_gql.services.f1 import MAX_ROUND, MIN_SEASON, SEASONS_AHEAD, F1Service


def _season(value: int) -> int:
    latest = datetime.now(UTC).year + SEASONS_AHEAD
    if not MIN_SEASON <= value <= latest:
        raise ValueError(f"season must be between {MIN_SEASON} and {latest}")
    return value


def _round(value: int) -> int:
    if not 1 <= value <= MAX_ROUND:
        raise ValueError(f"round must be between 1 and {MAX_ROUND}")
    return value


# The bounds the validators check, in the OpenAPI document too (the latest season moves with
# the clock, so only its description names it).
SeasonNumber = Annotated[
    int, AfterValidator(_season), WithJsonSchema({"type": "integer", "minimum": MIN_SEASON})
]
RoundNumber = Annotated[
    int,
    AfterValidator(_round),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ROUND}),
]


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OptionalSeason(_Params):
    season: SeasonNumber | None = None


class StandingsQuery(_Params):
    season: SeasonNumber | None = None
    round: RoundNumber | None = None


class SeasonPath(_Params):
    season: SeasonNumber


class RoundPath(_Params):
    season: SeasonNumber
    round: RoundNumber


def _service(request: Request) -> F1Service:
    return get_resources(request).f1


async def _existing_schedule(service: F1Service, season: int | None) -> Schedule:
    schedule = (
        await service.current_schedule() if season is None else await service.schedule(season)
    )
    if not schedule.races:
        raise NotFound(f"Season {schedule.season} not found")
    return schedule


def _schedule_body(schedule: Schedule) -> dict[str, Any]:
    return {"season": schedule.season, "races": [race.raw for race in schedule.races]}


async def schedule(request: Request) -> Response:
    params = parse_query(request, OptionalSeason)
    found = await _existing_schedule(_service(request), params.season)
    return ORJSONResponse(_schedule_body(found))


async def current_schedule(request: Request) -> Response:
    found = await _existing_schedule(_service(request), None)
    return ORJSONResponse(_schedule_body(found))


async def season_schedule(request: Request) -> Response:
    params = parse_path(request, SeasonPath)
    found = await _existing_schedule(_service(request), params.season)
    return ORJSONResponse(_schedule_body(found))


async def next_race(request: Request) -> Response:
    race = await _service(request).next_race()
    if race is None:
        return ORJSONResponse({"message": "No upcoming races found", "race": None})
    return ORJSONResponse({"race": race.raw})


async def _standings_season(request: Request) -> tuple[F1Service, int, int | None]:
    service = _service(request)
    params = parse_query(request, StandingsQuery)
    found = await _existing_schedule(service, params.season)
    if params.round is not None and found.race(params.round) is None:
        raise NotFound(f"Round {params.round} of season {found.season} not found")
    return service, found.season, params.round


async def driver_standings(request: Request) -> Response:
    service, season, round_ = await _standings_season(request)
    table = await service.driver_standings(season, round_)
    return ORJSONResponse(
        {
            "season": table.season,
            "round": table.round,
            "standings": [entry.raw for entry in table.entries],
        }
    )


async def constructor_standings(request: Request) -> Response:
    service, season, round_ = await _standings_season(request)
    table = await service.constructor_standings(season, round_)
    return ORJSONResponse(
        {
            "season": table.season,
            "round": table.round,
            "standings": [entry.raw for entry in table.entries],
        }
    )


async def _round_of(request: Request) -> tuple[F1Service, int, int]:
    service = _service(request)
    params = parse_path(request, RoundPath)
    found = await _existing_schedule(service, params.season)
    if found.race(params.round) is None:
        raise NotFound(f"Round {params.round} of season {params.season} not found")
    return service, params.season, params.round


async def race_results(request: Request) -> Response:
    service, season, round_ = await _round_of(request)
    entry = (await service.results(season)).for_round(round_)
    if entry is None:
        raise NotFound(f"No results for round {round_} of season {season} yet")
    return ORJSONResponse({"season": season, "round": round_, "race": entry.raw})


async def qualifying_results(request: Request) -> Response:
    service, season, round_ = await _round_of(request)
    entry = (await service.qualifying(season)).for_round(round_)
    if entry is None:
        raise NotFound(f"No qualifying results for round {round_} of season {season} yet")
    return ORJSONResponse({"season": season, "round": round_, "race": entry.raw})


# Literal paths before ``/schedule/{season}``, which would otherwise take "current".
routes = [
    Route("/schedule", schedule, methods=["GET"]),
    Route("/schedule/current", current_schedule, methods=["GET"]),
    Route("/schedule/next", next_race, methods=["GET"]),
    Route("/schedule/{season}", season_schedule, methods=["GET"]),
    Route("/standings/drivers", driver_standings, methods=["GET"]),
    Route("/standings/constructors", constructor_standings, methods=["GET"]),
    Route("/results/{season}/{round}", race_results, methods=["GET"]),
    Route("/qualifying/{season}/{round}", qualifying_results, methods=["GET"]),
]
