"""``/api/v1/comparison``: driver against driver, over a season (Jolpica) and in one race
(FastF1), as the older backend's comparison routes
(:class:`~pypole_gql.services.comparison.ComparisonService`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.comparison import RaceComparison, SeasonComparison
from pypole_gql.domain.params import DEFAULT_SESSION_TYPE
from pypole_gql.errors import NotFound
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import SeasonQuery, SessionTypeQuery
from pypole_gql.rest.responses import errors
from pypole_gql.rest.shapes import model_of, plain
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(prefix="/comparison", tags=["comparison"])
NOT_IN_STANDINGS = "One or both drivers not found in standings"


@router.get(
    "/drivers/season",
    response_model=model_of(SeasonComparison),
    operation_id="compare_drivers_season",
    summary="Two drivers over a season",
    description="Championship lines, head to head over the races both took part in, and "
    "race by race.",
    responses=errors(404, 422, 503, notes={404: NOT_IN_STANDINGS}),
)
async def season(
    request: Request,
    driver1: Annotated[str, Query(description="Jolpica driverId, e.g. max_verstappen")],
    driver2: Annotated[str, Query(description="Jolpica driverId, e.g. hamilton")],
    season: SeasonQuery = None,
) -> Response:
    found = await get_resources(request).comparison.season(driver1, driver2, season)
    if found is None:
        raise NotFound(NOT_IN_STANDINGS)
    return ORJSONResponse(plain(found))


@router.get(
    "/drivers/race",
    response_model=model_of(RaceComparison),
    operation_id="compare_drivers_race",
    summary="Two drivers in one session",
    description="Each driver's laps, fastest and average lap, and the deltas "
    "(driver1 minus driver2, seconds).",
    responses=errors(404, 422, 503, notes={404: "Unknown event, session or driver"}),
)
async def race(
    request: Request,
    driver1: Annotated[str, Query(description="Driver code (VER) or car number")],
    driver2: Annotated[str, Query(description="Driver code (HAM) or car number")],
    year: Annotated[int, Query(description="Season year")],
    race: Annotated[str, Query(description='Round number or event name, e.g. "4"')],
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
) -> Response:
    found = await get_resources(request).comparison.race(
        year, race, driver1, driver2, session_type=session_type
    )
    return ORJSONResponse(plain(found))
