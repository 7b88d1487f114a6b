"""Jolpica (Ergast-compatible) responses generated from the Ergast CSV database.

The offline replay upstream serves recorded Jolpica responses when a request matches a
recording and asks :class:`ErgastCsvDatabase` otherwise, so season-wide and paginated
requests get answers in the same envelope, field layout and pagination as Jolpica's.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from pypole_gql.replay import ergast_json as js
from pypole_gql.replay.ergast_csv import (
    Circuit,
    Constructor,
    Driver,
    ErgastTables,
    PitStop,
    Qualifying,
    Race,
    Result,
    Standing,
    load_tables,
)
from pypole_gql.replay.ergast_path import FILTERS, ErgastPath, page_bounds, parse_path
from pypole_gql.replay.jolpica_forms import JolpicaForms, RaceTiming

Json = dict[str, Any]
Row = TypeVar("Row")

#: Where :meth:`ErgastCsvDatabase.after_last_results` puts the clock, counted from the start
#: of the last race with results: that race is over and its results are in.
AFTER_LAST_RESULTS = timedelta(days=1)
# Order of the filter keys Jolpica echoes in a table header.
_HEADER_ORDER = (
    "season",
    "round",
    "circuitId",
    "constructorId",
    "driverId",
    "fastest",
    "grid",
    "lap",
    "position",
    "status",
    "stop",
    "driverStandings",
    "constructorStandings",
)
# Endpoints that take a trailing value, and the header key it is echoed under (None: not
# echoed; Jolpica leaves qualifying/N and sprint/N out of the header).
_ENDPOINT_VALUE_KEYS: dict[str, str | None] = {
    "results": "position",
    "qualifying": None,
    "sprint": None,
    "status": "status",
    "pitstops": "stop",
    "drivers": "driverId",
    "constructors": "constructorId",
    "circuits": "circuitId",
    "driverstandings": "driverStandings",
    "constructorstandings": "constructorStandings",
}
# Endpoints whose trailing value is a position in their own table.
_OWN_POSITION = frozenset({"qualifying", "sprint", "driverstandings", "constructorstandings"})


@dataclass(frozen=True, slots=True)
class _Criteria:
    """What a request selects, once ``current``/``last``/``next`` have been resolved."""

    season: int | None = None
    round: int | None = None
    circuit: str | None = None
    constructor: str | None = None
    driver: str | None = None
    grid: int | None = None
    position: int | None = None
    """results/N: the race finishing position."""
    fastest: int | None = None
    status: int | None = None
    lap: int | None = None
    stop: int | None = None
    own_position: int | None = None
    """qualifying/N, sprint/N, driverStandings/N: the position in the endpoint's table."""
    nothing: bool = False
    """``last``/``next`` name no race, so every table is empty."""

    def has(self, *names: str) -> bool:
        return any(getattr(self, name) is not None for name in names)

    def has_only(self, *names: str) -> bool:
        """Nothing is selected but (optionally) the fields ``names``."""
        return not self.nothing and all(
            getattr(self, f.name) is None
            for f in dataclasses.fields(self)
            if f.name != "nothing" and f.name not in names
        )


_RACE_RESULT_FILTERS = ("driver", "constructor", "grid", "position", "fastest", "status")


@dataclass(frozen=True, slots=True)
class _Listing(Generic[Row]):
    """The rows an endpoint selects (``total`` counts them) and how to render a page."""

    table: str
    items_key: str
    rows: Sequence[Row]
    render: Callable[[Sequence[Row]], list[Json]]


