"""GraphQL types of a session's records (FastF1 data): results, weather, race control,
track status, pit stops and lap-by-lap positions. Built from
:mod:`pypole_gql.domain.sessions` rows; :class:`~pypole_gql.graphql.sessions.RaceSession`
has the fields that answer them."""

from __future__ import annotations

import datetime as dt

import strawberry

from pypole_gql.domain import sessions as domain


@strawberry.type(
    description="One row of FastF1's Session.results: the timing data joined with "
    "Jolpica's classification."
)
class SessionResult:
    driver: str = strawberry.field(
        description="Three-letter driver code (the car number when FastF1 has no code)."
    )
    driver_number: str = strawberry.field(description="Car number in this session.")
    broadcast_name: str | None = strawberry.field(description='As on TV, e.g. "L HAMILTON".')
    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    full_name: str | None = strawberry.field(description="Full name.")
    driver_id: str | None = strawberry.field(
        description="Jolpica's driverId, when FastF1 could join it."
    )
    country_code: str | None = strawberry.field(description="Three-letter country code.")
    headshot_url: str | None = strawberry.field(description="URL of the driver's headshot.")
    team_name: str | None = strawberry.field(description="Team name in this session.")
    team_id: str | None = strawberry.field(description="Jolpica's constructorId.")
    team_color: str | None = strawberry.field(
        description="The team's colour as RRGGBB hex, without #."
    )
    position: int | None = strawberry.field(
        description="Finishing (or qualifying) position; null when not classified."
    )
    classified_position: str | None = strawberry.field(
        description="FastF1's ClassifiedPosition: a number, or R retired, D disqualified, "
        "E excluded, W withdrawn, F failed to qualify, N not classified."
    )
    grid_position: int | None = strawberry.field(
        description="Starting grid position (race-like sessions)."
    )
    q1: float | None = strawberry.field(description="Q1 time in seconds (qualifying-like).")
    q2: float | None = strawberry.field(description="Q2 time in seconds (qualifying-like).")
    q3: float | None = strawberry.field(description="Q3 time in seconds (qualifying-like).")
    time: float | None = strawberry.field(
        description="Seconds: the winner's total race time, every other finisher's gap to "
        "the winner; null for cars off the lead lap and in other sessions."
    )
    status: str | None = strawberry.field(description='E.g. "Finished", "+1 Lap", "Engine".')
    points: float | None = strawberry.field(description="Points scored.")
    laps: int | None = strawberry.field(description="Laps completed.")

    @classmethod
    def of(cls, r: domain.SessionResult) -> SessionResult:
        return cls(
            driver=r.driver,
            driver_number=r.driver_number,
            broadcast_name=r.broadcast_name,
            first_name=r.first_name,
            last_name=r.last_name,
            full_name=r.full_name,
            driver_id=r.driver_id,
            country_code=r.country_code,
            headshot_url=r.headshot_url,
            team_name=r.team_name,
            team_id=r.team_id,
            team_color=r.team_color,
            position=r.position,
            classified_position=r.classified_position,
            grid_position=r.grid_position,
            q1=r.q1,
            q2=r.q2,
            q3=r.q3,
            time=r.time,
            status=r.status,
            points=r.points,
            laps=r.laps,
        )


@strawberry.type(
    description="One row of FastF1's Session.weather_data (the archive sends one a minute)."
)
class WeatherSample:
    time: float | None = strawberry.field(description="Session time in seconds.")
    air_temperature: float | None = strawberry.field(description="Air temperature, °C.")
    track_temperature: float | None = strawberry.field(description="Track temperature, °C.")
    humidity: float | None = strawberry.field(description="Relative humidity, %.")
    pressure: float | None = strawberry.field(description="Air pressure, mbar.")
    rainfall: bool | None = strawberry.field(description="Whether it is raining.")
    wind_speed: float | None = strawberry.field(description="Wind speed, m/s.")
    wind_direction: int | None = strawberry.field(description="Wind direction, degrees (0-359).")

    @classmethod
    def of(cls, w: domain.WeatherSample) -> WeatherSample:
        return cls(
            time=w.time,
            air_temperature=w.air_temperature,
            track_temperature=w.track_temperature,
            humidity=w.humidity,
            pressure=w.pressure,
            rainfall=w.rainfall,
            wind_speed=w.wind_speed,
            wind_direction=w.wind_direction,
        )


@strawberry.type(
    description="The session's weather columnar, one list per channel, all equally long "
    "(the rows of weather, without a resolver call per sample)."
)
class WeatherSeries:
    sample_count: int = strawberry.field(description="Samples in each list.")
    time: list[float | None] = strawberry.field(description="Session time in seconds.")
    air_temperature: list[float | None] = strawberry.field(description="°C.")
    track_temperature: list[float | None] = strawberry.field(description="°C.")
    humidity: list[float | None] = strawberry.field(description="%.")
    pressure: list[float | None] = strawberry.field(description="mbar.")
    rainfall: list[bool | None] = strawberry.field(description="Whether it is raining.")
    wind_speed: list[float | None] = strawberry.field(description="m/s.")
    wind_direction: list[int | None] = strawberry.field(description="Degrees (0-359).")

    @classmethod
    def of(cls, rows: tuple[domain.WeatherSample, ...]) -> WeatherSeries:
        return cls(
            sample_count=len(rows),
            time=[w.time for w in rows],
            air_temperature=[w.air_temperature for w in rows],
            track_temperature=[w.track_temperature for w in rows],
            humidity=[w.humidity for w in rows],
            pressure=[w.pressure for w in rows],
            rainfall=[w.rainfall for w in rows],
            wind_speed=[w.wind_speed for w in rows],
            wind_direction=[w.wind_direction for w in rows],
        )


