"""Dashboard widgets: the catalogue, and what each widget's data is.

A widget's answer is a :class:`WidgetResult`: its ``data``, or ``None`` with a
``message`` (nothing to show: no favourite set, no standings yet) or an ``error`` (the
data could not be had: a favourite that is not in the season, upstream down). The older
frontend shows ``error`` as an error card and ``data`` as the widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pypole_gql.domain.f1 import ConstructorStanding, DriverStanding, Race, RaceResult, RaceRows
from pypole_gql.domain.predictions import StoredPrediction
from pypole_gql.domain.profiles import DriverProfile, TeamProfile
from pypole_gql.domain.sessions import Lap


class WidgetCategory(StrEnum):
    SCHEDULE = "schedule"
    STANDINGS = "standings"
    PERSONALIZED = "personalized"
    RESULTS = "results"
    STATS = "stats"
    PREDICTIONS = "predictions"


class WidgetSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class WidgetInfo:
    id: str
    name: str
    description: str
    category: WidgetCategory
    size: WidgetSize
    personal: bool
    """Shows the signed-in user's own data (favourites, predictions); the public variant
    answers it with a message."""


WIDGETS: Final = (
    WidgetInfo(
        "next_race",
        "Next Race",
        "The next race on the calendar and where it is held",
        WidgetCategory.SCHEDULE,
        WidgetSize.MEDIUM,
        personal=False,
    ),
    WidgetInfo(
        "driver_standings",
        "Driver Standings",
        "The top ten of the drivers' championship",
        WidgetCategory.STANDINGS,
        WidgetSize.LARGE,
        personal=False,
    ),
    WidgetInfo(
        "constructor_standings",
        "Constructor Standings",
        "The top ten of the constructors' championship",
        WidgetCategory.STANDINGS,
        WidgetSize.LARGE,
        personal=False,
    ),
    WidgetInfo(
        "favorite_driver",
        "Favorite Driver",
        "Your favourite driver's season",
        WidgetCategory.PERSONALIZED,
        WidgetSize.MEDIUM,
        personal=True,
    ),
    WidgetInfo(
        "favorite_team",
        "Favorite Team",
        "Your favourite team's season",
        WidgetCategory.PERSONALIZED,
        WidgetSize.MEDIUM,
        personal=True,
    ),
    WidgetInfo(
        "race_calendar",
        "Race Calendar",
        "Every race of the season",
        WidgetCategory.SCHEDULE,
        WidgetSize.LARGE,
        personal=False,
    ),
    WidgetInfo(
        "last_race_results",
        "Last Race Results",
        "The classification of the latest race",
        WidgetCategory.RESULTS,
        WidgetSize.MEDIUM,
        personal=False,
    ),
    WidgetInfo(
        "fastest_lap",
        "Fastest Lap",
        "The fastest lap of the latest race",
        WidgetCategory.STATS,
        WidgetSize.SMALL,
        personal=False,
    ),
    WidgetInfo(
        "championship_leader",
        "Championship Leader",
        "Who leads the drivers' championship",
        WidgetCategory.STATS,
        WidgetSize.SMALL,
        personal=False,
    ),
    WidgetInfo(
        "recent_predictions",
        "Recent Predictions",
        "Your latest race predictions and their scores",
        WidgetCategory.PREDICTIONS,
        WidgetSize.MEDIUM,
        personal=True,
    ),
)
WIDGET_IDS: Final = frozenset(w.id for w in WIDGETS)


@dataclass(frozen=True, slots=True)
class DriverStandingsWidget:
    season: int
    standings: tuple[DriverStanding, ...]
    """The first ten."""
    total: int
    """Drivers in the whole table."""


@dataclass(frozen=True, slots=True)
class ConstructorStandingsWidget:
    season: int
    standings: tuple[ConstructorStanding, ...]
    total: int


@dataclass(frozen=True, slots=True)
class CalendarWidget:
    season: int
    races: tuple[Race, ...]
    total: int


@dataclass(frozen=True, slots=True)
class LastRaceWidget:
    race: Race
    results: RaceRows[RaceResult]


@dataclass(frozen=True, slots=True)
class FastestLapWidget:
    race: Race
    fastest_lap: Lap | None
    """``None`` when the race has no timing data (before 2018, or not loadable)."""


@dataclass(frozen=True, slots=True)
class LeaderWidget:
    season: int
    standing: DriverStanding


@dataclass(frozen=True, slots=True)
class RecentPredictionsWidget:
    predictions: tuple[StoredPrediction, ...]
    """Latest race first."""


WidgetData = (
    Race
    | DriverStandingsWidget
    | ConstructorStandingsWidget
    | CalendarWidget
    | LastRaceWidget
    | FastestLapWidget
    | LeaderWidget
    | DriverProfile
    | TeamProfile
    | RecentPredictionsWidget
)


@dataclass(frozen=True, slots=True)
class WidgetResult:
    widget_id: str
    data: WidgetData | None
    message: str | None = None
    error: str | None = None
