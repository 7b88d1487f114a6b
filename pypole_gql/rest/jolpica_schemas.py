"""The response bodies of the ``/api/v1/jolpica`` routes: Jolpica's objects as Jolpica
sends them (its field names, every value a string), in this server's envelopes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pypole_gql.rest.schemas import _Body


class _Jolpica(BaseModel):
    # Jolpica's objects, passed through as Jolpica gives them: its field names, every value a
    # string. Only the usual fields are listed; whatever else Jolpica sends is kept.
    model_config = ConfigDict(extra="allow", frozen=True)


class JolpicaLocation(_Jolpica):
    lat: str | None = None
    long: str | None = None
    locality: str | None = None
    country: str | None = None


class JolpicaCircuit(_Jolpica):
    circuitId: str
    url: str | None = None
    circuitName: str
    Location: JolpicaLocation | None = None


class JolpicaDriver(_Jolpica):
    driverId: str
    permanentNumber: str | None = None
    code: str | None = None
    url: str | None = None
    givenName: str
    familyName: str
    dateOfBirth: str | None = None
    nationality: str | None = None


class JolpicaConstructor(_Jolpica):
    constructorId: str
    url: str | None = None
    name: str
    nationality: str | None = None


class JolpicaSessionTime(_Jolpica):
    date: str
    time: str | None = Field(
        default=None,
        description="Absent when Jolpica publishes only the day (practice and qualifying of "
        "2018 to 2021)",
    )


class JolpicaTime(_Jolpica):
    millis: str | None = None
    time: str


class JolpicaFastestLap(_Jolpica):
    rank: str | None = None
    lap: str | None = None
    Time: JolpicaTime | None = None


class JolpicaResult(_Jolpica):
    """A race (or sprint) classification row."""

    number: str | None = None
    position: str
    positionText: str
    points: str
    Driver: JolpicaDriver
    Constructor: JolpicaConstructor
    grid: str | None = Field(
        default=None,
        description='As Jolpica sends it: "0" for a pit-lane start in Ergast\'s data; in '
        "Jolpica's own data (2023 on) mostly the slot the car was assigned at the back "
        '(2024 British GP: Pérez "20"). GraphQL turns the first into `pitLaneStart`',
    )
    laps: str | None = None
    status: str | None = Field(
        default=None,
        description='"+1 Lap", "+2 Laps" and the cause of a retirement in Ergast\'s data; '
        '"Lapped" and "Retired" in Jolpica\'s own (2023 on)',
    )
    Time: JolpicaTime | None = Field(
        default=None,
        description="The winner's time and the others' difference to it; for lapped cars "
        "only in Jolpica's own data (their race time minus the winner's)",
    )
    FastestLap: JolpicaFastestLap | None = None


class JolpicaQualifyingResult(_Jolpica):
    number: str | None = None
    position: str
    Driver: JolpicaDriver
    Constructor: JolpicaConstructor
    Q1: str | None = None
    Q2: str | None = None
    Q3: str | None = None


class JolpicaRace(_Jolpica):
    """A race weekend as Jolpica gives it; with its ``Results`` or ``QualifyingResults``
    on the results and qualifying routes."""

    season: str
    round: str
    url: str | None = None
    raceName: str
    Circuit: JolpicaCircuit
    date: str
    time: str | None = None
    FirstPractice: JolpicaSessionTime | None = None
    SecondPractice: JolpicaSessionTime | None = None
    ThirdPractice: JolpicaSessionTime | None = None
    Qualifying: JolpicaSessionTime | None = None
    Sprint: JolpicaSessionTime | None = None
    SprintQualifying: JolpicaSessionTime | None = None
    SprintShootout: JolpicaSessionTime | None = None
    Results: list[JolpicaResult] | None = None
    QualifyingResults: list[JolpicaQualifyingResult] | None = None


_STANDING_POSITION = (
    'Sent for disqualified and excluded entries too (Schumacher 1997: "26"), absent for '
    "one not ranked; only a numeric `positionText` ranks"
)
_STANDING_POSITION_TEXT = 'The position, or "D" (disqualified), "E" (excluded), "-" (not ranked)'


class JolpicaDriverStanding(_Jolpica):
    position: str | None = Field(default=None, description=_STANDING_POSITION)
    positionText: str = Field(description=_STANDING_POSITION_TEXT)
    points: str
    wins: str
    Driver: JolpicaDriver
    Constructors: list[JolpicaConstructor]


class JolpicaConstructorStanding(_Jolpica):
    position: str | None = Field(default=None, description=_STANDING_POSITION)
    positionText: str = Field(description=_STANDING_POSITION_TEXT)
    points: str
    wins: str
    Constructor: JolpicaConstructor


class ScheduleBody(_Body):
    season: int
    races: list[JolpicaRace] = Field(description="Every race of the season, in round order")


class NextRaceBody(_Body):
    race: JolpicaRace | None
    message: str | None = Field(
        default=None, description='"No upcoming races found" when `race` is null'
    )


class DriverStandingsBody(_Body):
    season: int
    round: int | None = Field(description="The round the standings are after")
    standings: list[JolpicaDriverStanding]


class ConstructorStandingsBody(_Body):
    season: int
    round: int | None = Field(description="The round the standings are after")
    standings: list[JolpicaConstructorStanding]


class RaceResultsBody(_Body):
    season: int
    round: int
    race: JolpicaRace = Field(description="With its `Results` (or `QualifyingResults`)")