@strawberry.type(description="One row of FastF1's Session.race_control_messages.")
class RaceControlMessage:
    time: dt.datetime = strawberry.field(description="When race control sent it (UTC).")
    session_time: float | None = strawberry.field(
        description="The same moment as a session time in seconds (the axis of laps and "
        "telemetry); null when FastF1 could not date that axis (it does so from car data)."
    )
    lap: int | None = strawberry.field(description="The leader's lap at the time.")
    category: str | None = strawberry.field(description="Flag, SafetyCar, Drs, CarEvent or Other.")
    message: str = strawberry.field(description="The message's text.")
    status: str | None = strawberry.field(
        description="For DRS and safety car messages, e.g. ENABLED, DEPLOYED."
    )
    flag: str | None = strawberry.field(
        description="For flag messages: GREEN, YELLOW, DOUBLE YELLOW, RED, BLUE, CLEAR, "
        "CHEQUERED, BLACK AND WHITE."
    )
    scope: str | None = strawberry.field(description="For flag messages: Track, Sector, Driver.")
    sector: int | None = strawberry.field(description="The marshal sector a flag is for.")
    driver_number: str | None = strawberry.field(
        description="The car the message is about, when it names one."
    )
    driver: str | None = strawberry.field(
        description="That car's driver code, when the car is in the session."
    )

    @classmethod
    def of(cls, m: domain.RaceControlMessage) -> RaceControlMessage:
        return cls(
            time=m.time,
            session_time=m.session_time,
            lap=m.lap,
            category=m.category,
            message=m.message,
            status=m.status,
            flag=m.flag,
            scope=m.scope,
            sector=m.sector,
            driver_number=m.driver_number,
            driver=m.driver,
        )


@strawberry.type(description="One row of FastF1's Session.track_status: the status from time on.")
class TrackStatusChange:
    time: float | None = strawberry.field(description="Session time in seconds.")
    status: str = strawberry.field(
        description="The archive's code: 1 green, 2 yellow, 4 safety car, 5 red, 6 virtual "
        "safety car deployed, 7 virtual safety car ending."
    )
    message: str | None = strawberry.field(
        description="The archive's word for it: AllClear, Yellow, SCDeployed, Red, "
        "VSCDeployed, VSCEnding."
    )

    @classmethod
    def of(cls, t: domain.TrackStatusChange) -> TrackStatusChange:
        return cls(time=t.time, status=t.status, message=t.message)


@strawberry.type(description="One visit to the pit lane, from FastF1's laps.")
class PitStop:
    driver: str = strawberry.field(description="Three-letter driver code.")
    driver_number: str = strawberry.field(description="Car number.")
    lap: int = strawberry.field(
        description="The in-lap: the lap at whose end the car entered the pit lane (as "
        "Jolpica numbers a stop)."
    )
    pit_in_time: float = strawberry.field(
        description="Session time (seconds) the car entered the pit lane (FastF1 PitInTime)."
    )
    pit_out_time: float | None = strawberry.field(
        description="Session time (seconds) it left the pit lane (the next lap's PitOutTime); "
        "null when it did not come out."
    )
    pit_lane_time: float | None = strawberry.field(
        description="Seconds from pit-in to pit-out: the whole time in the pit lane (in "
        "practice and qualifying a stop in the garage counts whole)."
    )
    compound_before: str | None = strawberry.field(description="Tyre compound of the in-lap.")
    compound_after: str | None = strawberry.field(description="Tyre compound of the out-lap.")
    fresh_tyre_after: bool | None = strawberry.field(description="Whether the set fitted was new.")
    jolpica_duration: float | None = strawberry.field(
        description="Jolpica's duration of the same stop (driver and in-lap), in seconds, "
        "when it has the stop (races only); null otherwise."
    )

    @classmethod
    def of(cls, s: domain.PitStop) -> PitStop:
        return cls(
            driver=s.driver,
            driver_number=s.driver_number,
            lap=s.lap_number,
            pit_in_time=s.pit_in_time,
            pit_out_time=s.pit_out_time,
            pit_lane_time=s.pit_lane_time,
            compound_before=s.compound_before,
            compound_after=s.compound_after,
            fresh_tyre_after=s.fresh_tyre_after,
            jolpica_duration=s.jolpica_duration,
        )


@strawberry.type(description="Where a driver was on completing a lap.")
class LapPosition:
    driver: str = strawberry.field(description="Three-letter driver code.")
    driver_number: str = strawberry.field(description="Car number.")
    lap: int = strawberry.field(description="The lap.")
    position: int | None = strawberry.field(description="FastF1's Position at the lap's end.")
    time: float | None = strawberry.field(
        description="Session time (seconds) the lap was completed (FastF1's Time)."
    )
    gap_to_leader: float | None = strawberry.field(
        description="Seconds after the first car to complete the same lap number (0 for "
        "that car; a lapped car's gap is the whole time, a lap or more)."
    )
    interval: float | None = strawberry.field(
        description="Seconds after the car that completed the same lap just before; null "
        "for the first."
    )

    @classmethod
    def of(cls, p: domain.LapPosition) -> LapPosition:
        return cls(
            driver=p.driver,
            driver_number=p.driver_number,
            lap=p.lap_number,
            position=p.position,
            time=p.time,
            gap_to_leader=p.gap_to_leader,
            interval=p.interval,
        )
