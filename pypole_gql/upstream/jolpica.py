"""The Jolpica F1 API (Ergast-compatible): whole tables, parsed into domain objects.

Every method fetches a complete table: pages of ``limit=100`` (Jolpica's maximum) until
``total`` is reached, the pages after the first in parallel, and a race whose rows were
split across two pages merged back into one. Season-wide endpoints
(``/{season}/results``) are used rather than one request per round: a 22-round season's
440 results cost 5 requests instead of 22.

Each request first takes a slot from the outbound budget (:class:`OutboundBudget`), so
all instances together stay within Jolpica's anonymous limits.

Parsed objects keep Jolpica's objects in ``raw`` (see :mod:`pypole_gql.domain.f1`); the
``parse_*`` functions (:mod:`.jolpica_parse`) are public because the service re-parses
what it cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pypole_gql.domain.f1 import (
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    JolpicaPitStop,
    QualifyingResult,
    Race,
    RaceResult,
    Schedule,
    SeasonTable,
    Standings,
)
from pypole_gql.logging import get_logger
from pypole_gql.upstream.budget import OutboundBudget
from pypole_gql.upstream.http import HttpClient
from pypole_gql.upstream.jolpica_parse import (
    MalformedResponse,
    parse_all,
    parse_constructor,
    parse_constructor_standings,
    parse_driver,
    parse_driver_standings,
    parse_pit_stops,
    parse_qualifying,
    parse_race,
    parse_results,
    parse_schedule,
)

log = get_logger("pypole.jolpica")

UPSTREAM: Final = "Jolpica"
PAGE_LIMIT: Final = 100
"""Jolpica's largest page."""

Season = int | str
"""A season number, or ``"current"``."""


@dataclass(frozen=True, slots=True)
class _Table:
    """The merged items of every page of one table, and the table's header values."""

    header: Mapping[str, Any]
    items: list[dict[str, Any]]


