"""Response bodies of the ``/api/v1/fastf1`` routes answering a session's records and lap
analysis (results, weather, race control, track status, pit stops, positions, the track
map, comparisons, the lap-by-lap replay). Rows are typed dicts (:data:`~.schemas.Rows`),
and each tabular body says which columns its CSV has (:data:`COLUMNS`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Self, cast

from pydantic import Field, with_config
from typing_extensions import TypedDict

from pypole_gql.domain import sessions
from pypole_gql.rest.schemas import _CLOSED, AskedSession, Rows, _Body, _SessionEnvelope


@with_config(_CLOSED)
class ResultRow(TypedDict):
    """One row of FastF1's ``Session.results``."""

    driver: Annotated[str, Field(examples=["VET"])]
    driver_number: str
    broadcast_name: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    driver_id: Annotated[str | None, Field(description="Jolpica's driverId")]
    country_code: str | None
    headshot_url: str | None
    team_name: str | None
    team_id: Annotated[str | None, Field(description="Jolpica's constructorId")]
    team_color: Annotated[str | None, Field(description="RRGGBB hex, without #")]
    position: int | None
    classified_position: Annotated[
        str | None, Field(description="A number, or R, D, E, W, F, N (FastF1's letters)")
    ]
    grid_position: int | None
    q1: Annotated[float | None, Field(description="Seconds")]
    q2: Annotated[float | None, Field(description="Seconds")]
    q3: Annotated[float | None, Field(description="Seconds")]
    time: Annotated[
        float | None,
        Field(description="Seconds: the winner's race time, the others' gap to the winner"),
    ]
    status: str | None
    points: float | None
    laps: int | None


@with_config(_CLOSED)
class WeatherRow(TypedDict):
    """One row of FastF1's ``Session.weather_data`` (one a minute)."""

    time: Annotated[float | None, Field(description="Session time, seconds")]
    air_temperature: Annotated[float | None, Field(description="°C")]
    track_temperature: Annotated[float | None, Field(description="°C")]
    humidity: Annotated[float | None, Field(description="%")]
    pressure: Annotated[float | None, Field(description="mbar")]
    rainfall: bool | None
    wind_speed: Annotated[float | None, Field(description="m/s")]
    wind_direction: Annotated[int | None, Field(description="Degrees, 0-359")]


@with_config(_CLOSED)
class RaceControlRow(TypedDict):
    """One row of FastF1's ``Session.race_control_messages``."""

    time: Annotated[datetime, Field(description="When it was sent (UTC)")]
    session_time: Annotated[
        float | None, Field(description="The same moment as a session time, seconds")
    ]
    lap: int | None
    category: Annotated[str | None, Field(examples=["Flag"])]
    message: str
    status: str | None
    flag: Annotated[str | None, Field(examples=["YELLOW"])]
    scope: str | None
    sector: int | None
    driver_number: str | None
    driver: str | None


@with_config(_CLOSED)
class TrackStatusRow(TypedDict):
    """One change of the track's status (FastF1's ``Session.track_status``)."""

    time: Annotated[float | None, Field(description="Session time, seconds")]
    status: Annotated[str, Field(description="1 green, 2 yellow, 4 SC, 5 red, 6 VSC, 7 VSC ending")]
    message: Annotated[str | None, Field(examples=["SCDeployed"])]


@with_config(_CLOSED)
class PitStopRow(TypedDict):
    """One visit to the pit lane, from FastF1's laps."""

    driver: str
    driver_number: str
    lap: Annotated[int, Field(description="The in-lap")]
    pit_in_time: Annotated[float, Field(description="Session time, seconds")]
    pit_out_time: Annotated[float | None, Field(description="Session time, seconds")]
    pit_lane_time: Annotated[float | None, Field(description="Pit-out minus pit-in, seconds")]
    compound_before: str | None
    compound_after: str | None
    fresh_tyre_after: bool | None
    jolpica_duration: Annotated[
        float | None, Field(description="Jolpica's duration of the stop (races), seconds")
    ]


@with_config(_CLOSED)
class PositionRow(TypedDict):
    """A driver on completing a lap."""

    driver: str
    driver_number: str
    lap: int
    position: int | None
    time: Annotated[float | None, Field(description="Session time of the lap's end, seconds")]
    gap_to_leader: Annotated[
        float | None, Field(description="Seconds after the first car to complete this lap")
    ]
    interval: Annotated[
        float | None, Field(description="Seconds after the car that completed it just before")
    ]


def _rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(item) for item in items]


