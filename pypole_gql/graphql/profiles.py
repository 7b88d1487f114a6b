"""A driver's and a team's season profile over GraphQL
(:class:`~pypole_gql.services.profiles.ProfileService`): the ``/profiles`` pages' data."""

from __future__ import annotations

from typing import Annotated

import strawberry

from pypole_gql.domain import profiles as domain
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.drivers import Driver
from pypole_gql.graphql.f1 import Constructor, Race, RaceResult
from pypole_gql.graphql.inputs import graphql_fields

YearArgument = Annotated[
    int | None,
    strawberry.argument(description="The season's year, from 1950; omitted: the current season."),
]


@strawberry.type(description="One Grand Prix of a driver's season (sprints are not races here).")
class ProfileRace:
    race: Race = strawberry.field(description="The race.")
    result: RaceResult = strawberry.field(description="The driver's result row.")
    classified: bool = strawberry.field(description="positionText is a number.")
    dnf: bool = strawberry.field(description="Retired (R) or not classified (N).")
    podium: bool = strawberry.field(description="Classified in the first three.")
    fastest_lap: bool = strawberry.field(description="Set the race's fastest lap (rank 1).")

    @classmethod
    def of(cls, r: domain.DriverRaceResult) -> ProfileRace:
        return cls(
            race=Race.of(r.race),
            result=RaceResult.of(r.result),
            classified=r.classified,
            dnf=r.dnf,
            podium=r.podium,
            fastest_lap=r.fastest_lap,
        )


@strawberry.type(description="A driver's season: championship standing and counts of its races.")
class DriverSeasonStats:
    year: int = strawberry.field(description="The season.")
    position: int | None = strawberry.field(description="Championship position.")
    points: float = strawberry.field(description="Championship points (sprints included).")
    wins: int = strawberry.field(description="Grand Prix wins.")
    team: Constructor | None = strawberry.field(description="The team of the latest race.")
    teams: list[Constructor] = strawberry.field(description="Every team of the season, in order.")
    races_entered: int = strawberry.field(description="Grand Prix result rows.")
    podiums: int = strawberry.field(description="Classified in the first three.")
    dnfs: int = strawberry.field(description="Retired or not classified.")
    fastest_laps: int = strawberry.field(description="Races with the race's fastest lap.")
    finished: bool = strawberry.field(description="The season is over (standings final).")

    @classmethod
    def of(cls, s: domain.DriverSeason) -> DriverSeasonStats:
        return cls(
            year=s.season,
            position=s.position,
            points=s.points,
            wins=s.wins,
            team=None if s.team is None else Constructor.of(s.team),
            teams=[Constructor.of(t) for t in s.teams],
            races_entered=s.races_entered,
            podiums=s.podiums,
            dnfs=s.dnfs,
            fastest_laps=s.fastest_laps,
            finished=s.finished,
        )


@strawberry.type(description="One season of a driver's career.")
class CareerSeason:
    year: int = strawberry.field(description="The season.")
    position: int | None = strawberry.field(description="Championship position.")
    points: float = strawberry.field(description="Championship points.")
    wins: int = strawberry.field(description="Grand Prix wins.")
    team: Constructor | None = strawberry.field(description="The season's last team.")
    races: int = strawberry.field(description="Grand Prix result rows.")
    podiums: int = strawberry.field(description="Podiums.")
    champion: bool = strawberry.field(description="Won the title of a season that is over.")


@strawberry.type(description="A driver's seasons in a window of years, and their totals.")
class Career:
    first_season: int = strawberry.field(description="First year of the window.")
    last_season: int = strawberry.field(description="Last year of the window (the profile's).")
    total_races: int = strawberry.field(description="Sum of the seasons' races.")
    total_wins: int = strawberry.field(description="Sum of the seasons' wins.")
    total_podiums: int = strawberry.field(description="Sum of the seasons' podiums.")
    total_points: float = strawberry.field(description="Sum of the seasons' points.")
    championships: int = strawberry.field(description="Titles won.")
    seasons: list[CareerSeason] = strawberry.field(
        description="The window's seasons with a standing, oldest first."
    )

    @classmethod
    def of(cls, c: domain.Career) -> Career:
        return cls(
            first_season=c.first_season,
            last_season=c.last_season,
            total_races=c.total_races,
            total_wins=c.total_wins,
            total_podiums=c.total_podiums,
            total_points=c.total_points,
            championships=c.championships,
            seasons=[
                CareerSeason(
                    year=s.year,
                    position=s.position,
                    points=s.points,
                    wins=s.wins,
                    team=None if s.team is None else Constructor.of(s.team),
                    races=s.races,
                    podiums=s.podiums,
                    champion=s.champion,
                )
                for s in c.seasons
            ],
        )