class ErgastCsvDatabase:
    """Answers Jolpica ``/ergast/f1/...`` requests from the Ergast CSV database.

    Supported: the schedule, results, sprint, qualifying, driver and constructor standings,
    drivers, constructors, circuits, seasons, status and pit stops; the ``{season}`` and
    ``{season}/{round}`` prefix with ``current``, ``last`` and ``next``; the Ergast filters
    ``circuits``, ``constructors``, ``drivers``, ``grid``, ``results``, ``fastest`` and
    ``status`` (``laps`` and ``pitstops`` for pit stops); and a trailing position or id
    (``results/1``, ``driverStandings/1``, ``drivers/alonso``). Not supported: laps, which
    the CSV database does not hold.

    Rows are in the CSV's forms; :meth:`with_forms` gives the same database answering in
    Jolpica's current forms wherever ``forms`` has them (see
    :mod:`pypole_gql.replay.jolpica_forms`). Filters still select on the CSV's values.
    """

    def __init__(self, tables: ErgastTables, forms: JolpicaForms | None = None) -> None:
        self._tables = tables
        self._forms = forms
        self._teams: dict[int, dict[int, list[tuple[int, Constructor]]]] = {}
        self._endpoints: dict[str, Callable[[_Criteria], _Listing[Any] | None]] = {
            "races": self._races,
            "results": self._results,
            "sprint": self._sprint,
            "qualifying": self._qualifying,
            "driverstandings": self._driver_standings,
            "constructorstandings": self._constructor_standings,
            "drivers": self._drivers,
            "constructors": self._constructors,
            "circuits": self._circuits,
            "seasons": self._seasons,
            "status": self._status,
            "pitstops": self._pit_stops,
        }

    @classmethod
    def load(cls, csv_dir: Path) -> ErgastCsvDatabase:
        """Read and index the CSV database in ``csv_dir`` (about half a second)."""
        return cls(load_tables(csv_dir))

    def with_forms(self, forms: JolpicaForms) -> ErgastCsvDatabase:
        """The same tables, rendered in Jolpica's forms where ``forms`` has them."""
        return ErgastCsvDatabase(self._tables, forms)

    def respond(self, path: str, query: Mapping[str, str], now: datetime) -> Json | None:
        """The full Jolpica JSON body (``{"MRData": ...}``) for a request.

        ``path`` is the part after ``/ergast/f1/`` (``2023/5/results.json``, ``2023``,
        ``2023/races/``, ``current/next.json``); keywords are matched without regard to case.
        ``query`` gives ``limit`` (default 30, larger values clamped to 100) and ``offset``;
        other parameters are ignored. ``now`` resolves ``current``, ``last`` and ``next``
        (a naive ``now`` is taken as UTC).

        Returns ``None`` for a malformed path or one this database cannot answer (laps,
        filters an endpoint does not take), which the caller answers with a 404. An unknown
        season or round is no error: Jolpica answers it with ``total`` 0 and an empty table.
        """
        parsed = parse_path(path)
        if parsed is None:
            return None
        endpoint = self._endpoints.get(parsed.endpoint)
        if endpoint is None:
            return None
        if parsed.endpoint_value is not None and parsed.endpoint not in _ENDPOINT_VALUE_KEYS:
            return None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        criteria = self._criteria(parsed, now)
        listing = endpoint(criteria)
        if listing is None:
            return None
        limit, offset = page_bounds(query)
        page = listing.rows[offset : offset + limit]
        return js.envelope(
            path,
            (limit, offset, len(listing.rows)),
            listing.table,
            {**_header(parsed, criteria), listing.items_key: listing.render(page)},
        )

    def after_last_results(self) -> datetime | None:
        """A moment just after the last race that has results: :data:`AFTER_LAST_RESULTS`
        after its start, or a second before the following race starts if that is sooner.

        As ``now`` it makes ``current`` that race's season, ``last`` that race and ``next``
        the race after it (none when it was the season's and the database's last).
        ``None`` when no race has results.
        """
        races = self._tables.races
        scored = [
            index for index, race in enumerate(races) if race.id in self._tables.results_by_race
        ]
        if not scored:
            return None
        last = races[scored[-1]]
        moment = last.starts_at + AFTER_LAST_RESULTS
        if scored[-1] + 1 < len(races):
            moment = min(moment, races[scored[-1] + 1].starts_at - timedelta(seconds=1))
        return moment

    # -- request resolution ------------------------------------------------------------------

    def _criteria(self, parsed: ErgastPath, now: datetime) -> _Criteria:
        season: int | None = None
        round_: int | None = None
        nothing = False
        if parsed.season == "current":
            season = now.year
        elif parsed.season is not None:
            season = int(parsed.season)
        if parsed.round in ("last", "next"):
            race = self._last_or_next(parsed.round, parsed.season, now)
            if race is None:
                nothing = True
            else:
                season, round_ = race.season, race.round
        elif parsed.round is not None:
            round_ = int(parsed.round)

        values = dict(parsed.filters)
        own_position: int | None = None
        if parsed.endpoint_value is not None:
            if parsed.endpoint in _OWN_POSITION:
                own_position = int(parsed.endpoint_value)
            else:
                values[parsed.endpoint] = parsed.endpoint_value

        def number(keyword: str) -> int | None:
            raw = values.get(keyword)
            return None if raw is None else int(raw)

        return _Criteria(
            season=season,
            round=round_,
            circuit=values.get("circuits"),
            constructor=values.get("constructors"),
            driver=values.get("drivers"),
            grid=number("grid"),
            position=number("results"),
            fastest=number("fastest"),
            status=number("status"),
            lap=number("laps"),
            stop=number("pitstops"),
            own_position=own_position,
            nothing=nothing,
        )

    def _last_or_next(self, which: str, season_token: str | None, now: datetime) -> Race | None:
        """``last``: the latest race under way by ``now``; ``next``: the race after it.

        Without a season, and with ``current``, this is over all seasons (so in January
        ``current/last`` is the previous season's finale); with a season, ``last`` is that
        season's latest started race and ``next`` follows it, into the next season if need be.
        """
        races = self._tables.races
        scope: Sequence[Race]
        if season_token in (None, "current"):
            scope = races
        else:
            scope = self._tables.races_by_season.get(int(season_token), [])
        started = [race for race in scope if race.starts_at <= now]
        last = started[-1] if started else None
        if which == "last":
            return last
        if last is None:
            return next((race for race in scope if race.starts_at > now), None)
        following = races.index(last) + 1
        return races[following] if following < len(races) else None

    # -- selection ---------------------------------------------------------------------------

    def _selected_races(self, criteria: _Criteria) -> list[Race]:
        if criteria.nothing:
            return []
        races: Iterable[Race]
        if criteria.season is not None:
            races = self._tables.races_by_season.get(criteria.season, [])
        else:
            races = self._tables.races
        return [race for race in races if _race_matches(race, criteria)]

    def _selected_results(self, criteria: _Criteria) -> list[Result]:
        """Race results (not sprints) matching every criterion."""
        tables = self._tables
        candidates: Iterable[Result]
        if criteria.nothing:
            return []
        if criteria.season is None and criteria.driver is not None:
            driver = tables.drivers.get(criteria.driver)
            candidates = tables.results_by_driver.get(driver.id, []) if driver else []
        elif criteria.season is None and criteria.constructor is not None:
            team = tables.constructors.get(criteria.constructor)
            candidates = tables.results_by_constructor.get(team.id, []) if team else []
        else:
            candidates = (
                result
                for race in self._selected_races(criteria)
                for result in tables.results_by_race.get(race.id, [])
            )
        return [
            result
            for result in candidates
            if _race_matches(result.race, criteria) and _result_matches(result, criteria)
        ]

    # -- endpoints ---------------------------------------------------------------------------

    def _races(self, criteria: _Criteria) -> _Listing[Race] | None:
        if criteria.has("lap", "stop"):
            return None
        if criteria.has(*_RACE_RESULT_FILTERS):
            races = _unique(result.race for result in self._selected_results(criteria))
        else:
            races = self._selected_races(criteria)
        return _Listing("RaceTable", "Races", races, _each(self._schedule_json))

    def _results(self, criteria: _Criteria) -> _Listing[Result] | None:
        if criteria.has("lap", "stop"):
            return None
        rows = self._selected_results(criteria)
        return _Listing("RaceTable", "Races", rows, self._results_with("Results"))

    def _sprint(self, criteria: _Criteria) -> _Listing[Result] | None:
        if criteria.has("lap", "stop"):
            return None
        # The result filters (grid, results, fastest, status) apply to the sprint itself.
        own = criteria.own_position
        if own is not None and criteria.position not in (None, own):
            return _Listing("RaceTable", "Races", [], _each(js.result_json))
        matching = dataclasses.replace(criteria, position=criteria.position or own)
        rows = [
            result
            for race in self._selected_races(criteria)
            for result in self._tables.sprints_by_race.get(race.id, [])
            if _result_matches(result, matching)
        ]
        return _Listing("RaceTable", "Races", rows, self._results_with("SprintResults"))

    def _qualifying(self, criteria: _Criteria) -> _Listing[Qualifying] | None:
        if criteria.has("lap", "stop"):
            return None
        # grid, results, fastest and status select on the same driver's race result
        # (2023/grid/1/qualifying: the qualifying of whoever started the race on pole).
        race_filters = _Criteria(
            grid=criteria.grid,
            position=criteria.position,
            fastest=criteria.fastest,
            status=criteria.status,
        )
        check_race = race_filters.has(*_RACE_RESULT_FILTERS)
        rows: list[Qualifying] = []
        for race in self._selected_races(criteria):
            results = self._tables.results_by_race.get(race.id, []) if check_race else []
            finishers = {r.driver.id for r in results if _result_matches(r, race_filters)}
            rows.extend(
                entry
                for entry in self._tables.qualifying_by_race.get(race.id, [])
                if (criteria.driver is None or entry.driver.ref == criteria.driver)
                and (criteria.constructor is None or entry.constructor.ref == criteria.constructor)
                and (criteria.own_position is None or entry.position == criteria.own_position)
                and (not check_race or entry.driver.id in finishers)
            )
        render = js.races_with("QualifyingResults", js.qualifying_json, self._race_json)
        return _Listing("RaceTable", "Races", rows, render)

    def _drivers(self, criteria: _Criteria) -> _Listing[Driver] | None:
        if criteria.has("lap", "stop"):
            return None
        if criteria.has_only("driver"):
            drivers = [d for d in self._tables.drivers.values() if _wanted(d.ref, criteria.driver)]
        else:
            drivers = _unique(result.driver for result in self._selected_results(criteria))
        drivers.sort(key=lambda d: (_collation_key(d.surname), _collation_key(d.forename)))
        return _Listing("DriverTable", "Drivers", drivers, _each(js.driver_json))

    def _constructors(self, criteria: _Criteria) -> _Listing[Constructor] | None:
        if criteria.has("lap", "stop"):
            return None
        if criteria.has_only("constructor"):
            teams = self._tables.constructors.values()
            constructors = [c for c in teams if _wanted(c.ref, criteria.constructor)]
        else:
            constructors = _unique(r.constructor for r in self._selected_results(criteria))
        constructors.sort(key=lambda c: (_collation_key(c.name), c.ref))
        return _Listing(
            "ConstructorTable", "Constructors", constructors, _each(js.constructor_json)
        )

    def _circuits(self, criteria: _Criteria) -> _Listing[Circuit] | None:
        if criteria.has_only("circuit"):
            circuits = [
                c for c in self._tables.circuits.values() if _wanted(c.ref, criteria.circuit)
            ]
        else:
            races = self._races(criteria)
            if races is None:
                return None
            circuits = _unique(race.circuit for race in races.rows)
        circuits.sort(key=lambda c: c.ref)
        return _Listing("CircuitTable", "Circuits", circuits, _each(js.circuit_json))

    def _seasons(self, criteria: _Criteria) -> _Listing[int] | None:
        races = self._races(criteria)
        if races is None:
            return None
        seasons = sorted({race.season for race in races.rows})
        urls = self._tables.season_urls
        return _Listing(
            "SeasonTable",
            "Seasons",
            seasons,
            lambda page: [js.season_json(season, urls.get(season)) for season in page],
        )

    def _status(self, criteria: _Criteria) -> _Listing[tuple[int, int]] | None:
        if criteria.has("lap", "stop"):
            return None
        counts = Counter(result.status_id for result in self._selected_results(criteria))
        statuses = self._tables.statuses
        # Jolpica lists the most frequent first (Ergast listed them by id).
        rows = sorted(counts.items(), key=lambda item: (-item[1], statuses[item[0]]))
        return _Listing(
            "StatusTable",
            "Status",
            rows,
            lambda page: [js.status_json(sid, count, statuses[sid]) for sid, count in page],
        )

    def _pit_stops(self, criteria: _Criteria) -> _Listing[PitStop] | None:
        # Ergast answers pit stops for one race only, filtered by driver, lap or stop.
        if criteria.has("circuit", "constructor", "grid", "position", "fastest", "status"):
            return None
        if not criteria.nothing and (criteria.season is None or criteria.round is None):
            return None
        rows = [
            stop
            for race in self._selected_races(criteria)
            for stop in self._tables.pit_stops_by_race.get(race.id, [])
            if _wanted(stop.driver.ref, criteria.driver)
            and criteria.lap in (None, stop.lap)
            and criteria.stop in (None, stop.stop)
        ]
        render = js.races_with("PitStops", js.pit_stop_json, self._race_json)
        return _Listing("RaceTable", "Races", rows, render)

    def _driver_standings(self, criteria: _Criteria) -> _Listing[Standing] | None:
        tables = self._tables
        driver = tables.drivers.get(criteria.driver) if criteria.driver else None
        team = tables.constructors.get(criteria.constructor) if criteria.constructor else None

        def keep(standing: Standing) -> bool:
            if criteria.driver is not None and (driver is None or standing.entrant_id != driver.id):
                return False
            return criteria.constructor is None or team in self._teams_of(standing)

        def render(page: Sequence[Standing]) -> list[Json]:
            return js.standings_lists(page, "DriverStandings", self._driver_standing_json)

        rows = self._standings(criteria, tables.driver_standings_by_race, keep)
        return None if rows is None else _Listing("StandingsTable", "StandingsLists", rows, render)

    def _constructor_standings(self, criteria: _Criteria) -> _Listing[Standing] | None:
        if criteria.driver is not None:
            return None
        tables = self._tables
        team = tables.constructors.get(criteria.constructor) if criteria.constructor else None

        def keep(standing: Standing) -> bool:
            if criteria.constructor is None:
                return True
            return team is not None and standing.entrant_id == team.id

        def render(page: Sequence[Standing]) -> list[Json]:
            return js.standings_lists(page, "ConstructorStandings", self._constructor_standing_json)

        rows = self._standings(criteria, tables.constructor_standings_by_race, keep)
        return None if rows is None else _Listing("StandingsTable", "StandingsLists", rows, render)

    # -- rendering in the database's forms ---------------------------------------------------

    def _timing(self, race: Race) -> RaceTiming | None:
        return None if self._forms is None else self._forms.race(race.season, race.round)

    def _race_json(self, race: Race) -> Json:
        return js.race_json(race, self._timing(race))

    def _schedule_json(self, race: Race) -> Json:
        return js.schedule_json(race, self._timing(race))

    def _results_with(self, key: str) -> Callable[[Sequence[Result]], list[Json]]:
        forms = self._forms

        def render(result: Result) -> Json:
            race = result.race
            form = forms.entry(race.season, race.round, key, result.driver.ref) if forms else None
            return js.result_json(result, form)

        return js.races_with(key, render, self._race_json)

    # -- standings ---------------------------------------------------------------------------

    def _standings(
        self,
        criteria: _Criteria,
        by_race: Mapping[int, list[Standing]],
        keep: Callable[[Standing], bool],
    ) -> list[Standing] | None:
        """Standings after the requested round, or after each season's last scored round."""
        if criteria.has("circuit", "grid", "position", "fastest", "status", "lap", "stop"):
            return None
        if criteria.nothing:
            return []
        seasons = (
            [criteria.season]
            if criteria.season is not None
            else sorted(self._tables.races_by_season)
        )
        rows: list[Standing] = []
        for season in seasons:
            scored = [
                race
                for race in self._tables.races_by_season.get(season, [])
                if race.id in by_race and criteria.round in (None, race.round)
            ]
            if not scored:
                continue
            rows.extend(
                standing
                for standing in by_race[scored[-1].id]
                if criteria.own_position in (None, standing.position) and keep(standing)
            )
        return rows

    def _teams_of(self, standing: Standing) -> list[Constructor]:
        """The teams a driver raced for in the season up to the standings' round."""
        race = standing.race
        teams = self._teams.get(race.season)
        if teams is None:
            teams = {}
            for earlier in self._tables.races_by_season[race.season]:
                for result in self._tables.results_by_race.get(earlier.id, []):
                    teams.setdefault(result.driver.id, []).append(
                        (earlier.round, result.constructor)
                    )
            self._teams[race.season] = teams
        entries = teams.get(standing.entrant_id, [])
        return _unique(team for round_, team in entries if round_ <= race.round)

    def _driver_standing_json(self, standing: Standing) -> Json:
        driver = self._tables.drivers_by_id[standing.entrant_id]
        return {
            **js.standing_json(standing),
            "Driver": js.driver_json(driver),
            "Constructors": [js.constructor_json(team) for team in self._teams_of(standing)],
        }

    def _constructor_standing_json(self, standing: Standing) -> Json:
        team = self._tables.constructors_by_id[standing.entrant_id]
        return {**js.standing_json(standing), "Constructor": js.constructor_json(team)}


