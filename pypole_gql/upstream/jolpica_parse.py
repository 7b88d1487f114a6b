"""Jolpica's JSON (Ergast's layout) parsed into :mod:`pypole_gql.domain.f1` objects.

Each parsed object keeps the Jolpica object it came from in ``raw``. Anything that does
not have the documented shape is :class:`MalformedResponse` (a 503 for the client), logged
as ``jolpica.unparsable``. The functions are public: the client parses what it fetched,
the service re-parses what it cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Final, TypeVar

from pypole_gql.domain.f1 import (
    Circuit,
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    JolpicaPitStop,
    QualifyingResult,
    Race,
    RaceResult,
    RaceRows,
    RawObject,
    Schedule,
    ScheduledSession,
    SeasonTable,
    Standings,
)
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.logging import get_logger

log = get_logger("pypole.jolpica")

Row = TypeVar("Row")


class MalformedResponse(UpstreamUnavailable):
    """Jolpica answered with something that is not the JSON it documents."""

    default_message = "Jolpica sent an unexpected response, try again later"


def parse_all(items: Iterable[RawObject], parse: Callable[[RawObject], Row]) -> tuple[Row, ...]:
    try:
        return tuple(parse(item) for item in items)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.error("jolpica.unparsable", error=repr(exc))
        raise MalformedResponse() from exc


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    text = _text(value)
    return None if text is None else int(text)


def _float(value: Any) -> float | None:
    text = _text(value)
    return None if text is None else float(text)


def _date(value: Any) -> date | None:
    text = _text(value)
    return None if text is None else date.fromisoformat(text)


def _moment(day: date | None, clock: Any) -> datetime | None:
    """A UTC datetime from Jolpica's ``date`` and ``time`` (``"15:00:00Z"``)."""
    text = _text(clock)
    if day is None or text is None:
        return None
    parsed = time.fromisoformat(text.removesuffix("Z"))
    moment = datetime.combine(day, parsed)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_circuit(raw: RawObject) -> Circuit:
    location = raw.get("Location") or {}
    return Circuit(
        circuit_id=str(raw["circuitId"]),
        name=str(raw["circuitName"]),
        locality=_text(location.get("locality")),
        country=_text(location.get("country")),
        latitude=_float(location.get("lat")),
        longitude=_float(location.get("long")),
        url=_text(raw.get("url")),
        raw=raw,
    )


def parse_driver(raw: RawObject) -> Driver:
    return Driver(
        driver_id=str(raw["driverId"]),
        given_name=str(raw["givenName"]),
        family_name=str(raw["familyName"]),
        code=_text(raw.get("code")),
        permanent_number=_int(raw.get("permanentNumber")),
        nationality=_text(raw.get("nationality")),
        date_of_birth=_date(raw.get("dateOfBirth")),
        url=_text(raw.get("url")),
        raw=raw,
    )


def parse_constructor(raw: RawObject) -> Constructor:
    return Constructor(
        constructor_id=str(raw["constructorId"]),
        name=str(raw["name"]),
        nationality=_text(raw.get("nationality")),
        url=_text(raw.get("url")),
        raw=raw,
    )


def _sessions(raw: RawObject) -> tuple[ScheduledSession, ...]:
    sessions = []
    # Every other session is an object with a date (FirstPractice, Sprint, ...); the set
    # of names changed over the years (SprintShootout, SprintQualifying), so none is listed.
    for name, value in raw.items():
        if name == "Circuit" or not isinstance(value, Mapping) or "date" not in value:
            continue
        day = _date(value["date"])
        if day is None:
            continue
        sessions.append(
            ScheduledSession(name=name, date=day, starts_at=_moment(day, value.get("time")))
        )
    earliest = datetime.min.replace(tzinfo=UTC)
    sessions.sort(key=lambda s: (s.date, s.starts_at or earliest))
    return tuple(sessions)


def parse_race(raw: RawObject) -> Race:
    day = _date(raw["date"])
    if day is None:
        raise ValueError("race without a date")
    return Race(
        season=int(raw["season"]),
        round=int(raw["round"]),
        name=str(raw["raceName"]),
        circuit=parse_circuit(raw["Circuit"]),
        date=day,
        starts_at=_moment(day, raw.get("time")),
        url=_text(raw.get("url")),
        sessions=_sessions(raw),
        raw=raw,
    )


def parse_schedule(season: int, races: Sequence[RawObject]) -> Schedule:
    parsed = parse_all(races, parse_race)
    return Schedule(season=season, races=tuple(sorted(parsed, key=lambda race: race.round)))


#: positionText of an entry that never took the start (withdrawn, failed to qualify): a grid
#: 0 there is no slot at all, not a start from the pit lane.
_NON_STARTERS: Final = frozenset({"W", "F"})


def _grid(raw: RawObject, position_text: str) -> tuple[int | None, bool]:
    """``(grid, pit_lane_start)`` from either form Jolpica sends (see :class:`RaceResult`)."""
    grid = _int(raw.get("grid"))
    if grid is None or grid > 0:
        return grid, False
    return None, position_text not in _NON_STARTERS


