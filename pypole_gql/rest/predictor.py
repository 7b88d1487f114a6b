"""``/api/v1/predictor``: race predictions (:class:`~pypole_gql.services.predictions.
PredictionService`): the rules, the template to fill in, a stateless score, and the
signed-in user's stored predictions.

Picks are posted as the older client sends them, a bare JSON array of
``{"driver_id", "predicted_position"}`` (a save also takes ``{"predictions": [...]}``).
Input that breaks the rules is a 422 naming the pick; a save or delete after the race
started a 409; another user's prediction is never read nor written (every statement is
keyed by the caller's id). Two saves that race both succeed, the last kept whole
(``version`` counts them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, RootModel
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.predictions import (
    MAX_PICKS,
    PredictionScore,
    PredictorTemplate,
    ScoringRules,
    StoredPrediction,
    parse_picks,
)
from pypole_gql.errors import InvalidParam, NotFound, NotProvided
from pypole_gql.resources import get_resources
from pypole_gql.rest.auth import Me
from pypole_gql.rest.inputs import json_body
from pypole_gql.rest.params import RoundPath, SeasonPath
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import MessageBody
from pypole_gql.rest.shapes import envelope, list_of, model_of, plain
from pypole_gql.services.predictions import RECENT_LIMIT, PredictionService
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(prefix="/predictor", tags=["predictor"])
AI_PREDICTION = (
    "AI predictions are not available: this server has no prediction model, and it does "
    "not invent results. Use /predictor/template for the entry and make your own picks."
)


class PickInput(BaseModel):
    """One pick: a driver of the race's entry and the position predicted for them."""

    model_config = ConfigDict(extra="ignore")
    driver_id: str = Field(description="Jolpica driverId", examples=["max_verstappen"])
    predicted_position: int = Field(description="1 to the size of the entry", examples=[1])


Picks = Annotated[list[PickInput], Field(max_length=MAX_PICKS)]


class PicksInput(RootModel[Picks]):
    """The picks, as a bare JSON array (as the older client posts them)."""


class PicksObject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    predictions: Picks


class SaveInput(RootModel[Picks | PicksObject]):
    """The picks: a bare JSON array, or ``{"predictions": [...]}``."""


RecentBody = envelope(
    "RecentPredictionsBody",
    "The user's latest predictions, latest race first.",
    predictions=list_of(StoredPrediction),
)


def _service(request: Request) -> PredictionService:
    return get_resources(request).predictions


@contextmanager
def _season_is_year() -> Iterator[None]:
    """The service calls the season ``season``; these routes' path calls it ``year``."""
    try:
        yield
    except InvalidParam as exc:
        if exc.field == "season":
            raise exc.renamed("year") from None
        raise


def _picks(raw: list[PickInput]) -> Any:
    return parse_picks([p.model_dump() for p in raw])


@router.get(
    "/scoring-rules",
    response_model=model_of(ScoringRules),
    operation_id="scoring_rules",
    summary="How predictions are scored",
    description="Exactly the rules `/predictor/score` and stored predictions apply.",
    responses=errors(),
)
async def scoring_rules() -> Response:
    return ORJSONResponse(plain(PredictionService.rules()))


@router.get(
    "/template/{year}/{round}",
    response_model=model_of(PredictorTemplate),
    operation_id="prediction_template",
    summary="The race and its entry, to fill in",
    description="Drivers in championship order before the race, each with their "
    "qualifying position once published.",
    responses=errors(404, 422, 503),
)
async def template(request: Request, year: SeasonPath, round: RoundPath) -> Response:
    with _season_is_year():
        found = await _service(request).template(year, round)
    if found is None:
        raise NotFound(f"Race not found: {year} round {round}")
    return ORJSONResponse(plain(found))


@router.post(
    "/score/{year}/{round}",
    response_model=model_of(PredictionScore),
    operation_id="score_prediction",
    summary="Score picks against a race's result",
    description="Nothing is stored. 404 until the results are published.",
    responses=errors(404, 413, 422, 503),
)
async def score(
    request: Request,
    year: SeasonPath,
    round: RoundPath,
    picks: Annotated[PicksInput, json_body(PicksInput)],
) -> Response:
    with _season_is_year():
        found = await _service(request).score(year, round, _picks(picks.root))
    return ORJSONResponse(plain(found))


@router.get(
    "/ai-prediction/{year}/{round}",
    operation_id="ai_prediction",
    summary="Not available: an AI prediction of the race",
    description=f"Always 501. {AI_PREDICTION}",
    responses=errors(422, 501, notes={501: AI_PREDICTION}),
)
async def ai_prediction(year: SeasonPath, round: RoundPath) -> Response:
    raise NotProvided(AI_PREDICTION)


@router.get(
    "/predictions",
    response_model=RecentBody,
    operation_id="my_predictions",
    summary="The signed-in user's latest predictions",
    description="Latest race first, each scored once its results are published.",
    responses=errors(401, 403, 422, 503),
)
async def my_predictions(
    request: Request,
    me: Me,
    limit: Annotated[int, Query(ge=1, le=RECENT_LIMIT, description="How many")] = 10,
) -> Response:
    found = await _service(request).recent(me.user.id, limit)
    return ORJSONResponse({"predictions": plain(found)})


@router.get(
    "/predictions/{year}/{round}",
    response_model=model_of(StoredPrediction),
    operation_id="my_prediction",
    summary="The signed-in user's prediction for a race",
    description="Scored once the results are published; `open` while it can be changed.",
    responses=errors(401, 403, 404, 422, 503),
)
async def my_prediction(request: Request, me: Me, year: SeasonPath, round: RoundPath) -> Response:
    with _season_is_year():
        found = await _service(request).get(me.user.id, year, round)
    if found is None:
        raise NotFound(f"No prediction for {year} round {round}")
    return ORJSONResponse(plain(found))


@router.put(
    "/predictions/{year}/{round}",
    response_model=model_of(StoredPrediction),
    operation_id="save_prediction",
    summary="Create or replace the signed-in user's prediction for a race",
    description="Until the race starts (then 409). Each driver of the entry at most once, "
    "each position once, positions 1 to the entry's size. Saves that race all succeed, the "
    "last one kept whole; `prediction.version` counts the saves.",
    responses=errors(401, 403, 404, 409, 413, 422, 503, notes={409: "The race has started"}),
)
async def save_prediction(
    request: Request,
    me: Me,
    year: SeasonPath,
    round: RoundPath,
    body: Annotated[SaveInput, json_body(SaveInput)],
) -> Response:
    raw = body.root if isinstance(body.root, list) else body.root.predictions
    with _season_is_year():
        saved = await _service(request).save(me.user.id, year, round, _picks(raw))
    return ORJSONResponse(plain(saved))


@router.delete(
    "/predictions/{year}/{round}",
    response_model=MessageBody,
    operation_id="delete_prediction",
    summary="Remove the signed-in user's prediction for a race",
    description="Until the race starts (then 409).",
    responses=errors(401, 403, 404, 409, 422, 503, notes={409: "The race has started"}),
)
async def delete_prediction(
    request: Request, me: Me, year: SeasonPath, round: RoundPath
) -> Response:
    with _season_is_year():
        removed = await _service(request).delete(me.user.id, year, round)
    if not removed:
        raise NotFound(f"No prediction for {year} round {round}")
    return ORJSONResponse({"message": "Prediction deleted"})