@strawberry.type(description="A driver's season profile: standing, races and recent career.")
class DriverProfile:
    driver: Driver = strawberry.field(description="The driver.")
    season: DriverSeasonStats = strawberry.field(description="The profile's season.")
    races: list[ProfileRace] = strawberry.field(description="The season's Grand Prix, by round.")
    career: Career = strawberry.field(description="The five seasons ending with this one.")

    @classmethod
    def of(cls, p: domain.DriverProfile) -> DriverProfile:
        return cls(
            driver=Driver.of(p.driver),
            season=DriverSeasonStats.of(p.current_season),
            races=[ProfileRace.of(r) for r in p.race_results],
            career=Career.of(p.career),
        )


@strawberry.type(description="A driver who raced for the team in the season.")
class TeamDriver:
    driver: Driver = strawberry.field(description="The driver.")
    position: int | None = strawberry.field(description="The driver's championship position.")
    points: float = strawberry.field(description="The driver's championship points.")
    wins: int = strawberry.field(description="The driver's wins.")
    races_for_team: int = strawberry.field(description="Grand Prix started for this team.")


@strawberry.type(description="A team's season: standing and counts over its race rows.")
class TeamSeasonStats:
    year: int = strawberry.field(description="The season.")
    position: int | None = strawberry.field(description="Constructors' championship position.")
    points: float = strawberry.field(description="Championship points (sprints included).")
    wins: int = strawberry.field(description="Grand Prix wins.")
    drivers: list[TeamDriver] = strawberry.field(description="In championship order.")
    races: int = strawberry.field(description="Grand Prix in which the team had a result.")
    podiums: int = strawberry.field(description="Podium rows.")
    dnfs: int = strawberry.field(description="Rows retired or not classified.")
    finished: bool = strawberry.field(description="The season is over.")


@strawberry.type(description="A team's rows of one Grand Prix.")
class TeamRace:
    race: Race = strawberry.field(description="The race.")
    results: list[RaceResult] = strawberry.field(description="The team's rows, finishing order.")
    total_points: float = strawberry.field(description="Sum of the rows' points.")


@strawberry.type(description="A team's season profile: standing, drivers and each race's rows.")
class TeamProfile:
    constructor: Constructor = strawberry.field(description="The team.")
    season: TeamSeasonStats = strawberry.field(description="The profile's season.")
    races: list[TeamRace] = strawberry.field(description="The season's Grand Prix, by round.")

    @classmethod
    def of(cls, p: domain.TeamProfile) -> TeamProfile:
        s = p.current_season
        return cls(
            constructor=Constructor.of(p.constructor),
            season=TeamSeasonStats(
                year=s.season,
                position=s.position,
                points=s.points,
                wins=s.wins,
                drivers=[
                    TeamDriver(
                        driver=Driver.of(d.driver),
                        position=d.position,
                        points=d.points,
                        wins=d.wins,
                        races_for_team=d.races_for_team,
                    )
                    for d in s.drivers
                ],
                races=s.races,
                podiums=s.podiums,
                dnfs=s.dnfs,
                finished=s.finished,
            ),
            races=[
                TeamRace(
                    race=Race.of(r.race),
                    results=[RaceResult.of(row.result) for row in r.results],
                    total_points=r.total_points,
                )
                for r in p.race_results
            ],
        )


@strawberry.type
class ProfileQuery:
    @strawberry.field(
        description="A driver's season profile; null when the driver is not in that "
        "season's standings."
    )
    async def driver_profile(
        self,
        info: Info,
        driver_id: Annotated[
            strawberry.ID, strawberry.argument(description="Jolpica's driver id, e.g. hamilton.")
        ],
        year: YearArgument = None,
    ) -> DriverProfile | None:
        with graphql_fields():
            found = await info.context.resources.profiles.driver(str(driver_id), year)
        return None if found is None else DriverProfile.of(found)

    @strawberry.field(
        description="A team's season profile; null when the team is not in that season's standings."
    )
    async def team_profile(
        self,
        info: Info,
        constructor_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Jolpica's constructor id, e.g. red_bull."),
        ],
        year: YearArgument = None,
    ) -> TeamProfile | None:
        with graphql_fields():
            found = await info.context.resources.profiles.team(str(constructor_id), year)
        return None if found is None else TeamProfile.of(found)
