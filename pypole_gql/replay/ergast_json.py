"""Jolpica's JSON layout for Ergast CSV rows: every value a string, keys in Jolpica's order,
and a missing value left out rather than sent as null.

A row may be rendered in Jolpica's current forms instead of the CSV's (``forms="jolpica"``):
the caller passes the :class:`~pypole_gql.replay.jolpica_forms.EntryForm` or
:class:`~pypole_gql.replay.jolpica_forms.RaceTiming` that Jolpica's own data has for it.
"""

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
from pypole_gql.replay.ergast_path import url_path
from pypole_gql.replay.jolpica_forms import EntryForm, RaceTiming

Json = dict[str, Any]

URL_BASE = "https://api.jolpi.ca/ergast/f1/"


class _RaceRow(Protocol):
    @property
    def race(self) -> Race: ...


RaceRow = TypeVar("RaceRow", bound=_RaceRow)


def envelope(path: str, page: tuple[int, int, int], table: str, content: Json) -> Json:
    """The whole body of an answer to ``path``: ``page`` is ``(limit, offset, total)``,
    ``content`` the table's header values and its list of items."""
    limit, offset, total = page
    return {
        "MRData": {
            "xmlns": "",
            "series": "f1",
            "url": f"{URL_BASE}{url_path(path)}.json",
            "limit": str(limit),
            "offset": str(offset),
            "total": str(total),
            table: content,
        }
    }


def compact(values: Json) -> Json:
    """Drop missing values: Jolpica leaves such keys out."""
    return {key: value for key, value in values.items() if value is not None}


def group_by_race(rows: Sequence[RaceRow]) -> list[tuple[Race, list[RaceRow]]]:
    """Consecutive rows of the same race, in order."""
    return [(race, list(group)) for race, group in groupby(rows, key=lambda row: row.race)]


def races_with(
    key: str,
    render: Callable[[RaceRow], Json],
    race_head: Callable[[Race], Json] | None = None,
) -> Callable[[Sequence[RaceRow]], list[Json]]:
    """Render a page race by race; a race split across pages shows only this page's rows.

    ``race_head`` renders each race's own fields (:func:`race_json` by default).
    """
    head = race_head or race_json

    def rendered(page: Sequence[RaceRow]) -> list[Json]:
        return [
            {**head(race), key: [render(row) for row in rows]} for race, rows in group_by_race(page)
        ]

    return rendered


def _clock(value: str | None) -> str | None:
    return None if value is None else f"{value}Z"


def race_json(race: Race, timing: RaceTiming | None = None) -> Json:
    """A race's own fields; its day and start from ``timing`` when given."""
    day, clock = (race.date, _clock(race.time)) if timing is None else (timing.date, timing.time)
    return compact(
        {
            "season": str(race.season),
            "round": str(race.round),
            "url": race.url,
            "raceName": race.name,
            "Circuit": circuit_json(race.circuit),
            "date": day,
            "time": clock,
        }
    )


def schedule_json(race: Race, timing: RaceTiming | None = None) -> Json:
    """A race of the schedule with its sessions (``timing``'s, as Jolpica sent them, if given)."""
    body = race_json(race, timing)
    if timing is not None:
        body.update((key, dict(value)) for key, value in timing.sessions)
        return body
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


def result_json(result: Result, form: EntryForm | None = None) -> Json:
    """A row of ``Results`` or ``SprintResults``; with ``form``, in Jolpica's own form of it
    (its position, positionText, grid, laps, status and time; the rest is the CSV's)."""
    body = compact(
        {
            "number": result.number,
            "position": str(result.position_order) if form is None else form.position,
            "positionText": result.position_text if form is None else form.position_text,
            "points": result.points,
            "Driver": driver_json(result.driver),
            "Constructor": constructor_json(result.constructor),
            "grid": result.grid if form is None else form.grid,
            "laps": result.laps if form is None else form.laps,
            "status": result.status if form is None else form.status,
        }
    )
    if form is not None:
        if form.time is not None:
            body["Time"] = dict(form.time)
    elif result.millis is not None or result.time is not None:
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
