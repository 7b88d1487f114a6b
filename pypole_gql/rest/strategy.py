"""``/api/v1/strategy``: tyre strategy of a race and of one driver in it
(:class:`~pypole_gql.services.strategy.StrategyService`, over the race's FastF1 session).

Errors are the ``/fastf1`` routes': an unknown event or driver 404, a bad year 422, data not
loadable 503.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.strategy import DriverStrategyDetail, RaceStrategy
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import DriverPath, RacePath, YearPath
from pypole_gql.rest.responses import errors
from pypole_gql.rest.shapes import model_of, plain
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(
    prefix="/strategy",
    tags=["strategy"],
    responses=errors(404, 422, 503, notes={404: "Unknown event or driver; the message names it"}),
)


@router.get(
    "/race/{year}/{race}",
    response_model=model_of(RaceStrategy),
    operation_id="race_strategy",
    summary="Every driver's tyre strategy in a race",
    description="Stints, stops, compound performance, pit windows and the strategies "
    "grouped by average finishing position (`classification` says where the order comes "
    "from).",
)
async def race_strategy(request: Request, year: YearPath, race: RacePath) -> Response:
    return ORJSONResponse(plain(await get_resources(request).strategy.race(year, race)))


@router.get(
    "/driver/{year}/{race}/{driver}",
    response_model=model_of(DriverStrategyDetail),
    operation_id="driver_strategy",
    summary="One driver's tyre strategy in a race",
    description="The driver's stints with degradation and pace per stint.",
)
async def driver_strategy(
    request: Request, year: YearPath, race: RacePath, driver: DriverPath
) -> Response:
    found = await get_resources(request).strategy.driver(year, race, driver)
    return ORJSONResponse(plain(found))
