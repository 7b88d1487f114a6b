"""Pit stops, from the laps' pit-lane times (FastF1), with Jolpica's durations joined on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pypole_gql.domain.f1 import JolpicaPitStop
from pypole_gql.domain.sessions.model import SessionData, driver_numbers, elapsed


@dataclass(frozen=True, slots=True)
class PitStop:
    """One visit to the pit lane, from FastF1's laps.

    ``lap_number`` is the in-lap: the lap at whose end the car entered the pit lane (its
    ``PitInTime``), as Jolpica numbers a stop. ``pit_out_time`` is the ``PitOutTime`` of
    the driver's next lap, ``None`` when the car did not come out (retired in the pits,
    or the session ended). ``pit_lane_time`` is pit-out minus pit-in: the whole time
    between the timing lines at the pit lane's entry and exit, so in practice and
    qualifying a stop in the garage counts whole. Tyres: the in-lap's compound and the
    out-lap's (with its ``FreshTyre``).

    ``jolpica_duration`` is Jolpica's duration of the same stop (driver and lap), when
    it was joined on (:func:`with_jolpica_durations`) and Jolpica has the stop.
    """

    driver: str
    driver_number: str
    lap_number: int
    pit_in_time: float
    pit_out_time: float | None
    pit_lane_time: float | None
    compound_before: str | None
    compound_after: str | None
    fresh_tyre_after: bool | None
    jolpica_duration: float | None = None


def pit_stops(data: SessionData, drivers: Iterable[str] | None = None) -> list[PitStop]:
    """Every lap with a ``PitInTime``, as a stop, in order of pit-in time (ties: lap order).

    ``drivers`` (codes or numbers) narrows them; an unknown driver matches nothing.
    """
    numbers = driver_numbers(data, drivers)
    stops = []
    for lap in data.laps:
        if lap.pit_in_time is None or (numbers is not None and lap.driver_number not in numbers):
            continue
        out = next(
            (n for n in data.driver_laps(lap.driver_number) if n.lap_number == lap.lap_number + 1),
            None,
        )
        pit_out = None if out is None else out.pit_out_time
        stops.append(
            PitStop(
                driver=lap.driver,
                driver_number=lap.driver_number,
                lap_number=lap.lap_number,
                pit_in_time=lap.pit_in_time,
                pit_out_time=pit_out,
                pit_lane_time=None if pit_out is None else elapsed(lap.pit_in_time, pit_out),
                compound_before=lap.compound,
                compound_after=None if out is None else out.compound,
                fresh_tyre_after=None if out is None else out.fresh_tyre,
            )
        )
    stops.sort(key=lambda s: s.pit_in_time)
    return stops


def with_jolpica_durations(
    data: SessionData, stops: Iterable[PitStop], jolpica: Iterable[JolpicaPitStop]
) -> list[PitStop]:
    """``stops`` with ``jolpica_duration`` set where Jolpica lists the same stop.

    A stop is the same when Jolpica's ``driverId`` is the session driver's (FastF1's
    ``DriverId``) and Jolpica's lap is the in-lap.
    """
    ids: Mapping[str, str | None] = {d.number: d.driver_id for d in data.drivers}
    durations = {(j.driver_id, j.lap): j.duration for j in jolpica}
    joined = []
    for stop in stops:
        key = (ids.get(stop.driver_number), stop.lap_number)
        if key in durations:
            stop = dataclasses.replace(stop, jolpica_duration=durations[key])
        joined.append(stop)
    return joined
