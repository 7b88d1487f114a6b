"""Jolpica's JSON layout for Ergast CSV rows: every value a string, keys in Jolpica's order,
and a missing value left out rather than sent as null."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any, Protocol, TypeVar

from pypole_gql.replay.ergast_csv import (
    Circuit,
    Constructor,
    Driver,
    PitStop,
    Qualifying,
    Race,
    Result,
    Standing,
)

Json = dict[str, Any]


class _RaceRow(Protocol):
    @property
    def race(self) -> Race: ...


RaceRow = TypeVar("RaceRow", bound=_RaceRow)


def compact(values: Json) -> Json:
    """Drop missing values: Jolpica leaves such keys out."""
    return {key: value for key, value in values.items() if value is not None}


def group_by_race(rows: Sequence[RaceRow]) -> list[tuple[Race, list[RaceRow]]]:
    """Consecutive rows of the same race, in order."""
    return [(race, list(group)) for race, group in groupby(rows, key=lambda row: row.race)]


def races_with(
    key: str, render: Callable[[RaceRow], Json]
) -> Callable[[Sequence[RaceRow]], list[Json]]:
    """Render a page race by race; a race split across pages shows only this page's rows."""

    def rendered(page: Sequence[RaceRow]) -> list[Json]:
        return [
            {**race_json(race), key: [render(row) for row in rows]}
            for race, rows in group_by_race(page)
        ]

    return rendered


def _clock(value: str | None) -> str | None:
    return None if value is None else f"{value}Z"


def race_json(race: Race) -> Json:
    return compact(
        {
            "season": str(race.season),
            "round": str(race.round),
            "url": race.url,
            "raceName": race.name,
            "Circuit": circuit_json(race.circuit),
            "date": race.date,
            "time": _clock(race.time),
        }
    )


def schedule_json(race: Race) -> Json:
    body = race_json(race)
    for session in race.sessions:
        body[session.key] = compact({"date": session.date, "time": _clock(session.time)})
    return body


def circuit_json(circuit: Circuit) -> Json:
    location = {
        "lat": circuit.lat,
        "long": circuit.lng,
        "locality": circuit.locality,
        "country": circuit.country,
    }
    return compact(
        {
            "circuitId": circuit.ref,
            "url": circuit.url,
            "circuitName": circuit.name,
            "Location": compact(location),
        }
    )


def driver_json(driver: Driver) -> Json:
    return compact(
        {
            "driverId": driver.ref,
            "permanentNumber": driver.number,
            "code": driver.code,
            "url": driver.url,
            "givenName": driver.forename,
            "familyName": driver.surname,
            "dateOfBirth": driver.dob,
            "nationality": driver.nationality,
        }
    )


def constructor_json(constructor: Constructor) -> Json:
    return compact(
        {
            "constructorId": constructor.ref,
            "url": constructor.url,
            "name": constructor.name,
            "nationality": constructor.nationality,
        }
    )


def season_json(season: int, url: str | None) -> Json:
    return compact({"season": str(season), "url": url})


def gap(value: str | None) -> str | None:
    """Jolpica writes a gap of a minute or more as ``+1:05.536``, the CSV as ``+65.536``."""
    if value is None or not value.startswith("+") or ":" in value:
        return value
    try:
        seconds = float(value[1:])
    except ValueError:
        return value
    if seconds < 60:
        return value
    minutes, rest = divmod(seconds, 60)
    decimals = len(value.partition(".")[2])
    width = 3 + decimals if decimals else 2
    return f"+{int(minutes)}:{rest:0{width}.{decimals}f}"


def result_json(result: Result) -> Json:
    """A row of ``Results`` or ``SprintResults``."""
    body = compact(
        {
            "number": result.number,
            "position": str(result.position_order),
            "positionText": result.position_text,
            "points": result.points,
            "Driver": driver_json(result.driver),
            "Constructor": constructor_json(result.constructor),
            "grid": result.grid,
            "laps": result.laps,
            "status": result.status,
        }
    )
    if result.millis is not None or result.time is not None:
        body["Time"] = compact({"millis": result.millis, "time": gap(result.time)})
    if result.fastest_lap is not None or result.fastest_lap_time is not None:
        fastest = compact({"rank": result.rank, "lap": result.fastest_lap})
        if result.fastest_lap_time is not None:
            fastest["Time"] = {"time": result.fastest_lap_time}
        if result.fastest_lap_speed is not None:
            speed = f"{float(result.fastest_lap_speed):.3f}"
            fastest["AverageSpeed"] = {"units": "kph", "speed": speed}
        body["FastestLap"] = fastest
    return body


def qualifying_json(entry: Qualifying) -> Json:
    return compact(
        {
            "number": entry.number,
            "position": None if entry.position is None else str(entry.position),
            "Driver": driver_json(entry.driver),
            "Constructor": constructor_json(entry.constructor),
            "Q1": entry.q1,
            "Q2": entry.q2,
            "Q3": entry.q3,
        }
    )


def pit_stop_json(stop: PitStop) -> Json:
    return compact(
        {
            "driverId": stop.driver.ref,
            "lap": str(stop.lap),
            "stop": str(stop.stop),
            "time": stop.time,
            "duration": stop.duration,
        }
    )


def status_json(status_id: int, count: int, status: str) -> Json:
    return {"statusId": str(status_id), "count": str(count), "status": status}


def standing_json(standing: Standing) -> Json:
    """The head of a ``DriverStandings``/``ConstructorStandings`` entry."""
    return compact(
        {
            "position": None if standing.position is None else str(standing.position),
            "positionText": standing.position_text,
            "points": standing.points,
            "wins": standing.wins,
        }
    )


def standings_lists(
    page: Sequence[Standing], key: str, render: Callable[[Standing], Json]
) -> list[Json]:
    return [
        {"season": str(race.season), "round": str(race.round), key: [render(s) for s in rows]}
        for race, rows in group_by_race(page)
    ]
