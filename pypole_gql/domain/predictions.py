"""Race predictions: what a pick is, the input rules, and how a prediction is scored.

Scoring (what :data:`SCORING_RULES` tells clients, and all that is applied): each pick
whose driver is in the race's Grand Prix results scores by ``difference = |predicted -
actual|`` (actual = Jolpica's finishing ``position``, which also orders retirements):
25 for the exact place, then 18, 15, 12, 10, 8 for one to five places off, then
``max(0, 10 - difference)``. A pick of a driver without a result row scores 0. The
maximum is 25 per pick; accuracy is the total over that maximum, in percent to one
decimal (0.0 for no picks). There are **no bonus points**: the older backend advertised
some (podium, winner, fastest lap) but never applied them; they are not advertised here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from pypole_gql.domain.f1 import Constructor, Driver, Race, RaceResult
from pypole_gql.errors import BadUserInput

#: Points by places off, from the exact place (index 0) to five places off.
POSITION_POINTS: Final = (25, 18, 15, 12, 10, 8)
#: Beyond five places off: ``max(0, BEYOND_BASE - difference)``.
BEYOND_BASE: Final = 10
MAX_POINTS_PER_PICK: Final = POSITION_POINTS[0]
#: Most picks one prediction may hold (a grid has never had more than 34 cars).
MAX_PICKS: Final = 40


def points_for(difference: int) -> int:
    if difference < len(POSITION_POINTS):
        return POSITION_POINTS[difference]
    return max(0, BEYOND_BASE - difference)


@dataclass(frozen=True, slots=True)
class ScoringRules:
    position_points: tuple[int, ...]
    """Points for the exact place (index 0) up to :data:`POSITION_POINTS`'s last."""
    beyond: str
    """The rule past the table, as text."""
    bonus_points: Mapping[str, int]
    """Always empty: no bonus is applied (see the module docstring)."""
    description: str


SCORING_RULES: Final = ScoringRules(
    position_points=POSITION_POINTS,
    beyond=f"max(0, {BEYOND_BASE} - difference)",
    bonus_points=MappingProxyType({}),
    description=(
        "Predict each driver's finishing position: an exact position scores 25 points, "
        "and the further off a prediction is, the fewer points it earns. No bonus points."
    ),
)


@dataclass(frozen=True, slots=True)
class Pick:
    driver_id: str
    """Jolpica ``driverId``."""
    predicted_position: int


@dataclass(frozen=True, slots=True)
class ScoredPick:
    driver_id: str
    predicted_position: int
    actual_position: int
    difference: int
    points_earned: int


@dataclass(frozen=True, slots=True)
class PredictionScore:
    season: int
    round: int
    total_score: int
    max_possible_score: int
    accuracy_percentage: float
    detailed_scores: tuple[ScoredPick, ...]
    """One per pick whose driver has a result, in predicted order."""
    unscored: tuple[str, ...] = ()
    """Driver ids picked who have no result row (they score 0)."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """A user's stored prediction for one race."""

    user_id: int
    season: int
    round: int
    picks: tuple[Pick, ...]
    """By predicted position."""
    version: int
    """1 when created, +1 on each save."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredPrediction:
    prediction: Prediction
    race: Race | None
    """``None`` if the round has left the calendar since (a cancelled race)."""
    closes_at: datetime | None
    """The race start: the prediction can be changed until then."""
    open: bool
    score: PredictionScore | None
    """Scored against the published results (``None`` before they are)."""


@dataclass(frozen=True, slots=True)
class TemplateDriver:
    driver: Driver
    team: Constructor | None
    current_position: int | None
    """Championship position before this race; ``None`` before the season's first."""
    current_points: float | None
    qualifying_position: int | None


@dataclass(frozen=True, slots=True)
class PredictorTemplate:
    season: int
    round: int
    race: Race
    drivers: tuple[TemplateDriver, ...]
    qualifying_available: bool
    """True only when this round's qualifying results are published."""


@dataclass(frozen=True, slots=True)
class EntryDriver:
    driver: Driver
    team: Constructor | None


