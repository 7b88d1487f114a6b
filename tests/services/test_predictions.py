"""PredictionService on the replay and real databases (SQLite and PostgreSQL).

Scores are checked against :func:`_points`, written here from the rules' text, applied to
results.csv: not against the scoring code itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.domain.predictions import SCORING_RULES, Pick, parse_picks
from pypole_gql.errors import BadUserInput, Conflict, NotFound
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.predictions import PredictionService
from tests.jolpica_oracle import oracle_for
from tests.services.frontend_support import NOW, Csv, F1Factory, make_user

SCORED = (2023, 5)


def _points(difference: int) -> int:
    """The rules as written: 25, 18, 15, 12, 10, 8 for 0..5 places off, then 10 - d, not < 0."""
    table = {0: 25, 1: 18, 2: 15, 3: 12, 4: 10, 5: 8}
    return table[difference] if difference in table else max(0, 10 - difference)


def _expected_score(
    csv: Csv, season: int, round_: int, picks: list[Pick]
) -> tuple[int, int, float]:
    actual = {r.driver: r.position for r in csv.round_results(season, round_)}
    total = sum(
        _points(abs(p.predicted_position - actual[p.driver_id]))
        for p in picks
        if p.driver_id in actual
    )
    maximum = 25 * len(picks)
    return total, maximum, round(100 * total / maximum, 1) if maximum else 0.0


def _grid_picks(csv: Csv, season: int, round_: int) -> list[Pick]:
    """Predict the grid order as the finishing order (pit-lane starters last)."""
    rows = csv.round_results(season, round_)
    order = sorted(rows, key=lambda r: (r.grid in (None, 0), r.grid or 0, r.position))
    return [Pick(r.driver, i) for i, r in enumerate(order, start=1)]


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    await upgrade_async(db_url)
    db = Database(db_url)
    yield db
    await db.close()


def _service(db: Database, f1: F1Service, now: datetime = NOW) -> PredictionService:
    return PredictionService(db, f1, clock=lambda: now)


# -- rules and stateless scoring ------------------------------------------------------------


def test_rules_are_what_the_scorer_applies() -> None:
    from pypole_gql.domain.predictions import points_for

    assert SCORING_RULES.position_points == tuple(_points(d) for d in range(6))
    assert [points_for(d) for d in range(30)] == [_points(d) for d in range(30)]
    assert dict(SCORING_RULES.bonus_points) == {}
    assert "bonus" in SCORING_RULES.description.lower()


@pytest.mark.parametrize("round_", [1, 5, 12])
async def test_stateless_score_equals_results_csv(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database, round_: int
) -> None:
    picks = _grid_picks(fixtures_csv, 2023, round_)
    score = await _service(database, replay_f1).score(2023, round_, picks)
    total, maximum, accuracy = _expected_score(fixtures_csv, 2023, round_, picks)
    assert (score.total_score, score.max_possible_score, score.accuracy_percentage) == (
        total,
        maximum,
        accuracy,
    )
    actual = {r.driver: r.position for r in fixtures_csv.round_results(2023, round_)}
    assert [
        (s.driver_id, s.predicted_position, s.actual_position, s.difference, s.points_earned)
        for s in score.detailed_scores
    ] == [
        (
            p.driver_id,
            p.predicted_position,
            actual[p.driver_id],
            abs(p.predicted_position - actual[p.driver_id]),
            _points(abs(p.predicted_position - actual[p.driver_id])),
        )
        for p in picks
    ]


async def test_a_partial_list_scores_and_counts_only_its_picks(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    picks = list(reversed(_grid_picks(fixtures_csv, *SCORED)))[:10]
    score = await _service(database, replay_f1).score(*SCORED, picks)
    assert (score.total_score, score.max_possible_score, score.accuracy_percentage) == (
        _expected_score(fixtures_csv, *SCORED, picks)
    )
    assert [s.predicted_position for s in score.detailed_scores] == sorted(
        p.predicted_position for p in picks
    )


async def test_no_results_yet_or_no_such_race(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    service = _service(database, replay_f1)
    upcoming = fixtures_csv.next_round(NOW)
    with pytest.raises(NotFound, match="Race results not yet available"):
        await service.score(*upcoming, [Pick("max_verstappen", 1)])
    missing = len(fixtures_csv.rounds(2023)) + 1
    with pytest.raises(NotFound, match=f"Race not found: 2023 round {missing}"):
        await service.score(2023, missing, [Pick("max_verstappen", 1)])


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"driver_id": "x", "predicted_position": 1}, "picks"),
        (["max_verstappen"], "picks[0]"),
        ([{"predicted_position": 1}], "picks[0].driver_id"),
        ([{"driver_id": "max_verstappen"}], "picks[0].predicted_position"),
        (
            [{"driver_id": "max_verstappen", "predicted_position": "1"}],
            "picks[0].predicted_position",
        ),
        (
            [{"driver_id": "max_verstappen", "predicted_position": True}],
            "picks[0].predicted_position",
        ),
        (
            [{"driver_id": "max_verstappen", "predicted_position": 1.0}],
            "picks[0].predicted_position",
        ),
    ],
)
def test_malformed_json_names_the_field(raw: object, field: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        parse_picks(raw)
    assert caught.value.field == field


async def test_pick_rules_name_the_field(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    service = _service(database, replay_f1)
    picks = _grid_picks(fixtures_csv, *SCORED)
    entrants = len(picks)
    cases = [
        ([], "picks"),
        ([picks[0], Pick("nobody_at_all", 2)], "picks[1].driver_id"),
        ([picks[0], Pick(picks[0].driver_id, 2)], "picks[1].driver_id"),
        (
            [picks[0], Pick(picks[1].driver_id, picks[0].predicted_position)],
            "picks[1].predicted_position",
        ),
        ([Pick(picks[0].driver_id, 0)], "picks[0].predicted_position"),
        ([Pick(picks[0].driver_id, entrants + 1)], "picks[0].predicted_position"),
    ]
    for bad, field in cases:
        with pytest.raises(BadUserInput) as caught:
            await service.score(*SCORED, bad)
        assert caught.value.field == field, bad


# -- template -------------------------------------------------------------------------------


async def test_template_of_a_run_race(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database, fixtures_dir: Path
) -> None:
    template = await _service(database, replay_f1).template(*SCORED)
    assert template is not None
    assert template.qualifying_available
    oracle = oracle_for(fixtures_dir / "jolpica" / "csv")
    grid = {q.driver_ref: q.position for q in oracle.qualifying(*SCORED)}
    entrants = {r.driver for r in fixtures_csv.round_results(*SCORED)}
    before = {s.ref: s for s in fixtures_csv.driver_standings_after(SCORED[0], SCORED[1] - 1)}
    assert {d.driver.driver_id for d in template.drivers} == entrants
    assert {d.driver.driver_id: d.qualifying_position for d in template.drivers} == {
        ref: grid.get(ref) for ref in entrants
    }
    assert [
        d.driver.driver_id for d in template.drivers if d.current_position is not None
    ] == sorted((ref for ref in entrants if ref in before), key=lambda ref: before[ref].position)
    assert all(
        d.current_points == before[d.driver.driver_id].points
        for d in template.drivers
        if d.driver.driver_id in before
    )


async def test_template_of_an_upcoming_race(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    template = await _service(database, replay_f1).template(season, round_)
    assert template is not None
    assert not template.qualifying_available
    assert all(d.qualifying_position is None for d in template.drivers)
    # Before qualifying the entry is the season's drivers, in the current championship order.
    drivers = {r.driver for r in fixtures_csv.season_results(season)}
    standings = fixtures_csv.driver_standings(season)
    ranked = [s.ref for s in standings if s.ref in drivers]
    assert [d.driver.driver_id for d in template.drivers][: len(ranked)] == ranked
    assert {d.driver.driver_id for d in template.drivers} == drivers
    missing = len(fixtures_csv.rounds(season)) + 1
    assert await _service(database, replay_f1).template(season, missing) is None


# -- stored predictions ---------------------------------------------------------------------


def _season_picks(csv: Csv, season: int, count: int) -> list[Pick]:
    drivers = [s.ref for s in csv.driver_standings(season)][:count]
    return [Pick(ref, i) for i, ref in enumerate(drivers, start=1)]


async def test_save_read_replace_and_isolation(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    service = _service(database, replay_f1)
    alice, bob = await make_user(database), await make_user(database)
    first = _season_picks(fixtures_csv, season, 10)

    saved = await service.save(alice, season, round_, list(reversed(first)))
    assert saved.prediction.picks == tuple(first)  # stored by position
    assert (saved.prediction.version, saved.open, saved.score) == (1, True, None)
    assert saved.closes_at == fixtures_csv.race_start(season, round_)

    second = [Pick(p.driver_id, 11 - p.predicted_position) for p in first]
    replaced = await service.save(alice, season, round_, second)
    assert replaced.prediction.version == 2
    read = await service.get(alice, season, round_)
    assert read is not None
    assert read.prediction.picks == tuple(sorted(second, key=lambda p: p.predicted_position))
    assert read.prediction.created_at <= read.prediction.updated_at

    assert await service.get(bob, season, round_) is None
    assert await service.recent(bob) == ()
    assert await service.delete(bob, season, round_) is False
    assert await service.get(alice, season, round_) is not None
    assert await service.delete(alice, season, round_) is True
    assert await service.get(alice, season, round_) is None


async def test_saving_after_the_start_is_refused(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    season, upcoming = fixtures_csv.next_round(NOW)
    started = upcoming - 1
    user = await make_user(database)
    service = _service(database, replay_f1)
    with pytest.raises(Conflict) as caught:
        await service.save(user, season, started, _season_picks(fixtures_csv, season, 3))
    assert caught.value.field == "round"
    assert caught.value.status == 409
    with pytest.raises(Conflict):
        await service.delete(user, season, started)
    # One second before the start it is still open.
    just_before = fixtures_csv.race_start(season, started) - timedelta(seconds=1)
    saved = await _service(database, replay_f1, just_before).save(
        user, season, started, _season_picks(fixtures_csv, season, 3)
    )
    assert saved.open


async def test_stored_prediction_is_scored_after_the_race(
    replay_f1: F1Service, fixtures_csv: Csv, database: Database
) -> None:
    season, upcoming = fixtures_csv.next_round(NOW)
    raced = upcoming - 1
    user = await make_user(database)
    before = fixtures_csv.race_start(season, raced) - timedelta(hours=1)
    picks = _grid_picks(fixtures_csv, season, raced)[:12]
    await _service(database, replay_f1, before).save(user, season, raced, picks)

    later = await _service(database, replay_f1).get(user, season, raced)
    assert later is not None and later.score is not None and not later.open
    assert (
        later.score.total_score,
        later.score.max_possible_score,
        later.score.accuracy_percentage,
    ) == _expected_score(fixtures_csv, season, raced, picks)

    # Picked for a race whose results are not out yet: no score.
    await _service(database, replay_f1).save(
        user, season, upcoming, _season_picks(fixtures_csv, season, 5)
    )
    recent = await _service(database, replay_f1).recent(user)
    assert [(p.prediction.season, p.prediction.round) for p in recent] == [
        (season, upcoming),
        (season, raced),
    ]
    assert recent[0].score is None and recent[0].open
    assert recent[1].score == later.score


async def test_concurrent_saves_of_one_race_lose_nothing(
    f1_factory: F1Factory, fixtures_csv: Csv, database: Database, db_url: str
) -> None:
    """Saves from two engines (two server processes) at once: all succeed, none is half
    applied, and the version counts every one of them."""
    f1 = await f1_factory()
    season, round_ = fixtures_csv.next_round(NOW)
    user = await make_user(database)
    other = Database(db_url)
    try:
        services = [_service(database, f1), _service(other, f1)]
        await services[0].entry(season, round_)  # warm the tables: the race is in the database
        drivers = [s.ref for s in fixtures_csv.driver_standings(season)][:10]
        variants = [
            [Pick(ref, (i + shift) % len(drivers) + 1) for i, ref in enumerate(drivers)]
            for shift in range(12)
        ]
        saved = await asyncio.gather(
            *(services[i % 2].save(user, season, round_, picks) for i, picks in enumerate(variants))
        )
    finally:
        await other.close()
    assert sorted(s.prediction.version for s in saved) == list(range(1, len(variants) + 1))
    final = await services[0].get(user, season, round_)
    assert final is not None
    assert final.prediction.version == len(variants)
    wanted = {tuple(sorted(v, key=lambda p: p.predicted_position)) for v in variants}
    assert final.prediction.picks in wanted
    last = max(saved, key=lambda s: s.prediction.version)
    assert final.prediction.picks == last.prediction.picks