def parse_race_result(raw: RawObject) -> RaceResult:
    timing = raw.get("Time") or {}
    fastest = raw.get("FastestLap") or {}
    position_text = str(raw.get("positionText") or raw.get("position") or "")
    grid, pit_lane_start = _grid(raw, position_text)
    return RaceResult(
        number=_int(raw.get("number")),
        position=_int(raw.get("position")),
        position_text=position_text,
        points=_float(raw.get("points")) or 0.0,
        grid=grid,
        laps=_int(raw.get("laps")),
        status=str(raw.get("status") or ""),
        time=_text(timing.get("time")),
        millis=_int(timing.get("millis")),
        driver=parse_driver(raw["Driver"]),
        constructor=parse_constructor(raw["Constructor"]),
        fastest_lap_rank=_int(fastest.get("rank")),
        fastest_lap_time=_text((fastest.get("Time") or {}).get("time")),
        pit_lane_start=pit_lane_start,
        raw=raw,
    )


def parse_qualifying_result(raw: RawObject, index: int) -> QualifyingResult:
    position = _int(raw.get("position"))
    return QualifyingResult(
        number=_int(raw.get("number")),
        # Jolpica always numbers qualifying; the list order is the fallback if it did not.
        position=position if position is not None else index + 1,
        driver=parse_driver(raw["Driver"]),
        constructor=parse_constructor(raw["Constructor"]),
        q1=_text(raw.get("Q1")),
        q2=_text(raw.get("Q2")),
        q3=_text(raw.get("Q3")),
        raw=raw,
    )


def _duration(value: Any) -> float | None:
    """Jolpica's pit-stop duration, ``"20.377"`` or ``"1:02.345"`` (minutes), as seconds."""
    text = _text(value)
    if text is None:
        return None
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_pit_stop(raw: RawObject) -> JolpicaPitStop:
    return JolpicaPitStop(
        driver_id=str(raw["driverId"]),
        stop=int(raw["stop"]),
        lap=int(raw["lap"]),
        time=_text(raw.get("time")),
        duration=_duration(raw.get("duration")),
        raw=raw,
    )


def parse_pit_stops(rows: Iterable[RawObject]) -> tuple[JolpicaPitStop, ...]:
    """A race's ``PitStops`` list (merged across pages)."""
    return parse_all(rows, parse_pit_stop)


def _season_table(
    season: int,
    races: Sequence[RawObject],
    parse_rows: Callable[[Sequence[RawObject]], tuple[Row, ...]],
    rows_key: str,
) -> SeasonTable[Row]:
    def one(raw: RawObject) -> RaceRows[Row]:
        return RaceRows(race=parse_race(raw), rows=parse_rows(raw.get(rows_key) or []), raw=raw)

    entries = parse_all(races, one)
    return SeasonTable(season=season, races=tuple(sorted(entries, key=lambda e: e.race.round)))


def parse_results(
    season: int, races: Sequence[RawObject], rows_key: str
) -> SeasonTable[RaceResult]:
    """A results table (``rows_key`` ``Results`` or ``SprintResults``) from merged races."""
    return _season_table(
        season, races, lambda rows: tuple(parse_race_result(r) for r in rows), rows_key
    )


def parse_qualifying(season: int, races: Sequence[RawObject]) -> SeasonTable[QualifyingResult]:
    return _season_table(
        season,
        races,
        lambda rows: tuple(parse_qualifying_result(r, i) for i, r in enumerate(rows)),
        "QualifyingResults",
    )


def _standings(
    season: int,
    lists: Sequence[RawObject],
    rows_key: str,
    parse: Callable[[RawObject], Row],
) -> Standings[Row]:
    if not lists:
        return Standings(season=season, round=None, entries=())
    # One list per request (a season and a round); the last is the latest if there were more.
    latest = lists[-1]
    entries = parse_all(latest.get(rows_key) or [], parse)
    return Standings(season=season, round=_int(latest.get("round")), entries=entries)


def _standing_numbers(raw: RawObject) -> tuple[int | None, str, float, int]:
    """``(position, position_text, points, wins)``; see :class:`DriverStanding`.

    Jolpica sends a ``position`` for a disqualified or excluded entry too (positionText
    ``D``/``E``) and none for one not ranked (``-``): only a numeric positionText ranks.
    """
    sent = _int(raw.get("position"))
    text = _text(raw.get("positionText")) or ("-" if sent is None else str(sent))
    position = int(text) if text.isascii() and text.isdigit() else None
    return (position, text, _float(raw.get("points")) or 0.0, _int(raw.get("wins")) or 0)


def parse_driver_standing(raw: RawObject) -> DriverStanding:
    position, position_text, points, wins = _standing_numbers(raw)
    return DriverStanding(
        position=position,
        position_text=position_text,
        points=points,
        wins=wins,
        driver=parse_driver(raw["Driver"]),
        constructors=tuple(parse_constructor(c) for c in raw.get("Constructors") or []),
        raw=raw,
    )


def parse_constructor_standing(raw: RawObject) -> ConstructorStanding:
    position, position_text, points, wins = _standing_numbers(raw)
    return ConstructorStanding(
        position=position,
        position_text=position_text,
        points=points,
        wins=wins,
        constructor=parse_constructor(raw["Constructor"]),
        raw=raw,
    )


def parse_driver_standings(season: int, lists: Sequence[RawObject]) -> Standings[DriverStanding]:
    return _standings(season, lists, "DriverStandings", parse_driver_standing)


def parse_constructor_standings(
    season: int, lists: Sequence[RawObject]
) -> Standings[ConstructorStanding]:
    return _standings(season, lists, "ConstructorStandings", parse_constructor_standing)
