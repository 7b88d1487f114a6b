"""GraphQL types of a session's lap analysis (FastF1 data): one lap's telemetry, the track
map of one lap and laps compared on one distance axis. Columnar, one list per channel: a
list of per-sample objects would cost a resolver call per sample."""

from __future__ import annotations

import strawberry

from pypole_gql.domain import sessions as domain


@strawberry.type(description="Car telemetry of one lap, one list per channel, all equally long.")
class Telemetry:
    driver: str = strawberry.field(description="Three-letter driver code.")
    lap_number: int = strawberry.field(description="The lap.")
    sample_count: int = strawberry.field(description="Samples in each channel list.")
    time: list[float] = strawberry.field(description="Seconds since the lap started.")
    distance: list[float] = strawberry.field(
        description="Metres driven since the lap's first sample."
    )
    speed: list[float] = strawberry.field(description="Speed in km/h.")
    rpm: list[float] = strawberry.field(description="Engine revolutions per minute.")
    gear: list[int] = strawberry.field(description="Gear engaged (0 = neutral).")
    throttle: list[float] = strawberry.field(description="Throttle pedal, percent (0 to 100).")
    brake: list[bool] = strawberry.field(description="Whether the brake is applied.")
    drs: list[int] = strawberry.field(
        description="DRS state as F1 live timing codes it (10, 12, 14: open)."
    )
    x: list[float] | None = strawberry.field(
        description="Car position X (1/10 m), interpolated; null without position data."
    )
    y: list[float] | None = strawberry.field(
        description="Car position Y (1/10 m), interpolated; null without position data."
    )

    @classmethod
    def of(cls, t: domain.Telemetry) -> Telemetry:
        return cls(
            driver=t.driver,
            lap_number=t.lap_number,
            sample_count=t.sample_count,
            time=t.time.tolist(),
            distance=t.distance.tolist(),
            speed=t.speed.tolist(),
            rpm=t.rpm.tolist(),
            gear=t.gear.tolist(),
            throttle=t.throttle.tolist(),
            brake=t.brake.tolist(),
            drs=t.drs.tolist(),
            x=None if t.x is None else t.x.tolist(),
            y=None if t.y is None else t.y.tolist(),
        )


@strawberry.type(
    description="The car's position through one lap, one list per coordinate, all equally "
    "long: the track's shape."
)
class TrackMap:
    driver: str = strawberry.field(description="Three-letter driver code.")
    lap_number: int = strawberry.field(description="The lap drawn.")
    sample_count: int = strawberry.field(description="Samples in each list.")
    source_sample_count: int = strawberry.field(
        description="Samples in the lap before downsampling."
    )
    time: list[float] = strawberry.field(description="Seconds since the lap started.")
    x: list[float] = strawberry.field(
        description="FastF1's X (1/10 m, the archive's frame, not rotated to any map)."
    )
    y: list[float] = strawberry.field(description="FastF1's Y (1/10 m).")
    z: list[float] = strawberry.field(description="FastF1's Z (1/10 m), the elevation.")

    @classmethod
    def of(cls, t: domain.TrackMap) -> TrackMap:
        return cls(
            driver=t.driver,
            lap_number=t.lap_number,
            sample_count=t.sample_count,
            source_sample_count=t.source_sample_count,
            time=t.time.tolist(),
            x=t.x.tolist(),
            y=t.y.tolist(),
            z=t.z.tolist(),
        )


@strawberry.type(description="One lap of a comparison, its channels at the comparison's distances.")
class ComparedLap:
    driver: str = strawberry.field(description="Three-letter driver code.")
    lap_number: int = strawberry.field(description="The lap.")
    lap_time: float | None = strawberry.field(description="Lap time in seconds.")
    speed: list[float] = strawberry.field(
        description="km/h (another lap than the reference: linearly interpolated onto the "
        "reference's distances, its own distance scaled to the reference's length)."
    )
    throttle: list[float] = strawberry.field(description="Throttle pedal, percent.")
    brake: list[bool] = strawberry.field(
        description="Brake applied (another lap: as at its last sample before)."
    )
    gear: list[int] = strawberry.field(description="Gear (another lap: as at its last sample).")
    delta: list[float] = strawberry.field(
        description="Seconds this lap is behind the reference at each distance (negative: "
        "ahead), as FastF1's utils.delta_time computes it; zero for the reference. At the "
        "finish it is the difference of the lap times."
    )

    @classmethod
    def of(cls, c: domain.ComparedLap) -> ComparedLap:
        return cls(
            driver=c.driver,
            lap_number=c.lap_number,
            lap_time=c.lap_time,
            speed=c.speed.tolist(),
            throttle=c.throttle.tolist(),
            brake=c.brake.tolist(),
            gear=c.gear.tolist(),
            delta=c.delta.tolist(),
        )


@strawberry.type(
    description="Two to four laps on one distance axis (the first lap's), with the time "
    "delta along the lap."
)
class LapComparison:
    sample_count: int = strawberry.field(description="Samples in each list.")
    distance: list[float] = strawberry.field(
        description="Metres from the reference lap's start (never decreasing)."
    )
    laps: list[ComparedLap] = strawberry.field(
        description="The laps in the order asked; the first is the reference."
    )

    @classmethod
    def of(cls, c: domain.LapComparison) -> LapComparison:
        return cls(
            sample_count=c.sample_count,
            distance=c.distance.tolist(),
            laps=[ComparedLap.of(lap) for lap in c.laps],
        )
