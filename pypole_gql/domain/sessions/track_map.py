"""The shape of the track: one lap's position samples, as FastF1's ``Lap.get_pos_data()``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pypole_gql.domain.sessions.laps import fastest_lap, find_lap
from pypole_gql.domain.sessions.model import NS_PER_S, FloatArray, Lap, SessionData
from pypole_gql.domain.sessions.telemetry import check_max_points, downsample, lap_samples
from pypole_gql.errors import BadUserInput, NotFound


@dataclass(frozen=True, slots=True, eq=False)
class TrackMap:
    """The car's position through one lap, one array per coordinate, all the same length.

    ``x``, ``y``, ``z`` are FastF1's ``X``/``Y``/``Z`` (1/10 m, the archive's own frame,
    not rotated to any map); ``time`` is seconds since the lap's start.
    """

    driver: str
    driver_number: str
    lap_number: int
    time: FloatArray
    x: FloatArray
    y: FloatArray
    z: FloatArray
    source_sample_count: int
    """Samples in the lap before any downsampling."""

    @property
    def sample_count(self) -> int:
        return int(self.time.shape[0])


def track_map(
    data: SessionData,
    driver: str | None = None,
    lap: int | None = None,
    *,
    max_points: int | None = None,
) -> TrackMap | None:
    """One lap's position samples, equal to FastF1's ``lap.get_pos_data()`` X, Y, Z.

    The lap is ``driver``'s lap ``lap``; ``driver``'s fastest lap without ``lap``; the
    session's fastest lap with neither (as :func:`fastest_lap` picks them). The samples
    are those whose ``SessionTime`` lies in ``[LapStartTime, Time]``, both included.
    ``max_points`` (at least 2) keeps that many, evenly spaced, first and last included.

    Returns ``None`` when the session has no position data for the driver ("not
    available"). :class:`BadUserInput` for ``lap`` without ``driver``;
    :class:`NotFound` for an unknown driver or lap, or no fastest lap to default to.
    """
    check_max_points(max_points)
    chosen = _pick_lap(data, driver, lap)
    window = lap_samples(data.position, chosen)
    if window is None:
        return None
    pos, rows, start_ns, session_ns = window
    n = int(session_ns.shape[0])
    keep = downsample(n, max_points)

    def channel(name: str) -> FloatArray:
        return np.asarray(pos.channels[name][rows], dtype=np.float64)[keep]

    return TrackMap(
        driver=chosen.driver,
        driver_number=chosen.driver_number,
        lap_number=chosen.lap_number,
        time=((session_ns - start_ns) / NS_PER_S)[keep],
        x=channel("x"),
        y=channel("y"),
        z=channel("z"),
        source_sample_count=n,
    )


def _pick_lap(data: SessionData, driver: str | None, lap: int | None) -> Lap:
    if lap is not None:
        if driver is None:
            raise BadUserInput("lap needs a driver", field="lap")
        return find_lap(data, driver, lap)
    best = fastest_lap(data, driver)
    if best is None:
        who = data.label if driver is None else f"{driver} in {data.label}"
        raise NotFound(f"No timed lap of {who} to draw the track from")
    return best
