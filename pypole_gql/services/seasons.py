"""Which season "the current one" is, and the fallback to the previous one before it starts.

The frontend's routes leave the season out to mean "now". Now is Jolpica's ``current``
season (the calendar year; in the offline demo the replay's ``--now``), never the server's
own clock, so one answer holds for every route. Before the first race of a year the
current season has no standings yet; pages that need some (favourites, the leader widget)
show the previous season's instead, and say which season they show.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pypole_gql.domain import params
from pypole_gql.domain.f1 import ConstructorStanding, DriverStanding, Standings
from pypole_gql.services.f1 import F1Service


async def current_season(f1: F1Service) -> int:
    """The season Jolpica calls ``current`` (one cached calendar read)."""
    return (await f1.current_schedule()).season


async def resolve_season(f1: F1Service, season: int | None) -> int:
    """``season`` checked, or the current season when it is ``None``."""
    if season is None:
        return await current_season(f1)
    return params.season(season, f1.current_year())


E = TypeVar("E", DriverStanding, ConstructorStanding)


async def _latest(
    f1: F1Service, season: int | None, table_of: Callable[[int], Awaitable[Standings[E]]]
) -> Standings[E]:
    """The table ``table_of`` gives for ``season``, or for the season before it (below)."""
    year = await resolve_season(f1, season)
    table = await table_of(year)
    if not table.entries and year > params.FIRST_SEASON:
        previous = await table_of(year - 1)
        if previous.entries:
            return previous
    return table


async def latest_driver_standings(
    f1: F1Service, season: int | None = None
) -> Standings[DriverStanding]:
    """The drivers' standings of ``season`` (default current), or of the season before it
    when that one has none yet. Empty only when neither has any."""
    return await _latest(f1, season, f1.driver_standings)


async def latest_constructor_standings(
    f1: F1Service, season: int | None = None
) -> Standings[ConstructorStanding]:
    """As :func:`latest_driver_standings`, for the constructors' championship."""
    return await _latest(f1, season, f1.constructor_standings)
