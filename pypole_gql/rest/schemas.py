"""The response bodies of the ``/api/v1`` routes, as pydantic models.

They are the documentation of those bodies: :mod:`pypole_gql.rest.openapi` turns them into the
OpenAPI components, and the contract tests validate real responses against them, so a handler
that adds, drops or retypes a field fails a test until this module (and the committed
``openapi.json``) says so too. Request bodies and parameters are not here: the document takes
them from the very models the handlers validate input with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pypole_gql.domain.users import Theme

SessionTypeName = Literal["FP1", "FP2", "FP3", "Q", "SQ", "SS", "S", "R"]


class _Body(BaseModel):
    # Closed: a response field the model does not list is drift, caught by the contract tests.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Jolpica(BaseModel):
    # Jolpica's objects, passed through as Jolpica gives them: its field names, every value a
    # string. Only the usual fields are listed; whatever else Jolpica sends is kept.
    model_config = ConfigDict(extra="allow", frozen=True)


# -- errors ---------------------------------------------------------------------------------


class ErrorBody(_Body):
    """Every error but 422: a human-readable message."""

    detail: str = Field(examples=["Not found"])


class ValidationIssue(_Body):
    """One invalid input: where it is (``body``, ``query`` or ``path``, then the field)."""

    loc: list[str] = Field(examples=[["body", "email"]])
    msg: str = Field(examples=["Field required"])
    type: str = Field(examples=["missing"])


class ValidationErrorBody(_Body):
    """A 422: each offending field, named."""

    detail: list[ValidationIssue]


# -- auth -----------------------------------------------------------------------------------


class UserBody(_Body):
    """An account, as the older backend returned it."""

    id: int
    email: str
    username: str
    is_active: bool
    is_superuser: bool
    favorite_team: str | None
    favorite_driver: str | None
    theme: Theme
    created_at: datetime
    updated_at: datetime


class TokenBody(_Body):
    """The tokens of a login or refresh. The refresh token is spent by its next use."""

    access_token: str = Field(description="JWT for `Authorization: Bearer ...`")
    token_type: Literal["bearer"]
    refresh_token: str = Field(description="Opaque; exchanged once at `/auth/refresh`")
    expires_in: int = Field(description="Seconds until the access token expires")


class MessageBody(_Body):
    message: str = Field(examples=["Successfully logged out"])


# -- jolpica --------------------------------------------------------------------------------


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


# -- fastf1 ---------------------------------------------------------------------------------


class LapBody(_Body):
    """One lap of one driver. Times are seconds; ``lap_time`` is also given as ``m:ss.fff``."""

    driver: str = Field(description="Three-letter code", examples=["BOT"])
    lap_number: int
    lap_time: str | None = Field(examples=["1:45.149"])
    lap_time_seconds: float | None = Field(examples=[105.149])
    sector1_time: float | None
    sector2_time: float | None
    sector3_time: float | None
    compound: str | None = Field(
        description='Null when FastF1 has none (NaN, "nan" or "" for some lap-1 laps)',
        examples=["SOFT"],
    )
    tyre_life: int | None = Field(description="Laps on this set of tyres")
    stint: int | None
    is_personal_best: bool


class _SessionEnvelope(_Body):
    year: int
    race: str = Field(description="The race as asked: a round number or an event name")
    event_name: str = Field(examples=["Azerbaijan Grand Prix"])
    round: int
    session_type: SessionTypeName


class LapsBody(_SessionEnvelope):
    laps: list[LapBody]
    total_laps: int


class DriverLapsBody(LapsBody):
    driver: str = Field(description="Three-letter code of the driver asked for")


class TelemetrySample(_Body):
    distance: float = Field(description="Metres from the start of the lap")
    speed: float = Field(description="km/h")
    throttle: float = Field(description="Percent")
    brake: bool
    gear: int
    rpm: float
    drs: int = Field(description="FastF1's raw DRS channel value")


class TelemetryBody(_SessionEnvelope):
    driver: str
    lap_number: int
    lap_time: str | None
    lap_time_seconds: float | None
    compound: str | None
    sample_count: int
    telemetry: list[TelemetrySample] = Field(
        description="Car data of the lap, at full resolution unless `max_points` is given"
    )


class StintBody(_Body):
    driver: str
    stint: int
    compound: str | None
    start_lap: int
    end_lap: int
    num_laps: int
    avg_lap_time: float | None = Field(
        description="Seconds: the mean of every timed lap of the stint, in- and out-laps and "
        "safety-car laps included"
    )
    avg_pace_time: float | None = Field(
        description="Seconds: the mean of the stint's quick laps (FastF1's "
        "`pick_quicklaps()` over the session, under 107% of its fastest lap); null when none"
    )


class StintsBody(_SessionEnvelope):
    stints: list[StintBody]


class FastestLapBody(_SessionEnvelope):
    fastest_lap: LapBody | None = Field(
        description="As FastF1's `Laps.pick_fastest()` picks it; null when no lap qualifies"
    )
    message: str | None = Field(
        default=None, description='"No valid lap times found" when `fastest_lap` is null'
    )
