"""Jolpica's current forms of results and schedules, where Jolpica's own data shows them.

The Ergast CSV database writes results as Ergast did: ``+1 Lap`` and no time for a lapped
car, the cause of a retirement (``Engine``), grid 0 for a pit-lane start; and it has no
sessions for 2018, 2019 and 2025. Jolpica itself answers differently where it holds its
own data (``Lapped`` with the race time minus the winner's, ``Retired``, ``Did not start``,
the grid slot a pit-lane starter was assigned at the back) and publishes the sessions of
those seasons (day only for 2018 to 2021, full times from 2022). :class:`JolpicaForms`
collects those forms, for the generator's ``forms="jolpica"`` to lay over the CSV:

- ``csv/jolpica_db_subset/``, jolpica-f1's own test database: every race and sprint entry
  of 2023 (:data:`OWN_DATA_FROM` on) as Jolpica holds it, rendered the way Jolpica's
  serializer renders a session entry;
- the recorded Jolpica responses (api.jolpi.ca production and jolpica-f1's app, told from
  ergast.com's by ``MRData.url``): every result row they hold (2024 British GP, 2025
  Australian GP, ...) and every complete season schedule (dates and times of each race
  and session). A recorded row wins over the database extract, production over the app.

Everything else stays in the CSV's forms, which is also what Jolpica sends for most of
its older data (2003 Australian GP: ``+1 Lap``, no time).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

Json = dict[str, Any]
EntryKey = tuple[int, int, str, str]
"""(season, round, ``Results`` or ``SprintResults``, driverId)."""

#: The first season jolpica-f1's database holds in its own forms (``Lapped``, lapped cars'
#: times); its older seasons there are Ergast's data re-imported.
OWN_DATA_FROM: Final = 2023
#: Jolpica's session types of the races and sprints, and their result lists.
_SESSION_ROWS: Final = {"R": "Results", "SR": "SprintResults"}
#: Jolpica's session-entry status codes of entries that are not classified, as its
#: serializer shows them in positionText (any other unclassified entry is ``R``).
_UNCLASSIFIED_TEXT: Final = {"20": "D", "30": "W"}
#: Origins whose bodies are Jolpica's own answers; the rest were recorded from ergast.com.
_JOLPICA_HOSTS: Final = {"api.jolpi.ca": 2, "testserver": 1}


@dataclass(frozen=True, slots=True)
class EntryForm:
    """One result row's fields as Jolpica sends them (strings, as in its JSON)."""

    position: str
    position_text: str
    grid: str | None
    laps: str | None
    status: str
    time: Mapping[str, str] | None
    """The row's ``Time`` object (``millis`` and ``time``), None when Jolpica sends none."""


@dataclass(frozen=True, slots=True)
class RaceTiming:
    """When a race and its sessions are, as a recorded Jolpica schedule gives them."""

    date: str
    time: str | None
    """``"15:00:00Z"`` as sent; None when only the day is published."""
    sessions: tuple[tuple[str, Json], ...]
    """``(key, {"date": ..., "time": ...})`` in the order sent."""


@dataclass(frozen=True, slots=True)
class JolpicaForms:
    entries: Mapping[EntryKey, EntryForm] = field(default_factory=dict)
    races: Mapping[tuple[int, int], RaceTiming] = field(default_factory=dict)

    def entry(self, season: int, round_: int, key: str, driver_id: str) -> EntryForm | None:
        return self.entries.get((season, round_, key, driver_id))

    def race(self, season: int, round_: int) -> RaceTiming | None:
        return self.races.get((season, round_))

    @classmethod
    def load(cls, subset_dir: Path | None, recordings: Iterable[Path]) -> JolpicaForms:
        """From jolpica-f1's database extract (None: without it) and recorded bodies."""
        entries: dict[EntryKey, EntryForm] = {}
        if subset_dir is not None and subset_dir.is_dir():
            entries.update(_database_entries(subset_dir))
        races: dict[tuple[int, int], RaceTiming] = {}
        recorded = sorted(
            (body for body in recorded_bodies(recordings) if jolpica_rank(body) > 0),
            key=jolpica_rank,
        )
        # Lower ranks first, so production overwrites what jolpica-f1's app answered.
        for body in recorded:
            entries.update(_recorded_entries(body))
            races.update(_recorded_schedule(body))
        return cls(entries=entries, races=races)


# -- recorded bodies ---------------------------------------------------------------------------


def recorded_files(folders: Iterable[Path]) -> list[Path]:
    """Every recorded Jolpica response under ``folders`` (``.../ergast/f1``), sorted."""
    return sorted(file for folder in folders if folder.is_dir() for file in folder.rglob("*.json"))


def recorded_bodies(files: Iterable[Path]) -> Iterator[Json]:
    """The ``MRData`` of each recorded body."""
    for file in files:
        body = json.loads(file.read_text(encoding="utf-8"))
        if isinstance(body, dict) and isinstance(body.get("MRData"), dict):
            yield body["MRData"]


def jolpica_rank(mrdata: Json) -> int:
    """2 for a body of api.jolpi.ca, 1 of jolpica-f1's app, 0 of ergast.com."""
    host = str(mrdata.get("url", "")).split("/")[2:3]
    return _JOLPICA_HOSTS.get(host[0], 0) if host else 0


def _recorded_entries(mrdata: Json) -> Iterator[tuple[EntryKey, EntryForm]]:
    for race in (mrdata.get("RaceTable") or {}).get("Races") or []:
        for key in _SESSION_ROWS.values():
            for row in race.get(key) or []:
                yield (
                    (int(race["season"]), int(race["round"]), key, row["Driver"]["driverId"]),
                    EntryForm(
                        position=row["position"],
                        position_text=row["positionText"],
                        grid=row.get("grid"),
                        laps=row.get("laps"),
                        status=row["status"],
                        time=row.get("Time"),
                    ),
                )


def _recorded_schedule(mrdata: Json) -> Iterator[tuple[tuple[int, int], RaceTiming]]:
    table = mrdata.get("RaceTable") or {}
    races = table.get("Races") or []
    # Only a season's whole calendar: the schedule endpoint, unfiltered, every race on it.
    filters = set(table) - {"season", "Races"}
    listed = all(not isinstance(value, list) for race in races for value in race.values())
    if not races or filters or not listed or int(mrdata["total"]) != len(races):
        return
    for race in races:
        sessions = tuple(
            (key, dict(value))
            for key, value in race.items()
            if isinstance(value, dict) and "date" in value
        )
        yield (
            (int(race["season"]), int(race["round"])),
            RaceTiming(date=race["date"], time=race.get("time"), sessions=sessions),
        )


# -- jolpica-f1's database extract -------------------------------------------------------------


def _copy_blocks(sql: Path, tables: set[str]) -> dict[str, list[dict[str, str]]]:
    """The rows of ``COPY public.<table> (...) FROM stdin;`` blocks of a pg_dump."""
    out: dict[str, list[dict[str, str]]] = {name: [] for name in tables}
    columns: list[str] | None = None
    rows: list[dict[str, str]] = []
    with sql.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if columns is None:
                if line.startswith("COPY public."):
                    name = line.split()[1].removeprefix("public.")
                    if name in tables:
                        inside = line[line.index("(") + 1 : line.index(")")]
                        columns = [c.strip().strip('"') for c in inside.split(",")]
                        rows = out[name]
                continue
            if line == "\\.":
                columns = None
                continue
            rows.append(dict(zip(columns, line.split("\t"), strict=True)))
    return out


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _millis(text: str) -> int | None:
    """``"01:33:57.872"`` (a PostgreSQL interval) as whole milliseconds."""
    if not text:
        return None
    hours, minutes, seconds = text.split(":")
    whole, _, fraction = seconds.partition(".")
    millis = int((fraction + "000")[:3])
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * 1000 + millis


def race_time_text(millis: int) -> str:
    """A winner's time as Jolpica writes it: ``1:33:56.736`` (leading zeros dropped)."""
    seconds, ms = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}".lstrip("0:")


def gap_text(millis: int) -> str:
    """A gap to the winner as Jolpica writes it: ``+9.937``, ``+1:12.647``."""
    seconds, ms = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"+{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}"
    if minutes:
        return f"+{minutes}:{seconds:02d}.{ms:03d}"
    return f"+{seconds}.{ms:03d}"


def _database_entries(subset_dir: Path) -> Iterator[tuple[EntryKey, EntryForm]]:
    tables = _copy_blocks(
        subset_dir / "tables.sql",
        {
            "formula_one_season",
            "formula_one_round",
            "formula_one_session",
            "formula_one_driver",
            "formula_one_teamdriver",
        },
    )
    years = {row["id"]: int(row["year"]) for row in tables["formula_one_season"]}
    rounds = {
        row["id"]: (years[row["season_id"]], int(row["number"]))
        for row in tables["formula_one_round"]
    }
    sessions = {
        row["id"]: (rounds[row["round_id"]], _SESSION_ROWS[row["type"]])
        for row in tables["formula_one_session"]
        if row["type"] in _SESSION_ROWS and rounds[row["round_id"]][0] >= OWN_DATA_FROM
    }
    drivers = {row["id"]: row["reference"] for row in tables["formula_one_driver"]}
    team_drivers = {
        row["id"]: drivers[row["driver_id"]] for row in tables["formula_one_teamdriver"]
    }
    entrants = {
        row["id"]: team_drivers[row["team_driver_id"]]
        for row in _csv_rows(subset_dir / "roundentrys.csv")
    }
    entries = [row for row in _csv_rows(subset_dir / "sessionentrys.csv")]
    winners = {
        row["session_id"]: _millis(row["time"])
        for row in entries
        if row["session_id"] in sessions and row["position"] == "1"
    }
    for row in entries:
        session = sessions.get(row["session_id"])
        if session is None:
            continue
        (season, round_), key = session
        yield (
            (season, round_, key, entrants[row["round_entry_id"]]),
            _entry_form(row, winners.get(row["session_id"])),
        )


def _entry_form(row: Mapping[str, str], winner: int | None) -> EntryForm:
    """A session entry as Jolpica's serializer shows it in a results list."""
    classified = row["is_classified"] == "t"
    position_text = row["position"] if classified else _UNCLASSIFIED_TEXT.get(row["status"], "R")
    time: dict[str, str] | None = None
    millis = _millis(row["time"])
    # Only classified entries show a time (retirements have one in the database too).
    if classified and millis is not None and winner is not None:
        shown = race_time_text(millis) if millis == winner else gap_text(millis - winner)
        time = {"millis": str(millis), "time": shown}
    return EntryForm(
        position=row["position"],
        position_text=position_text,
        grid=row["grid"] or None,
        laps=row["laps_completed"] or None,
        status=row["detail"],
        time=time,
    )