def _renamed(rows: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    """The rows with field ``old`` called ``new``, in the same place."""
    return [{(new if k == old else k): v for k, v in row.items()} for row in rows]


def result_rows(items: Iterable[sessions.SessionResult]) -> list[ResultRow]:
    return cast(list[ResultRow], _rows(items))


def weather_rows(items: Iterable[sessions.WeatherSample]) -> list[WeatherRow]:
    return cast(list[WeatherRow], _rows(items))


def race_control_rows(items: Iterable[sessions.RaceControlMessage]) -> list[RaceControlRow]:
    return cast(list[RaceControlRow], _rows(items))


def track_status_rows(items: Iterable[sessions.TrackStatusChange]) -> list[TrackStatusRow]:
    return cast(list[TrackStatusRow], _rows(items))


def pit_stop_rows(items: Iterable[sessions.PitStop]) -> list[PitStopRow]:
    return cast(list[PitStopRow], _renamed(_rows(items), "lap_number", "lap"))


def position_rows(items: Iterable[sessions.LapPosition]) -> list[PositionRow]:
    return cast(list[PositionRow], _renamed(_rows(items), "lap_number", "lap"))


def columns(row_type: type[Any]) -> tuple[str, ...]:
    """A row type's fields, in order: its CSV's header."""
    return tuple(row_type.__annotations__)


class ResultsBody(_SessionEnvelope):
    results: Rows[ResultRow] = Field(description="In FastF1's order (finishing order)")


class WeatherBody(_SessionEnvelope):
    weather: Rows[WeatherRow] = Field(description="In time order; empty when none was sent")


class RaceControlBody(_SessionEnvelope):
    messages: Rows[RaceControlRow] = Field(description="In time order")


class TrackStatusBody(_SessionEnvelope):
    track_status: Rows[TrackStatusRow] = Field(description="In time order")


class SessionPitStopsBody(_SessionEnvelope):
    pit_stops: Rows[PitStopRow] = Field(description="In order of pit-in")


class PositionsBody(_SessionEnvelope):
    positions: Rows[PositionRow] = Field(description="One per lap, in FastF1's lap order")


# -- track map ------------------------------------------------------------------------------


@with_config(_CLOSED)
class TrackPointRow(TypedDict):
    """One position sample of the lap (the CSV's rows)."""

    time: float
    x: float
    y: float
    z: float


class TrackMapBody(_SessionEnvelope):
    """One lap's position samples: ``points`` as the older web frontend draws them, and the
    same samples columnar (``time``, ``x``, ``y``, ``z``)."""

    driver: str
    lap_number: int
    lap_time: float | None = Field(description="Seconds")
    sample_count: int
    source_sample_count: int = Field(description="Samples in the lap before downsampling")
    points: Rows[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        description="`[x, y]` of each sample (FastF1's X, Y in 1/10 m, the same axes as "
        "the `x`/`y` of `lap-positions`)"
    )
    time: Rows[float] = Field(description="Seconds since the lap's start")
    x: Rows[float] = Field(description="FastF1's X, 1/10 m")
    y: Rows[float] = Field(description="FastF1's Y, 1/10 m")
    z: Rows[float] = Field(description="FastF1's Z, 1/10 m")

    @classmethod
    def of_map(cls, asked: AskedSession, found: sessions.TrackMap, lap: sessions.Lap) -> Self:
        x, y = found.x.tolist(), found.y.tolist()
        return cls.of(
            asked,
            driver=found.driver,
            lap_number=found.lap_number,
            lap_time=lap.lap_time,
            sample_count=found.sample_count,
            source_sample_count=found.source_sample_count,
            points=[[a, b] for a, b in zip(x, y, strict=True)],
            time=found.time.tolist(),
            x=x,
            y=y,
            z=found.z.tolist(),
        )


def track_point_rows(found: sessions.TrackMap) -> list[TrackPointRow]:
    time, x, y, z = found.time.tolist(), found.x.tolist(), found.y.tolist(), found.z.tolist()
    cols = zip(time, x, y, z, strict=True)
    return [TrackPointRow(time=t, x=a, y=b, z=c) for t, a, b, c in cols]


# -- compare --------------------------------------------------------------------------------


class ComparedLapBody(_Body):
    driver: str
    lap_number: int
    lap_time: float | None = Field(description="Seconds")
    speed: list[float] = Field(description="km/h at each distance")
    throttle: list[float] = Field(description="Percent")
    brake: list[bool]
    gear: list[int]
    delta: list[float] = Field(
        description="Seconds behind the reference (the first lap) at each distance, as "
        "FastF1's `utils.delta_time`; negative: ahead"
    )


class CompareBody(_SessionEnvelope):
    """Laps on the first lap's distance axis."""

    sample_count: int
    distance: Rows[float] = Field(description="Metres from the reference lap's start")
    laps: list[ComparedLapBody] = Field(
        description="In the order asked; the first is the reference"
    )

    @classmethod
    def of_comparison(cls, asked: AskedSession, found: sessions.LapComparison) -> Self:
        return cls.of(
            asked,
            sample_count=found.sample_count,
            distance=found.distance.tolist(),
            laps=[
                ComparedLapBody.model_construct(
                    driver=lap.driver,
                    lap_number=lap.lap_number,
                    lap_time=lap.lap_time,
                    speed=lap.speed.tolist(),
                    throttle=lap.throttle.tolist(),
                    brake=lap.brake.tolist(),
                    gear=lap.gear.tolist(),
                    delta=lap.delta.tolist(),
                )
                for lap in found.laps
            ],
        )


@with_config(_CLOSED)
class ComparedSampleRow(TypedDict):
    """One lap at one distance (the CSV's rows: every lap's samples, lap after lap)."""

    driver: str
    lap_number: int
    distance: float
    speed: float
    throttle: float
    brake: bool
    gear: int
    delta: float


def compared_sample_rows(found: sessions.LapComparison) -> list[ComparedSampleRow]:
    distance = found.distance.tolist()
    rows = []
    for lap in found.laps:
        cols = zip(
            distance,
            lap.speed.tolist(),
            lap.throttle.tolist(),
            lap.brake.tolist(),
            lap.gear.tolist(),
            lap.delta.tolist(),
            strict=True,
        )
        rows += [
            ComparedSampleRow(
                driver=lap.driver,
                lap_number=lap.lap_number,
                distance=d,
                speed=s,
                throttle=t,
                brake=b,
                gear=g,
                delta=dt,
            )
            for d, s, t, b, g, dt in cols
        ]
    return rows


# -- lap positions (the older web frontend's replay) ----------------------------------------


@with_config(_CLOSED)
class FrameDriver(TypedDict):
    x: Annotated[float | None, Field(description="FastF1's X at the lap's end, 1/10 m")]
    y: Annotated[float | None, Field(description="FastF1's Y at the lap's end, 1/10 m")]
    position: int | None
    compound: str | None
    lap_time_s: Annotated[float | None, Field(description="The lap's time, seconds")]


@with_config(_CLOSED)
class LapFrameBody(TypedDict):
    lap: int
    drivers: Annotated[
        dict[str, FrameDriver], Field(description="Every car that completed the lap, by code")
    ]


class ReplayDriverBody(_Body):
    code: str
    name: str
    team: str | None
    color: str | None = Field(description="The team's colour, `#RRGGBB`", examples=["#00D2BE"])


@with_config(_CLOSED)
class LapFrameRow(TypedDict):
    """One car at one lap's end (the CSV's rows)."""

    lap: int
    driver: str
    position: int | None
    compound: str | None
    lap_time_s: float | None
    x: float | None
    y: float | None


class LapPositionsBody(_SessionEnvelope):
    """The session lap by lap, as the older web frontend's replay reads it."""

    total_laps: int = Field(description="The last lap number completed")
    frames: Rows[LapFrameBody] = Field(description="One per lap number, in lap order")
    drivers: dict[str, ReplayDriverBody] = Field(description="The session's drivers, by code")

    @classmethod
    def of_frames(cls, asked: AskedSession, frames: Sequence[sessions.LapFrame]) -> Self:
        colours: Mapping[str, str | None] = {
            r.driver_number: r.team_color for r in asked.data.results
        }
        drivers = {
            d.code: ReplayDriverBody(
                code=d.code,
                name=d.full_name,
                team=d.team,
                color=None if not colours.get(d.number) else f"#{colours[d.number]}",
            )
            for d in asked.data.drivers
        }
        body = [
            LapFrameBody(
                lap=frame.lap_number,
                drivers={
                    car.driver: FrameDriver(
                        x=car.x,
                        y=car.y,
                        position=car.position,
                        compound=car.compound,
                        lap_time_s=car.lap_time,
                    )
                    for car in frame.cars
                },
            )
            for frame in frames
        ]
        last = frames[-1].lap_number if frames else 0
        return cls.of(asked, total_laps=last, frames=body, drivers=drivers)


def lap_frame_rows(frames: Sequence[sessions.LapFrame]) -> list[LapFrameRow]:
    return [
        LapFrameRow(
            lap=frame.lap_number,
            driver=car.driver,
            position=car.position,
            compound=car.compound,
            lap_time_s=car.lap_time,
            x=car.x,
            y=car.y,
        )
        for frame in frames
        for car in frame.cars
    ]


COLUMNS: Final = {
    "results": columns(ResultRow),
    "weather": columns(WeatherRow),
    "race-control": columns(RaceControlRow),
    "track-status": columns(TrackStatusRow),
    "pit-stops": columns(PitStopRow),
    "positions": columns(PositionRow),
    "track-map": columns(TrackPointRow),
    "compare": columns(ComparedSampleRow),
    "lap-positions": columns(LapFrameRow),
}