# -- helpers -----------------------------------------------------------------------------------


def _header(parsed: ErgastPath, criteria: _Criteria) -> Json:
    """The filters echoed in the table, resolved (``current/last`` shows the real round)."""
    header: Json = {}
    if criteria.season is not None:
        header["season"] = str(criteria.season)
    if criteria.round is not None:
        header["round"] = str(criteria.round)
    for keyword, value in parsed.filters.items():
        header[FILTERS[keyword]] = value
    value_key = _ENDPOINT_VALUE_KEYS.get(parsed.endpoint)
    if parsed.endpoint_value is not None and value_key is not None:
        header[value_key] = parsed.endpoint_value
    return {key: header[key] for key in _HEADER_ORDER if key in header}


def _race_matches(race: Race, criteria: _Criteria) -> bool:
    return (
        criteria.season in (None, race.season)
        and criteria.round in (None, race.round)
        and _wanted(race.circuit.ref, criteria.circuit)
    )


def _result_matches(result: Result, criteria: _Criteria) -> bool:
    return (
        _wanted(result.driver.ref, criteria.driver)
        and _wanted(result.constructor.ref, criteria.constructor)
        and (criteria.grid is None or result.grid == str(criteria.grid))
        and (criteria.position is None or _finished_at(result, criteria.position))
        and (criteria.fastest is None or result.rank == str(criteria.fastest))
        and criteria.status in (None, result.status_id)
    )


def _finished_at(result: Result, position: int) -> bool:
    # results/N (and sprint/N) select finishers only, as Jolpica does: a retirement listed
    # 18th is not results/18, but a disqualified car keeps the place it crossed the line
    # in (Leclerc, 2023 United States GP, is results/20).
    if result.position is not None:
        return result.position == position
    return result.position_text == "D" and result.position_order == position


def _wanted(value: str, wanted: str | None) -> bool:
    return wanted is None or value == wanted


def _unique(items: Iterable[Row]) -> list[Row]:
    return list(dict.fromkeys(items))


def _each(render: Callable[[Row], Json]) -> Callable[[Sequence[Row]], list[Json]]:
    return lambda page: [render(row) for row in page]


def _collation_key(text: str) -> str:
    # Jolpica sorts names in PostgreSQL's en_US collation, where accents, case and spaces do
    # not decide the order ("de la Rosa" sorts between Coulthard and Diniz).
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()
