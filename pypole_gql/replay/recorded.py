"""A Jolpica made of the recorded bodies alone, for the replay's ``forms="recorded"``.

The server asks for whole tables in its own pages (``2024/results.json?limit=100&offset=0``),
which no recording answers as such: the recordings hold one round (``2024/12/results.json``),
a first page of 30, or a schedule with ``limit=40``. :class:`RecordedErgast` takes every
complete piece of them apart and serves it again for whatever ``limit``/``offset`` is asked,
in Jolpica's envelope, so the real bodies, production's above all, go through the whole
server untouched:

- ``{season}`` (the schedule) from a recorded complete calendar of that season;
- ``{season}[/{round}]/results``, ``sprint``, ``qualifying`` and ``{season}/{round}/pitstops``
  from every recorded race of the season that is complete in its recording (a race cut by
  a page boundary is left out): a season table holds the recorded rounds only;
- ``{season}[/{round}]/driverstandings`` and ``constructorstandings`` from a recorded
  complete list of that round (without a round: of a recording asked without one, or
  ``last``);
- ``{season}/drivers`` and ``{season}/constructors`` from a complete recorded list.

Only unfiltered recordings count. Where several hold the same race or list, api.jolpi.ca
wins over jolpica-f1's app, which wins over ergast.com. Anything else (other filters,
``current``, a season or round nothing recorded) is no answer: a 404, never invented data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any, Final

from pypole_gql.replay import ergast_json as js
from pypole_gql.replay.ergast_path import ErgastPath, page_bounds, parse_path
from pypole_gql.replay.fixtures import recording_request
from pypole_gql.replay.jolpica_forms import jolpica_rank, recorded_bodies

Json = dict[str, Any]

#: Endpoints whose items are races holding rows, and the key of those rows.
_ROWS: Final = {
    "results": "Results",
    "sprint": "SprintResults",
    "qualifying": "QualifyingResults",
    "pitstops": "PitStops",
}
_STANDINGS: Final = {
    "driverstandings": "DriverStandings",
    "constructorstandings": "ConstructorStandings",
}
_PEOPLE: Final = {
    "drivers": ("DriverTable", "Drivers"),
    "constructors": ("ConstructorTable", "Constructors"),
}


@dataclass
class _Ranked:
    """The best recorded value for one key so far."""

    rank: int
    value: Any


def _keep(store: dict[Any, _Ranked], key: Any, rank: int, value: Any) -> None:
    held = store.get(key)
    if held is None or rank > held.rank:
        store[key] = _Ranked(rank, value)


@dataclass
class _Index:
    schedules: dict[int, _Ranked] = field(default_factory=dict)
    races: dict[tuple[str, int, int], _Ranked] = field(default_factory=dict)
    """(endpoint, season, round) -> a race object holding all its rows."""
    standings: dict[tuple[str, int, int], _Ranked] = field(default_factory=dict)
    latest: dict[tuple[str, int], _Ranked] = field(default_factory=dict)
    people: dict[tuple[str, int], _Ranked] = field(default_factory=dict)

    def add(self, request: ErgastPath, mrdata: Json) -> None:
        rank = jolpica_rank(mrdata)
        total, offset = int(mrdata["total"]), int(mrdata.get("offset", "0"))
        season = int(request.season or 0)
        endpoint = request.endpoint
        if endpoint == "races" and request.round is None:
            races = mrdata["RaceTable"].get("Races") or []
            if offset == 0 and total == len(races) and races:
                _keep(self.schedules, season, rank, races)
        elif endpoint in _ROWS:
            key = _ROWS[endpoint]
            races = mrdata["RaceTable"].get("Races") or []
            rows = sum(len(race.get(key) or []) for race in races)
            for index, race in enumerate(races):
                cut_before = index == 0 and offset > 0
                cut_after = index == len(races) - 1 and offset + rows < total
                if not (cut_before or cut_after):
                    _keep(self.races, (endpoint, season, int(race["round"])), rank, race)
        elif endpoint in _STANDINGS:
            key = _STANDINGS[endpoint]
            lists = mrdata["StandingsTable"].get("StandingsLists") or []
            rows = sum(len(item.get(key) or []) for item in lists)
            if len(lists) != 1 or offset != 0 or rows != total:
                return
            (item,) = lists
            _keep(self.standings, (endpoint, season, int(item["round"])), rank, item)
            if request.round in (None, "last"):
                _keep(self.latest, (endpoint, season), rank, item)
        elif endpoint in _PEOPLE and request.round is None:
            table, items_key = _PEOPLE[endpoint]
            items = mrdata[table].get(items_key) or []
            if offset == 0 and total == len(items):
                _keep(self.people, (endpoint, season), rank, items)


def _unfiltered(request: ErgastPath | None) -> bool:
    return (
        request is not None
        and not request.filters
        and request.endpoint_value is None
        and request.season is not None
        and request.season.isdigit()
        and (request.round is None or request.round.isdigit() or request.round == "last")
    )


class RecordedErgast:
    """Answers from the recordings only; see the module docstring."""

    def __init__(self, index: _Index) -> None:
        self._index = index

    @classmethod
    def load(cls, folders: Iterable[Path]) -> RecordedErgast:
        """Index every recording under ``folders`` (each an ``.../ergast/f1`` folder)."""
        index = _Index()
        for folder in folders:
            if not folder.is_dir():
                continue
            for file in sorted(folder.rglob("*.json")):
                path, query = recording_request(file.relative_to(folder).as_posix())
                request = parse_path(path)
                if not _unfiltered(request) or query.get("offset", "0") != "0":
                    continue
                assert request is not None
                for mrdata in recorded_bodies([file]):
                    index.add(request, mrdata)
        return cls(index)

    def after_last_results(self) -> datetime | None:
        return None

    def respond(self, path: str, query: Mapping[str, str], now: datetime) -> Json | None:
        request = parse_path(path)
        if not _unfiltered(request) or request is None or request.round == "last":
            return None
        season = int(str(request.season))
        round_ = None if request.round is None else int(request.round)
        page = page_bounds(query)
        endpoint = request.endpoint
        header: Json = {"season": str(season)}
        if round_ is not None:
            header["round"] = str(round_)
        if endpoint == "races":
            return self._schedule(path, page, season, round_, header)
        if endpoint in _ROWS:
            return self._rows(path, page, endpoint, season, round_, header)
        if endpoint in _STANDINGS:
            return self._standings(path, page, endpoint, season, round_, header)
        if endpoint in _PEOPLE and round_ is None:
            held = self._index.people.get((endpoint, season))
            if held is None:
                return None
            table, items_key = _PEOPLE[endpoint]
            return _paged(path, page, table, header, items_key, held.value)
        return None

    def _schedule(
        self, path: str, page: tuple[int, int], season: int, round_: int | None, header: Json
    ) -> Json | None:
        held = self._index.schedules.get(season)
        if held is None:
            return None
        races = [r for r in held.value if round_ is None or int(r["round"]) == round_]
        return _paged(path, page, "RaceTable", header, "Races", races)

    def _rows(
        self,
        path: str,
        page: tuple[int, int],
        endpoint: str,
        season: int,
        round_: int | None,
        header: Json,
    ) -> Json | None:
        races = sorted(
            (key[2], held.value)
            for key, held in self._index.races.items()
            if key[0] == endpoint and key[1] == season and round_ in (None, key[2])
        )
        if not races:
            return None
        key = _ROWS[endpoint]
        rows = [(number, race, row) for number, race in races for row in race.get(key) or []]
        limit, offset = page
        chosen = rows[offset : offset + limit]
        items = [{**_head(race, key), key: group} for race, group in _by_race(chosen)]
        content = {**header, "Races": items}
        return js.envelope(path, (limit, offset, len(rows)), "RaceTable", content)

    def _standings(
        self,
        path: str,
        page: tuple[int, int],
        endpoint: str,
        season: int,
        round_: int | None,
        header: Json,
    ) -> Json | None:
        if round_ is None:
            held = self._index.latest.get((endpoint, season))
        else:
            held = self._index.standings.get((endpoint, season, round_))
        if held is None:
            return None
        key = _STANDINGS[endpoint]
        item: Json = held.value
        entries = item.get(key) or []
        limit, offset = page
        chosen = entries[offset : offset + limit]
        lists = [{**_head(item, key), key: chosen}] if chosen else []
        content = {**header, "StandingsLists": lists}
        return js.envelope(path, (limit, offset, len(entries)), "StandingsTable", content)


def _head(item: Mapping[str, Any], rows_key: str) -> Json:
    return {name: value for name, value in item.items() if name != rows_key}


def _by_race(
    rows: Sequence[tuple[int, Json, Json]],
) -> Iterator[tuple[Json, list[Json]]]:
    """Consecutive rows of one round (rows are in round order): the race and its rows."""
    for _number, group in groupby(rows, key=lambda row: row[0]):
        members = list(group)
        yield members[0][1], [row for _, _, row in members]


def _paged(
    path: str, page: tuple[int, int], table: str, header: Json, items_key: str, items: list[Any]
) -> Json:
    limit, offset = page
    content = {**header, items_key: items[offset : offset + limit]}
    return js.envelope(path, (limit, offset, len(items)), table, content)