@dataclass(frozen=True, slots=True)
class Entry:
    """Who can be picked for a race, and where that list comes from."""

    drivers: tuple[EntryDriver, ...]
    source: str
    """``results`` or ``qualifying`` (the round's own rows), ``season`` (the season's
    drivers) or ``previous_season`` (before a new season's first race)."""
    ids: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", frozenset(d.driver.driver_id for d in self.drivers))


# -- input rules ----------------------------------------------------------------------------


def parse_picks(raw: Any, *, field: str = "picks") -> tuple[Pick, ...]:
    """Picks from decoded JSON: a list of ``{"driver_id": str, "predicted_position": int}``
    (other keys ignored). :class:`BadUserInput` names the first bad item's field, e.g.
    ``picks[2].predicted_position``."""
    if not isinstance(raw, list):
        raise BadUserInput(f"{field} must be a list of picks", field=field)
    if len(raw) > MAX_PICKS:
        raise BadUserInput(f"{field} may hold at most {MAX_PICKS} picks", field=field)
    picks = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise BadUserInput(
                f"{where} must be an object with driver_id and predicted_position", field=where
            )
        driver_id = item.get("driver_id")
        if not isinstance(driver_id, str) or not driver_id:
            raise BadUserInput(f"{where}.driver_id must be a driver id", field=f"{where}.driver_id")
        position = item.get("predicted_position")
        if not isinstance(position, int) or isinstance(position, bool):
            raise BadUserInput(
                f"{where}.predicted_position must be an integer",
                field=f"{where}.predicted_position",
            )
        picks.append(Pick(driver_id=driver_id, predicted_position=position))
    return tuple(picks)


def check_picks(
    picks: Sequence[Pick], allowed: Collection[str], *, field: str = "picks"
) -> tuple[Pick, ...]:
    """``picks`` sorted by position, if each names a driver of ``allowed`` once and the
    positions are distinct and within ``1..len(allowed)``; else :class:`BadUserInput`."""
    if not picks:
        raise BadUserInput(f"{field} must hold at least one pick", field=field)
    limit = len(allowed)
    drivers: set[str] = set()
    positions: set[int] = set()
    for index, pick in enumerate(picks):
        where = f"{field}[{index}]"
        if pick.driver_id not in allowed:
            raise BadUserInput(
                f"{where}.driver_id: {pick.driver_id!r} is not in this race's entry",
                field=f"{where}.driver_id",
            )
        if pick.driver_id in drivers:
            raise BadUserInput(
                f"{where}.driver_id: {pick.driver_id!r} is picked more than once",
                field=f"{where}.driver_id",
            )
        if not 1 <= pick.predicted_position <= limit:
            raise BadUserInput(
                f"{where}.predicted_position must be between 1 and {limit}",
                field=f"{where}.predicted_position",
            )
        if pick.predicted_position in positions:
            raise BadUserInput(
                f"{where}.predicted_position: position {pick.predicted_position} is "
                "given to more than one driver",
                field=f"{where}.predicted_position",
            )
        drivers.add(pick.driver_id)
        positions.add(pick.predicted_position)
    return tuple(sorted(picks, key=lambda p: p.predicted_position))


# -- scoring ------------------------------------------------------------------------------


def score_picks(
    picks: Sequence[Pick], results: Sequence[RaceResult], *, season: int, round_: int
) -> PredictionScore:
    actual = {r.driver.driver_id: r.position for r in results if r.position is not None}
    detailed = []
    unscored = []
    for pick in picks:
        position = actual.get(pick.driver_id)
        if position is None:
            unscored.append(pick.driver_id)
            continue
        difference = abs(pick.predicted_position - position)
        detailed.append(
            ScoredPick(
                driver_id=pick.driver_id,
                predicted_position=pick.predicted_position,
                actual_position=position,
                difference=difference,
                points_earned=points_for(difference),
            )
        )
    total = sum(s.points_earned for s in detailed)
    maximum = len(picks) * MAX_POINTS_PER_PICK
    return PredictionScore(
        season=season,
        round=round_,
        total_score=total,
        max_possible_score=maximum,
        accuracy_percentage=round(total / maximum * 100, 1) if maximum else 0.0,
        detailed_scores=tuple(detailed),
        unscored=tuple(unscored),
    )
