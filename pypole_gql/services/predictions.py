"""Race predictions: the template to fill in, stateless scoring, and users' stored predictions.

Rules of scoring and of valid picks are in :mod:`pypole_gql.domain.predictions`; this
service adds the race and its data (:class:`F1Service`) and the storage
(:class:`~pypole_gql.db.predictions.PredictionRepository`).

Stored predictions:

* one per user and race (unique user, season, round); saving again replaces the picks
  and bumps ``version``. Two saves that race both succeed and the last one is kept whole:
  the save is a single upsert statement, on PostgreSQL and SQLite alike;
* editable until the race starts (:func:`~pypole_gql.domain.calendar.race_start`, from
  the schedule); a save or delete after that is :class:`Conflict` (409): the request is
  well formed, the race's state refuses it;
* scored when read, against the published results, with :data:`SCORING_RULES` (so a
  change by the stewards shows up in the score);
* only ever read or written with the caller's user id: another user's prediction is
  never visible.

Who may be picked is the race's entry (:meth:`PredictionService.entry`): the round's
results once published, else its qualifying, else the season's drivers, else (before a
new season's first race) the previous season's. Positions run from 1 to the entry's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from pypole_gql.clock import utcnow
from pypole_gql.db.engine import Database
from pypole_gql.db.models import PredictionRow, as_utc
from pypole_gql.db.predictions import PredictionRepository
from pypole_gql.domain import params
from pypole_gql.domain.calendar import race_start
from pypole_gql.domain.f1 import Race
from pypole_gql.domain.predictions import (
    SCORING_RULES,
    Entry,
    EntryDriver,
    Pick,
    Prediction,
    PredictionScore,
    PredictorTemplate,
    ScoringRules,
    StoredPrediction,
    TemplateDriver,
    check_picks,
    score_picks,
)
from pypole_gql.domain.profiles import current_team
from pypole_gql.errors import BadUserInput, Conflict, NotFound
from pypole_gql.services.f1 import F1Service

#: How many predictions :meth:`PredictionService.recent` returns at most.
RECENT_LIMIT: Final = 50
RESULTS_NOT_AVAILABLE: Final = "Race results not yet available"


def race_not_found(season: int, round_: int) -> NotFound:
    return NotFound(f"Race not found: {season} round {round_}")


class PredictionService:
    """Templates, scores and stored predictions (see the module docstring).

    Errors: :class:`BadUserInput` (naming the field: ``season``, ``round``,
    ``picks[i].driver_id`` ...) for input that breaks the rules; :class:`NotFound` for a
    round the calendar does not have, or results that are not published when a score
    needs them; :class:`Conflict` for a change after the race started;
    ``UpstreamUnavailable`` / ``ServiceUnavailable`` when Jolpica or the database is down.
    """

    def __init__(
        self, db: Database, f1: F1Service, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._f1 = f1
        self._clock = clock

    @staticmethod
    def rules() -> ScoringRules:
        """The scoring rules, exactly as :meth:`score` and stored predictions apply them."""
        return SCORING_RULES

    # -- the race -----------------------------------------------------------------------

    async def _race(self, season: int, round_: int) -> Race:
        params.season(season, self._f1.current_year())
        race = await self._f1.race(season, round_)
        if race is None:
            raise race_not_found(season, round_)
        return race

    async def entry(self, season: int, round_: int) -> Entry:
        """Who may be picked for the round (see the module docstring); an empty entry when
        nothing at all is published."""
        results = (await self._f1.results(season)).for_round(round_)
        if results is not None and results.rows:
            rows = [EntryDriver(r.driver, r.constructor) for r in results.rows]
            return Entry(drivers=tuple(rows), source="results")
        qualifying = (await self._f1.qualifying(season)).for_round(round_)
        if qualifying is not None and qualifying.rows:
            rows = [EntryDriver(r.driver, r.constructor) for r in qualifying.rows]
            return Entry(drivers=tuple(rows), source="qualifying")
        for year, source in ((season, "season"), (season - 1, "previous_season")):
            if year < params.FIRST_SEASON:
                break
            drivers = await self._f1.drivers(year)
            if drivers:
                standings = await self._f1.driver_standings(year)
                teams = {s.driver.driver_id: current_team(s) for s in standings.entries}
                rows = [EntryDriver(d, teams.get(d.driver_id)) for d in drivers]
                return Entry(drivers=tuple(rows), source=source)
        return Entry(drivers=(), source="season")

    async def template(self, season: int, round_: int) -> PredictorTemplate | None:
        """The race and its entry, to fill in: drivers in championship order before the
        race (then by qualifying, then by name), each with their qualifying position when
        published. ``None`` when the calendar has no such round (REST: 404 ``"Race not
        found: {year} round {round}"``)."""
        params.season(season, self._f1.current_year())
        race = await self._f1.race(season, round_)
        if race is None:
            return None
        entry, qualifying = await asyncio.gather(
            self.entry(season, round_), self._f1.qualifying(season)
        )
        # The championship as it stood before this race: the latest table while the race
        # is ahead, else the one after the round before.
        if self._clock() < race_start(race):
            standings = await self._f1.driver_standings(season)
        elif round_ > 1:
            standings = await self._f1.driver_standings(season, round_ - 1)
        else:
            standings = None
        by_id = {} if standings is None else {s.driver.driver_id: s for s in standings.entries}
        quali_rows = qualifying.for_round(round_)
        grid = (
            {} if quali_rows is None else {r.driver.driver_id: r.position for r in quali_rows.rows}
        )
        drivers = []
        for row in entry.drivers:
            standing = by_id.get(row.driver.driver_id)
            team = row.team or (None if standing is None else current_team(standing))
            drivers.append(
                TemplateDriver(
                    driver=row.driver,
                    team=team,
                    current_position=None if standing is None else standing.position,
                    current_points=None if standing is None else standing.points,
                    qualifying_position=grid.get(row.driver.driver_id),
                )
            )
        drivers.sort(
            key=lambda d: (
                d.current_position is None,
                d.current_position or 0,
                d.qualifying_position is None,
                d.qualifying_position or 0,
                d.driver.family_name,
                d.driver.given_name,
            )
        )
        return PredictorTemplate(
            season=season,
            round=round_,
            race=race,
            drivers=tuple(drivers),
            qualifying_available=quali_rows is not None and bool(quali_rows.rows),
        )

    # -- stateless scoring --------------------------------------------------------------

    async def score(self, season: int, round_: int, picks: Sequence[Pick]) -> PredictionScore:
        """Score ``picks`` against the round's results; nothing is stored.

        The picks must follow the input rules against the results' entry. No results yet:
        :class:`NotFound` ``"Race results not yet available"``.
        """
        await self._race(season, round_)
        results = (await self._f1.results(season)).for_round(round_)
        if results is None or not results.rows:
            raise NotFound(RESULTS_NOT_AVAILABLE)
        checked = check_picks(picks, frozenset(r.driver.driver_id for r in results.rows))
        return score_picks(checked, results.rows, season=season, round_=round_)

    # -- stored predictions -------------------------------------------------------------

    async def save(
        self, user_id: int, season: int, round_: int, picks: Sequence[Pick]
    ) -> StoredPrediction:
        """Create or replace the user's prediction for the race, until the race starts."""
        race = await self._race(season, round_)
        closes = self._check_open(race)
        entry = await self.entry(season, round_)
        if not entry.drivers:
            raise NotFound(f"No entry list is published for {season} round {round_} yet")
        checked = check_picks(picks, entry.ids)
        async with self._db.session() as session:
            row = await PredictionRepository(session).upsert(
                user_id, season, round_, _encode(checked), self._clock()
            )
            prediction = _to_prediction(row)
        return StoredPrediction(
            prediction=prediction, race=race, closes_at=closes, open=True, score=None
        )

    async def delete(self, user_id: int, season: int, round_: int) -> bool:
        """Remove the user's prediction before the race starts; ``False`` if there was none."""
        race = await self._race(season, round_)
        self._check_open(race)
        async with self._db.session() as session:
            return await PredictionRepository(session).delete(user_id, season, round_)

    async def get(self, user_id: int, season: int, round_: int) -> StoredPrediction | None:
        """The user's prediction for the race, scored once results are published."""
        params.season(season, self._f1.current_year())
        params.round_number(round_)
        async with self._db.session() as session:
            row = await PredictionRepository(session).get(user_id, season, round_)
            found = None if row is None else _to_prediction(row)
        if found is None:
            return None
        return (await self._stored([found]))[0]

    async def recent(self, user_id: int, limit: int = 5) -> tuple[StoredPrediction, ...]:
        """The user's latest predictions (by race, latest first), scored where possible."""
        if not 1 <= limit <= RECENT_LIMIT:
            raise BadUserInput(f"limit must be between 1 and {RECENT_LIMIT}", field="limit")
        async with self._db.session() as session:
            rows = await PredictionRepository(session).recent(user_id, limit)
            found = [_to_prediction(row) for row in rows]
        return await self._stored(found)

    async def _stored(self, predictions: Sequence[Prediction]) -> tuple[StoredPrediction, ...]:
        seasons = sorted({p.season for p in predictions})
        schedules = dict(
            zip(
                seasons, await asyncio.gather(*(self._f1.schedule(s) for s in seasons)), strict=True
            )
        )
        results = dict(
            zip(seasons, await asyncio.gather(*(self._f1.results(s) for s in seasons)), strict=True)
        )
        now = self._clock()
        stored = []
        for p in predictions:
            race = schedules[p.season].race(p.round)
            closes = None if race is None else race_start(race)
            rows = results[p.season].for_round(p.round)
            score = None
            if rows is not None and rows.rows:
                score = score_picks(p.picks, rows.rows, season=p.season, round_=p.round)
            stored.append(
                StoredPrediction(
                    prediction=p,
                    race=race,
                    closes_at=closes,
                    open=closes is not None and now < closes,
                    score=score,
                )
            )
        return tuple(stored)

    def _check_open(self, race: Race) -> datetime:
        closes = race_start(race)
        if self._clock() >= closes:
            raise Conflict(
                f"Predictions for the {race.season} {race.name} closed when the race started "
                f"({closes:%Y-%m-%d %H:%M} UTC)",
                field="round",
            )
        return closes


def _encode(picks: Sequence[Pick]) -> list[dict[str, Any]]:
    return [{"driver_id": p.driver_id, "predicted_position": p.predicted_position} for p in picks]


def _to_prediction(row: PredictionRow) -> Prediction:
    return Prediction(
        user_id=row.user_id,
        season=row.season,
        round=row.round,
        picks=tuple(
            Pick(driver_id=str(p["driver_id"]), predicted_position=int(p["predicted_position"]))
            for p in row.picks
        ),
        version=row.version,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )
