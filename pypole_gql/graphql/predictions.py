"""Race predictions over GraphQL (:class:`~pypole_gql.services.predictions.PredictionService`):
the rules, the template, a stateless score, and the signed-in user's own predictions
(``myPrediction``, ``myPredictions``, ``savePrediction``, ``deletePrediction``).

The same rules as the REST routes: bad picks are ``BAD_USER_INPUT`` naming the pick
(``picks[2].predictedPosition``), a change after the race started is ``CONFLICT``, and no
field ever reads another user's prediction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from pypole_gql.domain import predictions as domain
from pypole_gql.domain.predictions import MAX_PICKS, Pick
from pypole_gql.errors import BadUserInput
from pypole_gql.graphql.auth import require_user
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.drivers import Driver
from pypole_gql.graphql.f1 import Constructor, Race
from pypole_gql.graphql.inputs import graphql_fields
from pypole_gql.services.predictions import RECENT_LIMIT, PredictionService

YearArgument = Annotated[int, strawberry.argument(description="The season's year.")]
RoundArgument = Annotated[int, strawberry.argument(description="The round, from 1.")]


@strawberry.input(description="One pick: a driver of the race's entry and a position.")
class PickInput:
    driver_id: strawberry.ID = strawberry.field(description="Jolpica's driver id.")
    predicted_position: int = strawberry.field(description="1 to the size of the entry.")


PicksArgument = Annotated[
    list[PickInput],
    strawberry.argument(description=f"At most {MAX_PICKS}; each driver once, each position once."),
]


@strawberry.type(description="How predictions are scored.")
class ScoringRules:
    position_points: list[int] = strawberry.field(
        description="Points for the exact position (first), then one to five places off."
    )
    beyond: str = strawberry.field(description="The rule past five places off.")
    description: str = strawberry.field(description="The rules in one sentence.")


@strawberry.type(description="A driver to pick in a race's template.")
class TemplateDriver:
    driver: Driver = strawberry.field(description="The driver.")
    team: Constructor | None = strawberry.field(description="The driver's team in the race.")
    current_position: int | None = strawberry.field(
        description="Championship position before the race."
    )
    current_points: float | None = strawberry.field(
        description="Championship points before the race."
    )
    qualifying_position: int | None = strawberry.field(
        description="Qualifying position once published."
    )


@strawberry.type(description="A race and its entry, to fill in.")
class PredictionTemplate:
    year: int = strawberry.field(description="The season.")
    round: int = strawberry.field(description="The round.")
    race: Race = strawberry.field(description="The race.")
    drivers: list[TemplateDriver] = strawberry.field(
        description="In championship order, then by qualifying, then by name."
    )
    qualifying_available: bool = strawberry.field(description="Qualifying is published.")


@strawberry.type(description="One pick, scored.")
class ScoredPick:
    driver_id: strawberry.ID = strawberry.field(description="Jolpica's driver id.")
    predicted_position: int = strawberry.field(description="As picked.")
    actual_position: int = strawberry.field(description="As classified.")
    difference: int = strawberry.field(description="Places off.")
    points_earned: int = strawberry.field(description="Points for this pick.")


@strawberry.type(description="Picks scored against a race's results.")
class PredictionScore:
    year: int = strawberry.field(description="The season.")
    round: int = strawberry.field(description="The round.")
    total_score: int = strawberry.field(description="Sum of the picks' points.")
    max_possible_score: int = strawberry.field(description="25 per pick.")
    accuracy_percentage: float = strawberry.field(description="Total over maximum, percent.")
    detailed_scores: list[ScoredPick] = strawberry.field(
        description="Each pick whose driver has a result, in predicted order."
    )
    unscored: list[strawberry.ID] = strawberry.field(
        description="Drivers picked who have no result (0 points)."
    )

    @classmethod
    def of(cls, s: domain.PredictionScore) -> PredictionScore:
        return cls(
            year=s.season,
            round=s.round,
            total_score=s.total_score,
            max_possible_score=s.max_possible_score,
            accuracy_percentage=s.accuracy_percentage,
            detailed_scores=[
                ScoredPick(
                    driver_id=strawberry.ID(p.driver_id),
                    predicted_position=p.predicted_position,
                    actual_position=p.actual_position,
                    difference=p.difference,
                    points_earned=p.points_earned,
                )
                for p in s.detailed_scores
            ],
            unscored=[strawberry.ID(d) for d in s.unscored],
        )


@strawberry.type(description="A pick as stored.")
class PredictionPick:
    driver_id: strawberry.ID = strawberry.field(description="Jolpica's driver id.")
    predicted_position: int = strawberry.field(description="The position picked.")


@strawberry.type(description="The signed-in user's prediction for one race.")
class Prediction:
    year: int = strawberry.field(description="The season.")
    round: int = strawberry.field(description="The round.")
    picks: list[PredictionPick] = strawberry.field(description="By predicted position.")
    version: int = strawberry.field(description="1 when created, +1 on each save.")
    created_at: dt.datetime = strawberry.field(description="First saved.")
    updated_at: dt.datetime = strawberry.field(description="Last saved.")
    race: Race | None = strawberry.field(description="The race; null if it left the calendar.")
    closes_at: dt.datetime | None = strawberry.field(
        description="The race start: changes are refused from then on."
    )
    open: bool = strawberry.field(description="It can still be changed.")
    score: PredictionScore | None = strawberry.field(
        description="Against the published results; null before they are."
    )

    @classmethod
    def of(cls, s: domain.StoredPrediction) -> Prediction:
        p = s.prediction
        return cls(
            year=p.season,
            round=p.round,
            picks=[
                PredictionPick(
                    driver_id=strawberry.ID(x.driver_id), predicted_position=x.predicted_position
                )
                for x in p.picks
            ],
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
            race=None if s.race is None else Race.of(s.race),
            closes_at=s.closes_at,
            open=s.open,
            score=None if s.score is None else PredictionScore.of(s.score),
        )


def _service(info: Info) -> PredictionService:
    return info.context.resources.predictions


def _picks(picks: list[PickInput]) -> list[Pick]:
    if len(picks) > MAX_PICKS:
        raise BadUserInput(f"picks may hold at most {MAX_PICKS} picks", field="picks")
    return [Pick(str(p.driver_id), p.predicted_position) for p in picks]


@strawberry.type
class PredictionQuery:
    @strawberry.field(description="How predictions are scored (what scorePrediction applies).")
    def scoring_rules(self) -> ScoringRules:
        rules = PredictionService.rules()
        return ScoringRules(
            position_points=list(rules.position_points),
            beyond=rules.beyond,
            description=rules.description,
        )

    @strawberry.field(description="A race and its entry, to fill in; null for no such round.")
    async def prediction_template(
        self, info: Info, year: YearArgument, round: RoundArgument
    ) -> PredictionTemplate | None:
        with graphql_fields():
            found = await _service(info).template(year, round)
        if found is None:
            return None
        return PredictionTemplate(
            year=found.season,
            round=found.round,
            race=Race.of(found.race),
            drivers=[
                TemplateDriver(
                    driver=Driver.of(d.driver),
                    team=None if d.team is None else Constructor.of(d.team),
                    current_position=d.current_position,
                    current_points=d.current_points,
                    qualifying_position=d.qualifying_position,
                )
                for d in found.drivers
            ],
            qualifying_available=found.qualifying_available,
        )

    @strawberry.field(
        description="Picks scored against the race's results; nothing is stored. NOT_FOUND "
        "until the results are published."
    )
    async def score_prediction(
        self, info: Info, year: YearArgument, round: RoundArgument, picks: PicksArgument
    ) -> PredictionScore:
        with graphql_fields():
            found = await _service(info).score(year, round, _picks(picks))
        return PredictionScore.of(found)

    @strawberry.field(
        description="The signed-in user's prediction for a race; null when there is none."
    )
    async def my_prediction(
        self, info: Info, year: YearArgument, round: RoundArgument
    ) -> Prediction | None:
        principal = await require_user(info)
        with graphql_fields():
            found = await _service(info).get(principal.user.id, year, round)
        return None if found is None else Prediction.of(found)

    @strawberry.field(description="The signed-in user's latest predictions, latest race first.")
    async def my_predictions(
        self,
        info: Info,
        limit: Annotated[
            int, strawberry.argument(description=f"How many, 1 to {RECENT_LIMIT}.")
        ] = 10,
    ) -> list[Prediction]:
        principal = await require_user(info)
        found = await _service(info).recent(principal.user.id, limit)
        return [Prediction.of(p) for p in found]


@strawberry.type
class PredictionMutation:
    @strawberry.mutation(
        description="Create or replace the signed-in user's prediction for a race, until the "
        "race starts (then CONFLICT). Saves that race all succeed, the last kept whole."
    )
    async def save_prediction(
        self, info: Info, year: YearArgument, round: RoundArgument, picks: PicksArgument
    ) -> Prediction:
        principal = await require_user(info)
        with graphql_fields():
            saved = await _service(info).save(principal.user.id, year, round, _picks(picks))
        return Prediction.of(saved)

    @strawberry.mutation(
        description="Remove the signed-in user's prediction for a race before it starts; "
        "false when there was none."
    )
    async def delete_prediction(self, info: Info, year: YearArgument, round: RoundArgument) -> bool:
        principal = await require_user(info)
        with graphql_fields():
            return await _service(info).delete(principal.user.id, year, round)
