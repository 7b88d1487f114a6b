"""``/api/v1/race-weekend``: the race-weekend hub
(:class:`~pypole_gql.services.race_weekend.RaceWeekendService`).

Results appear as their sessions happen; the race's fastest lap and pit stops once the race
is over and its timing data is published (null until then, and when it cannot be loaded).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.race_weekend import RaceWeekend
from pypole_gql.errors import NotFound
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import RoundPath, SeasonPath
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import MessageBody
from pypole_gql.rest.shapes import model_of, plain
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(prefix="/race-weekend", tags=["race-weekend"])
NO_WEEKEND = "No upcoming race weekend found"


@router.get(
    "/current",
    response_model=model_of(RaceWeekend) | MessageBody,
    operation_id="current_race_weekend",
    summary="The weekend of the next race",
    description="The weekend stays current until its race starts. With no upcoming race "
    f'published: `{{"message": "{NO_WEEKEND}"}}`.',
    responses=errors(503),
)
async def current(request: Request) -> Response:
    weekend = await get_resources(request).race_weekend.current()
    if weekend is None:
        return ORJSONResponse({"message": NO_WEEKEND})
    return ORJSONResponse(plain(weekend))


@router.get(
    "/{season}/{round}",
    response_model=model_of(RaceWeekend),
    operation_id="race_weekend",
    summary="A race weekend",
    responses=errors(404, 422, 503),
)
async def weekend(request: Request, season: SeasonPath, round: RoundPath) -> Response:
    found = await get_resources(request).race_weekend.weekend(season, round)
    if found is None:
        raise NotFound(f"Race not found: {season} round {round}")
    return ORJSONResponse(plain(found))