class JolpicaClient:
    """Typed access to Jolpica; one instance per app, built in the lifespan.

    ``base_url`` is the API root (``https://api.jolpi.ca/ergast/f1``). Every method
    raises :class:`UpstreamUnavailable` (or its :class:`BudgetExceeded`) when Jolpica
    cannot answer; an unknown season, round or driver is an empty answer, not an error,
    as it is at Jolpica.
    """

    def __init__(self, http: HttpClient, base_url: str, budget: OutboundBudget) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._budget = budget

    # -- schedule ------------------------------------------------------------------------

    async def schedule(self, season: Season) -> Schedule:
        """The season's races with their sessions; ``season`` may be ``"current"``."""
        table = await self._table(f"{season}", "RaceTable", "Races")
        return parse_schedule(_header_season(table.header, season), table.items)

    async def next_race(self) -> Race | None:
        """The next race as Jolpica sees it (into the next season when this one is over)."""
        table = await self._table("current/next", "RaceTable", "Races")
        return parse_race(table.items[0]) if table.items else None

    # -- results-like tables --------------------------------------------------------------

    async def results(self, season: int) -> SeasonTable[RaceResult]:
        """Every race result of the season, all rounds."""
        table = await self._table(f"{season}/results", "RaceTable", "Races")
        return parse_results(season, _merge_rounds(table.items, "Results"), "Results")

    async def sprint(self, season: int) -> SeasonTable[RaceResult]:
        """Every sprint result of the season (rounds without a sprint are absent)."""
        table = await self._table(f"{season}/sprint", "RaceTable", "Races")
        return parse_results(season, _merge_rounds(table.items, "SprintResults"), "SprintResults")

    async def qualifying(self, season: int) -> SeasonTable[QualifyingResult]:
        """Every qualifying result of the season, all rounds."""
        table = await self._table(f"{season}/qualifying", "RaceTable", "Races")
        return parse_qualifying(season, _merge_rounds(table.items, "QualifyingResults"))

    async def pit_stops(self, season: int, round_: int) -> tuple[JolpicaPitStop, ...]:
        """Every pit stop of one race, in Jolpica's order (empty for an unknown race)."""
        table = await self._table(f"{season}/{round_}/pitstops", "RaceTable", "Races")
        rows = [row for race in _merge_rounds(table.items, "PitStops") for row in race["PitStops"]]
        return parse_pit_stops(rows)

    # -- standings -------------------------------------------------------------------------

    async def driver_standings(
        self, season: int, round_: int | None = None
    ) -> Standings[DriverStanding]:
        """The drivers' championship after ``round_`` (after the latest round when None)."""
        path = _standings_path(season, round_, "driverstandings")
        table = await self._table(path, "StandingsTable", "StandingsLists")
        return parse_driver_standings(season, _merge_rounds(table.items, "DriverStandings"))

    async def constructor_standings(
        self, season: int, round_: int | None = None
    ) -> Standings[ConstructorStanding]:
        """The constructors' championship after ``round_`` (the latest round when None)."""
        path = _standings_path(season, round_, "constructorstandings")
        table = await self._table(path, "StandingsTable", "StandingsLists")
        return parse_constructor_standings(
            season, _merge_rounds(table.items, "ConstructorStandings")
        )

    # -- people ---------------------------------------------------------------------------

    async def drivers(self, season: int) -> tuple[Driver, ...]:
        """The drivers who took part in the season."""
        table = await self._table(f"{season}/drivers", "DriverTable", "Drivers")
        return parse_all(table.items, parse_driver)

    async def constructors(self, season: int) -> tuple[Constructor, ...]:
        """The constructors that took part in the season."""
        table = await self._table(f"{season}/constructors", "ConstructorTable", "Constructors")
        return parse_all(table.items, parse_constructor)

    async def driver(self, driver_id: str) -> Driver | None:
        """One driver by Jolpica id, None when Jolpica does not know it."""
        table = await self._table(f"drivers/{driver_id}", "DriverTable", "Drivers")
        drivers = parse_all(table.items, parse_driver)
        return drivers[0] if drivers else None

    # -- fetching -------------------------------------------------------------------------

    async def _table(self, path: str, table_key: str, items_key: str) -> _Table:
        """All pages of one table: the first to learn ``total``, then the rest in parallel."""
        first = await self._page(path, table_key, items_key, 0)
        header, items, total, limit = first
        if total > len(items):
            # Jolpica may cap ``limit`` below what we asked: step by what it used.
            offsets = range(limit, total, limit)
            try:
                # A TaskGroup, not gather: when one page fails the others are cancelled
                # instead of spending the budget on a table that cannot be completed.
                async with asyncio.TaskGroup() as group:
                    tasks = [
                        group.create_task(self._page(path, table_key, items_key, offset))
                        for offset in offsets
                    ]
            except ExceptionGroup as failed:
                raise failed.exceptions[0] from None
            for task in tasks:
                items.extend(task.result()[1])
        return _Table(header=header, items=items)

    async def _page(
        self, path: str, table_key: str, items_key: str, offset: int
    ) -> tuple[Mapping[str, Any], list[dict[str, Any]], int, int]:
        url = f"{self._base}/{path}.json"
        body = await self._http.get_json(
            url,
            params={"limit": PAGE_LIMIT, "offset": offset},
            upstream=UPSTREAM,
            before_attempt=self._budget.acquire,
        )
        try:
            data = body["MRData"]
            table = data[table_key]
            items = table.get(items_key, [])
            total = int(data["total"])
            limit = int(data.get("limit", PAGE_LIMIT)) or PAGE_LIMIT
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise TypeError(f"{items_key} is not a list of objects")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error("jolpica.malformed", url=url, offset=offset, error=repr(exc))
            raise MalformedResponse() from exc
        header = {key: value for key, value in table.items() if key != items_key}
        return header, list(items), total, limit


# -- merging pages ------------------------------------------------------------------------


def _merge_rounds(items: Iterable[Mapping[str, Any]], rows_key: str) -> list[dict[str, Any]]:
    """One object per (season, round) with all its rows, in first-seen order.

    Pages split rows, not races: a race (or a standings list) whose rows straddle two
    pages comes back as two objects, each with part of ``rows_key``.
    """
    merged: dict[tuple[object, object], dict[str, Any]] = {}
    for item in items:
        key = (item.get("season"), item.get("round"))
        existing = merged.get(key)
        rows = list(item.get(rows_key) or [])
        if existing is None:
            merged[key] = {**item, rows_key: rows}
        else:
            existing[rows_key].extend(rows)
    return list(merged.values())


def _standings_path(season: int, round_: int | None, endpoint: str) -> str:
    return f"{season}/{endpoint}" if round_ is None else f"{season}/{round_}/{endpoint}"


def _header_season(header: Mapping[str, Any], requested: Season) -> int:
    value = header.get("season")
    if value is not None:
        return int(value)
    if isinstance(requested, int):
        return requested
    # ``current`` with an empty table and no season in the header: nothing better to say.
    return datetime.now(UTC).year
