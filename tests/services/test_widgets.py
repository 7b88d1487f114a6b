"""WidgetService on the replay: each widget's data against the CSV, favourites, fallbacks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import pytest

from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.domain.f1 import Race
from pypole_gql.domain.predictions import Pick
from pypole_gql.domain.profiles import DriverProfile, TeamProfile
from pypole_gql.domain.users import Theme, User
from pypole_gql.domain.widgets import (
    WIDGET_IDS,
    CalendarWidget,
    ConstructorStandingsWidget,
    DriverStandingsWidget,
    FastestLapWidget,
    LastRaceWidget,
    LeaderWidget,
    RecentPredictionsWidget,
)
from pypole_gql.services.f1 import F1Service
from pypole_gql.services.predictions import PredictionService
from pypole_gql.services.profiles import ProfileService
from pypole_gql.services.widgets import WIDGET_NOT_FOUND, WidgetService
from tests.plugins.fastf1 import SessionsApp
from tests.plugins.replay import Replay
from tests.services.frontend_support import NOW, Csv, F1Factory, make_user

#: The theme table of the older frontend: the team names it stores as favourites.
FRONTEND_TEAM_NAMES = [
    "Red Bull Racing",
    "Ferrari",
    "Mercedes",
    "McLaren",
    "Aston Martin",
    "Alpine F1 Team",
    "Williams",
    "RB F1 Team",
    "Kick Sauber",
    "Haas F1 Team",
]
#: Before the 2026 season: Jolpica's current season has no data yet.
BEFORE_2026 = datetime.fromisoformat("2026-01-15T12:00:00+00:00")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'widgets.db'}"
    await upgrade_async(url)
    db = Database(url)
    yield db
    await db.close()


@pytest.fixture
def widgets(replay_f1: F1Service, sessions_app: SessionsApp, database: Database) -> WidgetService:
    return _widgets(replay_f1, sessions_app, database)


def _widgets(f1: F1Service, app: SessionsApp, db: Database) -> WidgetService:
    return WidgetService(
        f1,
        app.resources.sessions,
        ProfileService(f1),
        PredictionService(db, f1, clock=lambda: NOW),
        clock=lambda: NOW,
    )


def _user_with(user_id: int = 1, *, driver: str | None = None, team: str | None = None) -> User:
    return User(
        id=user_id,
        email="fan@example.com",
        username="fan",
        is_active=True,
        is_superuser=False,
        favorite_team=team,
        favorite_driver=driver,
        theme=Theme.DARK,
        created_at=NOW,
        updated_at=NOW,
    )


#: The older backend's widget ids (the frontend-spec, section 2.9): contract names.
OLD_WIDGET_IDS = [
    "next_race",
    "driver_standings",
    "constructor_standings",
    "favorite_driver",
    "favorite_team",
    "race_calendar",
    "last_race_results",
    "fastest_lap",
    "championship_leader",
    "recent_predictions",
]


def test_catalogue() -> None:
    listed = WidgetService.available()
    assert [w.id for w in listed] == OLD_WIDGET_IDS
    assert set(OLD_WIDGET_IDS) == WIDGET_IDS
    assert {w.id for w in listed if w.personal} == {
        "favorite_driver",
        "favorite_team",
        "recent_predictions",
    }


async def test_unknown_widget_is_an_error_in_the_body(widgets: WidgetService) -> None:
    result = await widgets.data("no_such_widget")
    assert (result.data, result.error) == (None, WIDGET_NOT_FOUND)


async def test_season_widgets_equal_the_csv(
    widgets: WidgetService, replay_now: Callable[[datetime], None], fixtures_csv: Csv
) -> None:
    replay_now(NOW)
    standings = fixtures_csv.driver_standings(NOW.year)
    teams = fixtures_csv.constructor_standings(NOW.year)

    drivers = (await widgets.data("driver_standings")).data
    assert isinstance(drivers, DriverStandingsWidget)
    assert drivers.season == NOW.year
    assert [s.driver.driver_id for s in drivers.standings] == [s.ref for s in standings[:10]]
    assert drivers.total == len(standings)

    constructors = (await widgets.data("constructor_standings")).data
    assert isinstance(constructors, ConstructorStandingsWidget)
    assert [s.constructor.constructor_id for s in constructors.standings] == [
        s.ref for s in teams[:10]
    ]
    assert constructors.total == len(teams)

    leader = (await widgets.data("championship_leader")).data
    assert isinstance(leader, LeaderWidget)
    assert (leader.season, leader.standing.driver.driver_id, leader.standing.points) == (
        NOW.year,
        standings[0].ref,
        standings[0].points,
    )

    calendar = (await widgets.data("race_calendar")).data
    assert isinstance(calendar, CalendarWidget)
    assert [r.round for r in calendar.races] == [
        int(r["round"]) for r in fixtures_csv.rounds(NOW.year)
    ]
    assert calendar.total == len(calendar.races)

    upcoming = (await widgets.data("next_race")).data
    assert isinstance(upcoming, Race)
    assert (upcoming.season, upcoming.round) == fixtures_csv.next_round(NOW)


async def test_last_race_and_its_fastest_lap(
    widgets: WidgetService, replay_now: Callable[[datetime], None], fixtures_csv: Csv
) -> None:
    replay_now(NOW)
    last_round = max(r.round for r in fixtures_csv.season_results(NOW.year))
    last = (await widgets.data("last_race_results")).data
    assert isinstance(last, LastRaceWidget)
    assert (last.race.season, last.race.round) == (NOW.year, last_round)
    assert [r.driver.driver_id for r in last.results.rows] == [
        r.driver for r in fixtures_csv.round_results(NOW.year, last_round)
    ]
    # The fixtures have no FastF1 data for that race: the widget still answers.
    fastest = await widgets.data("fastest_lap")
    assert fastest.error is None
    assert isinstance(fastest.data, FastestLapWidget)
    assert fastest.data.race.round == last_round
    assert fastest.data.fastest_lap is None


async def test_before_the_season_the_previous_one_shows(
    widgets: WidgetService, replay_now: Callable[[datetime], None], fixtures_csv: Csv
) -> None:
    replay_now(BEFORE_2026)
    previous = BEFORE_2026.year - 1
    assert not fixtures_csv.rounds(BEFORE_2026.year)
    leader = (await widgets.data("championship_leader")).data
    assert isinstance(leader, LeaderWidget)
    assert (leader.season, leader.standing.driver.driver_id) == (
        previous,
        fixtures_csv.driver_standings(previous)[0].ref,
    )
    calendar = (await widgets.data("race_calendar")).data
    assert isinstance(calendar, CalendarWidget)
    assert calendar.season == previous
    last = (await widgets.data("last_race_results")).data
    assert isinstance(last, LastRaceWidget)
    assert last.race.season == previous
    code = fixtures_csv.driver_standings(previous)[0].code
    assert code is not None
    favourite = await widgets.data("favorite_driver", _user_with(driver=code))
    assert isinstance(favourite.data, DriverProfile)
    assert favourite.data.current_season.season == previous


async def test_favourite_driver_by_code_or_id(
    widgets: WidgetService, replay_now: Callable[[datetime], None], fixtures_csv: Csv
) -> None:
    replay_now(NOW)
    standing = fixtures_csv.driver_standings(NOW.year)[2]
    assert standing.code is not None
    for stored in (standing.code.lower(), standing.code, standing.ref, standing.ref.upper()):
        result = await widgets.data("favorite_driver", _user_with(driver=stored))
        assert isinstance(result.data, DriverProfile), stored
        assert result.data.driver.driver_id == standing.ref
        assert result.data.current_season.points == standing.points

    unknown = await widgets.data("favorite_driver", _user_with(driver="ZZZ"))
    assert unknown.data is None
    assert unknown.error == f"Driver ZZZ not found in {NOW.year} season"
    unset = await widgets.data("favorite_driver", _user_with())
    assert (unset.data, unset.message) == (None, "No favorite driver set")
    public = await widgets.data("favorite_driver", None)
    assert (public.data, public.message) == (None, "No favorite driver set")


async def test_favourite_team_by_the_frontends_names(
    widgets: WidgetService, replay_now: Callable[[datetime], None], fixtures_csv: Csv
) -> None:
    replay_now(NOW)
    teams = {s.ref for s in fixtures_csv.constructor_standings(NOW.year)}
    resolved = {}
    for name in FRONTEND_TEAM_NAMES:
        result = await widgets.data("favorite_team", _user_with(team=name))
        assert isinstance(result.data, TeamProfile), name
        resolved[name] = result.data.constructor
    # Every name finds a team of its own, sharing a word with it.
    assert {c.constructor_id for c in resolved.values()} == teams
    for name, team in resolved.items():
        words = set(re.findall(r"\w+", name.lower())) - {"f1", "team", "racing"}
        assert words & set(re.findall(r"\w+", team.name.lower())), (name, team.name)

    by_id = await widgets.data("favorite_team", _user_with(team=sorted(teams)[0].upper()))
    assert isinstance(by_id.data, TeamProfile)
    assert by_id.data.constructor.constructor_id == sorted(teams)[0]
    missing = await widgets.data("favorite_team", _user_with(team="Brabham"))
    assert missing.error == f"Team Brabham not found in {NOW.year} season"


async def test_recent_predictions_are_the_users_own(
    widgets: WidgetService,
    replay_f1: F1Service,
    database: Database,
    fixtures_csv: Csv,
) -> None:
    season, round_ = fixtures_csv.next_round(NOW)
    owner = await make_user(database)
    stranger = await make_user(database)
    picks = [Pick(s.ref, i) for i, s in enumerate(fixtures_csv.driver_standings(season)[:3], 1)]
    await PredictionService(database, replay_f1, clock=lambda: NOW).save(
        owner, season, round_, picks
    )
    mine = (await widgets.data("recent_predictions", _user_with(owner))).data
    assert isinstance(mine, RecentPredictionsWidget)
    assert [(p.prediction.season, p.prediction.round) for p in mine.predictions] == [
        (season, round_)
    ]
    theirs = (await widgets.data("recent_predictions", _user_with(stranger))).data
    assert isinstance(theirs, RecentPredictionsWidget)
    assert theirs.predictions == ()
    public = await widgets.data("recent_predictions", None)
    assert public.data is None and public.message


async def test_upstream_down_is_an_error_in_the_body(
    f1_factory: F1Factory, sessions_app: SessionsApp, database: Database, replay: Replay
) -> None:
    widgets = _widgets(await f1_factory(), sessions_app, database)
    with replay.fault(prefix="/ergast/", status=503):
        result = await widgets.data("championship_leader")
    assert result.data is None
    assert result.error
    assert "Traceback" not in result.error
