"""``/api/v1/profiles``: a season's drivers and teams, and one's season profile
(:class:`~pypole_gql.services.profiles.ProfileService`).

Jolpica's objects are Jolpica's JSON (``driver.givenName``); counts and points are numbers.
A driver or team absent from the season is a 404 naming both, a malformed id or an
impossible season a 422, Jolpica down with nothing cached a 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.profiles import DriverProfile, DriverSummary, TeamProfile, TeamSummary
from pypole_gql.errors import NotFound
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import SeasonQuery
from pypole_gql.rest.responses import errors
from pypole_gql.rest.shapes import envelope, list_of, model_of, plain
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(prefix="/profiles", tags=["profiles"])

DriversBody = envelope(
    "DriversBody",
    "A season's drivers in championship order.",
    season=int,
    drivers=list_of(DriverSummary),
)
TeamsBody = envelope(
    "TeamsBody",
    "A season's constructors in championship order.",
    season=int,
    teams=list_of(TeamSummary),
)
DriverId = Annotated[str, Path(description="Jolpica driverId, e.g. max_verstappen", max_length=64)]
ConstructorId = Annotated[
    str, Path(description="Jolpica constructorId, e.g. red_bull", max_length=64)
]


async def _absent(
    what: str, season: int | None, listing: Callable[[int | None], Awaitable[tuple[int, Any]]]
) -> NotFound:
    """The 404 for ``what`` absent from ``season`` (default the current season, which
    ``listing`` names)."""
    year = season or (await listing(None))[0]
    return NotFound(f"{what} not found in {year} season")


@router.get(
    "/drivers",
    response_model=DriversBody,
    operation_id="profile_drivers",
    summary="A season's drivers",
    description="In championship order; empty for a season without standings yet.",
    responses=errors(422, 503),
)
async def drivers(request: Request, season: SeasonQuery = None) -> Response:
    year, found = await get_resources(request).profiles.drivers(season)
    return ORJSONResponse({"season": year, "drivers": plain(found)})


@router.get(
    "/drivers/{driver_id}",
    response_model=model_of(DriverProfile),
    operation_id="driver_profile",
    summary="A driver's season profile",
    description="The driver's standing, races and counts of `season` (default current), "
    "and a career over the five seasons ending with it.",
    responses=errors(404, 422, 503),
)
async def driver(request: Request, driver_id: DriverId, season: SeasonQuery = None) -> Response:
    profiles = get_resources(request).profiles
    profile = await profiles.driver(driver_id, season)
    if profile is None:
        raise await _absent(f"Driver {driver_id}", season, profiles.drivers)
    return ORJSONResponse(plain(profile))


@router.get(
    "/teams",
    response_model=TeamsBody,
    operation_id="profile_teams",
    summary="A season's constructors",
    description="In championship order; empty for a season without standings yet.",
    responses=errors(422, 503),
)
async def teams(request: Request, season: SeasonQuery = None) -> Response:
    year, found = await get_resources(request).profiles.teams(season)
    return ORJSONResponse({"season": year, "teams": plain(found)})


@router.get(
    "/teams/{constructor_id}",
    response_model=model_of(TeamProfile),
    operation_id="team_profile",
    summary="A team's season profile",
    description="The team's standing, drivers and each race's rows of `season` (default current).",
    responses=errors(404, 422, 503),
)
async def team(
    request: Request, constructor_id: ConstructorId, season: SeasonQuery = None
) -> Response:
    profiles = get_resources(request).profiles
    profile = await profiles.team(constructor_id, season)
    if profile is None:
        raise await _absent(f"Constructor {constructor_id}", season, profiles.teams)
    return ORJSONResponse(plain(profile))
