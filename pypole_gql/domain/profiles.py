"""A driver's and a team's season profile, and what counts as a podium or a retirement.

Built from Jolpica's season-wide tables (standings and Grand Prix results; sprints are
not races here) by :class:`~pypole_gql.services.profiles.ProfileService`.

Definitions, the same everywhere a profile is shown:

* **classified**: Jolpica's ``positionText`` is a number. A lapped finisher ("+1 Lap",
  "Lapped") is classified, and so is a driver who retired after covering enough of the
  distance (status "Accident", position 17).
* **DNF**: ``positionText`` ``R`` (retired) or ``N`` (not classified). A disqualified or
  excluded driver (``D``, ``E``) did not *fail to finish*, and one who withdrew or did not
  qualify (``W``, ``F``) never started: neither is a DNF.
* **podium**: classified in the first three.
* **fastest lap**: the driver set the race's fastest lap (Jolpica's FastestLap rank 1);
  Jolpica gives every finisher a FastestLap object, so its presence means nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pypole_gql.domain.f1 import (
    Constructor,
    Driver,
    DriverStanding,
    Race,
    RaceResult,
    SeasonTable,
)

#: Jolpica ``positionText`` of a driver who started and did not reach the end classified.
DNF_POSITION_TEXTS: Final = frozenset({"R", "N"})


def is_classified(result: RaceResult) -> bool:
    return result.position_text.isdigit()


def is_dnf(result: RaceResult) -> bool:
    return result.position_text in DNF_POSITION_TEXTS


def is_podium(result: RaceResult) -> bool:
    return is_classified(result) and result.position is not None and result.position <= 3


def set_fastest_lap(result: RaceResult) -> bool:
    return result.fastest_lap_rank == 1


def current_team(standing: DriverStanding) -> Constructor | None:
    """The team the driver raced for last (Jolpica lists a season's teams in order)."""
    return standing.constructors[-1] if standing.constructors else None


@dataclass(frozen=True, slots=True)
class DriverSummary:
    """A driver's line in a season's drivers list (the championship order)."""

    driver: Driver
    team: Constructor | None
    """The team of the driver's latest race of the season."""
    position: int | None
    points: float
    wins: int


@dataclass(frozen=True, slots=True)
class TeamSummary:
    constructor: Constructor
    position: int | None
    points: float
    wins: int


@dataclass(frozen=True, slots=True)
class DriverRaceResult:
    """One Grand Prix of the driver's season."""

    race: Race
    result: RaceResult
    """The full row (Jolpica's object in ``result.raw``)."""
    classified: bool
    dnf: bool
    podium: bool
    fastest_lap: bool
    """The driver set the race's fastest lap (rank 1)."""

    @property
    def round(self) -> int:
        return self.race.round


@dataclass(frozen=True, slots=True)
class DriverSeason:
    """The driver's season: championship standing and counts over the season's races."""

    season: int
    position: int | None
    points: float
    """Championship points (sprints included)."""
    wins: int
    team: Constructor | None
    teams: tuple[Constructor, ...]
    """Every team of the season, in order; ``team`` is the last."""
    races_entered: int
    """Grand Prix result rows (every start, and entries that did not start)."""
    podiums: int
    dnfs: int
    fastest_laps: int
    finished: bool
    """The season is over (its standings are final)."""


@dataclass(frozen=True, slots=True)
class CareerSeason:
    year: int
    position: int | None
    points: float
    wins: int
    team: Constructor | None
    races: int
    podiums: int
    champion: bool
    """Won the title: first in the final standings of a season that is over."""


@dataclass(frozen=True, slots=True)
class Career:
    """The driver's seasons among ``first_season .. last_season`` (seasons without a
    standing are absent), and their totals."""

    first_season: int
    last_season: int
    total_races: int
    total_wins: int
    total_podiums: int
    total_points: float
    championships: int
    seasons: tuple[CareerSeason, ...]


@dataclass(frozen=True, slots=True)
class DriverProfile:
    driver: Driver
    current_season: DriverSeason
    race_results: tuple[DriverRaceResult, ...]
    career: Career


@dataclass(frozen=True, slots=True)
class TeamDriver:
    """A driver who raced for the team in the season, with the driver's championship line."""

    driver: Driver
    position: int | None
    points: float
    wins: int
    races_for_team: int


@dataclass(frozen=True, slots=True)
class TeamSeason:
    season: int
    position: int | None
    points: float
    """Championship points (sprints included)."""
    wins: int
    drivers: tuple[TeamDriver, ...]
    """In championship order."""
    races: int
    """Grand Prix in which the team had a result row."""
    podiums: int
    dnfs: int
    finished: bool


@dataclass(frozen=True, slots=True)
class TeamRaceRow:
    driver: Driver
    result: RaceResult
    classified: bool
    dnf: bool
    podium: bool


@dataclass(frozen=True, slots=True)
class TeamRace:
    race: Race
    results: tuple[TeamRaceRow, ...]
    """The team's rows in finishing order."""
    total_points: float

    @property
    def round(self) -> int:
        return self.race.round


@dataclass(frozen=True, slots=True)
class TeamProfile:
    constructor: Constructor
    current_season: TeamSeason
    race_results: tuple[TeamRace, ...]


# -- building from the season's tables ----------------------------------------------------


def driver_races(results: SeasonTable[RaceResult], driver_id: str) -> tuple[DriverRaceResult, ...]:
    """The driver's Grand Prix of the table, by round (rounds without the driver skipped)."""
    found = []
    for entry in results.races:
        row = next((r for r in entry.rows if r.driver.driver_id == driver_id), None)
        if row is not None:
            found.append(
                DriverRaceResult(
                    race=entry.race,
                    result=row,
                    classified=is_classified(row),
                    dnf=is_dnf(row),
                    podium=is_podium(row),
                    fastest_lap=set_fastest_lap(row),
                )
            )
    found.sort(key=lambda r: r.round)
    return tuple(found)


def driver_season(
    standing: DriverStanding, races: Iterable[DriverRaceResult], *, season: int, finished: bool
) -> DriverSeason:
    rows = list(races)
    return DriverSeason(
        season=season,
        position=standing.position,
        points=standing.points,
        wins=standing.wins,
        team=current_team(standing),
        teams=standing.constructors,
        races_entered=len(rows),
        podiums=sum(r.podium for r in rows),
        dnfs=sum(r.dnf for r in rows),
        fastest_laps=sum(r.fastest_lap for r in rows),
        finished=finished,
    )


def career_season(
    standing: DriverStanding, races: Iterable[DriverRaceResult], *, year: int, finished: bool
) -> CareerSeason:
    rows = list(races)
    return CareerSeason(
        year=year,
        position=standing.position,
        points=standing.points,
        wins=standing.wins,
        team=current_team(standing),
        races=len(rows),
        podiums=sum(r.podium for r in rows),
        champion=finished and standing.position == 1,
    )


def career(first_season: int, last_season: int, seasons: Iterable[CareerSeason]) -> Career:
    ordered = tuple(sorted(seasons, key=lambda s: s.year))
    return Career(
        first_season=first_season,
        last_season=last_season,
        total_races=sum(s.races for s in ordered),
        total_wins=sum(s.wins for s in ordered),
        total_podiums=sum(s.podiums for s in ordered),
        total_points=sum(s.points for s in ordered),
        championships=sum(s.champion for s in ordered),
        seasons=ordered,
    )


def team_races(results: SeasonTable[RaceResult], constructor_id: str) -> tuple[TeamRace, ...]:
    """The team's rows of every round it took part in, by round."""
    found = []
    for entry in results.races:
        rows = [r for r in entry.rows if r.constructor.constructor_id == constructor_id]
        if not rows:
            continue
        rows.sort(key=lambda r: (r.position is None, r.position or 0))
        found.append(
            TeamRace(
                race=entry.race,
                results=tuple(
                    TeamRaceRow(
                        driver=r.driver,
                        result=r,
                        classified=is_classified(r),
                        dnf=is_dnf(r),
                        podium=is_podium(r),
                    )
                    for r in rows
                ),
                total_points=sum(r.points for r in rows),
            )
        )
    found.sort(key=lambda r: r.round)
    return tuple(found)


def team_drivers(
    races: Iterable[TeamRace], standings: Iterable[DriverStanding]
) -> tuple[TeamDriver, ...]:
    """Everyone who raced for the team, with their championship line, in championship order."""
    starts: dict[str, tuple[Driver, int]] = {}
    for race in races:
        for row in race.results:
            driver, count = starts.get(row.driver.driver_id, (row.driver, 0))
            starts[row.driver.driver_id] = (driver, count + 1)
    by_id = {s.driver.driver_id: s for s in standings}
    drivers = []
    for driver_id, (driver, count) in starts.items():
        standing = by_id.get(driver_id)
        drivers.append(
            TeamDriver(
                driver=standing.driver if standing is not None else driver,
                position=None if standing is None else standing.position,
                points=0.0 if standing is None else standing.points,
                wins=0 if standing is None else standing.wins,
                races_for_team=count,
            )
        )
    drivers.sort(key=lambda d: (d.position is None, d.position or 0, d.driver.driver_id))
    return tuple(drivers)
