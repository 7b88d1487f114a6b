"""Championship data (Jolpica/Ergast) as the rest of the app speaks it.

Plain frozen dataclasses: numbers are numbers, dates are :class:`datetime.date`, moments
are timezone-aware UTC :class:`datetime.datetime`. Each object that comes from a Jolpica
object keeps that object, untouched, in ``raw`` (excluded from equality and ``repr``):
the REST shim answers with Jolpica's own shapes (Jolpica's field names, string values)
and must not rebuild them from the parsed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

#: A Jolpica JSON object exactly as received.
RawObject = Mapping[str, Any]

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Circuit:
    circuit_id: str
    name: str
    locality: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    url: str | None
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Driver:
    driver_id: str
    given_name: str
    family_name: str
    code: str | None
    permanent_number: int | None
    nationality: str | None
    date_of_birth: date | None
    url: str | None
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Constructor:
    constructor_id: str
    name: str
    nationality: str | None
    url: str | None
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ScheduledSession:
    """A session of the weekend other than the race itself.

    Jolpica publishes some sessions with a day and no time (practice and qualifying of
    2018 to 2021 as recorded: ``{"date": "2018-03-23"}``): those are sessions all the same, with
    ``starts_at`` None.
    """

    name: str
    """Jolpica's key for it: ``FirstPractice``, ``Qualifying``, ``SprintQualifying``..."""
    date: date
    starts_at: datetime | None
    """None when only the day is published."""


@dataclass(frozen=True, slots=True)
class Race:
    """A round of a season as the schedule gives it (results tables give it without sessions)."""

    season: int
    round: int
    name: str
    circuit: Circuit
    date: date
    starts_at: datetime | None
    url: str | None
    sessions: tuple[ScheduledSession, ...]
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A season's calendar; ``races`` is empty for a season Jolpica does not know."""

    season: int
    races: tuple[Race, ...]

    def race(self, round_: int) -> Race | None:
        return next((race for race in self.races if race.round == round_), None)

    @property
    def last_start(self) -> datetime | None:
        """When the last race of the season starts (None for an empty schedule)."""
        starts = [race.starts_at for race in self.races if race.starts_at is not None]
        return max(starts) if starts else None


@dataclass(frozen=True, slots=True)
class RaceResult:
    """An entry of a race or a sprint, classified or not.

    Jolpica sends two forms of the same facts, and this holds both as one:

    * ``status``, ``time`` and ``millis`` are as sent. Ergast's data (and Jolpica's for
      most seasons) says ``+1 Lap``, ``+2 Laps`` and gives a lapped car no time; Jolpica's
      own data (2023 on) says ``Lapped`` and gives it ``time`` = its race time minus the
      winner's (2024 British GP, Ricciardo a lap down: ``+9.937``), and ``Retired`` where
      Ergast named the cause.
    * ``grid`` is the starting slot. Ergast's data marks a pit-lane start with grid 0:
      that becomes ``grid`` None and ``pit_lane_start`` True. Jolpica's own data mostly
      gives a pit-lane starter the slot it was assigned at the back (2024 British GP:
      Pérez 20) and no mark, so there ``pit_lane_start`` is False. A grid 0 of a car that
      never started (positionText W or F) is no slot either: None, not a pit-lane start.
    """

    number: int | None
    position: int | None
    position_text: str
    points: float
    grid: int | None
    laps: int | None
    status: str
    time: str | None
    millis: int | None
    driver: Driver
    constructor: Constructor
    fastest_lap_rank: int | None
    fastest_lap_time: str | None
    pit_lane_start: bool = False
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class QualifyingResult:
    number: int | None
    position: int
    driver: Driver
    constructor: Constructor
    q1: str | None
    q2: str | None
    q3: str | None
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class JolpicaPitStop:
    """A pit stop as Jolpica lists it (``/{season}/{round}/pitstops``).

    ``lap`` is the lap on which the car came in; ``stop`` counts the driver's stops from
    1. ``time`` is Jolpica's time of day of the stop, local to the circuit, as sent
    (``"16:58:07"``). ``duration`` is Jolpica's duration in seconds (``"20.377"`` and,
    for long stops, ``"1:02.345"`` read as minutes); it is the time through the pit
    lane, entry to exit, not the time stationary.
    """

    driver_id: str
    stop: int
    lap: int
    time: str | None
    duration: float | None
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RaceRows(Generic[Row]):
    """One race of a results-like table with all its rows (merged across pages).

    ``raw`` is Jolpica's Race object holding the complete row list (``Results``,
    ``QualifyingResults`` or ``SprintResults``).
    """

    race: Race
    rows: tuple[Row, ...]
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SeasonTable(Generic[Row]):
    """A season-wide results-like table, one :class:`RaceRows` per round that has rows."""

    season: int
    races: tuple[RaceRows[Row], ...]

    def for_round(self, round_: int) -> RaceRows[Row] | None:
        return next((entry for entry in self.races if entry.race.round == round_), None)


@dataclass(frozen=True, slots=True)
class DriverStanding:
    """A driver's place in the championship.

    ``position_text`` is Jolpica's: the position as digits, or ``D`` (disqualified from the
    championship: Schumacher 1997), ``E`` (excluded: McLaren's constructors' points 2007)
    or ``-`` (not ranked: 2025 drivers without a classified finish after round 1).
    ``position`` is None whenever ``position_text`` is not a number, although Jolpica
    still sends a ``position`` for D and E entries (Schumacher: 26).
    """

    position: int | None
    position_text: str
    points: float
    wins: int
    driver: Driver
    constructors: tuple[Constructor, ...]
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConstructorStanding:
    """A constructor's place in the championship; positions as in :class:`DriverStanding`."""

    position: int | None
    position_text: str
    points: float
    wins: int
    constructor: Constructor
    raw: RawObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Standings(Generic[Row]):
    """The championship after ``round`` of ``season``.

    ``round`` is None (and ``entries`` empty) when the season has no standings yet, or
    the requested round does not exist.
    """

    season: int
    round: int | None
    entries: tuple[Row, ...]


RaceResults = SeasonTable[RaceResult]
QualifyingResults = SeasonTable[QualifyingResult]
DriverStandings = Standings[DriverStanding]
ConstructorStandings = Standings[ConstructorStanding]
