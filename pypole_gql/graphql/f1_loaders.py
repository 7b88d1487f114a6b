"""The per-request DataLoaders over :class:`F1Service`: one service call per distinct key
(a season, a season and round), all of a request's keys asked concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from pypole_gql.domain import f1 as domain
from pypole_gql.graphql.context import Info
from pypole_gql.services.f1 import F1Service

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def service(info: Info) -> F1Service:
    return info.context.resources.f1


def _loader(
    info: Info, name: str, fetch: Callable[[F1Service, K], Awaitable[V]]
) -> DataLoader[K, V]:
    """The request's loader ``name``: one service call per distinct key, all concurrent."""
    f1 = service(info)

    async def load(keys: list[K]) -> Sequence[V | BaseException]:
        # One failing key (a season Jolpica cannot serve) fails only the fields under it.
        return await asyncio.gather(*(fetch(f1, key) for key in keys), return_exceptions=True)

    return info.context.loader(("f1", name), lambda: DataLoader(load_fn=load))


def schedules(info: Info) -> DataLoader[int, domain.Schedule]:
    return _loader(info, "schedule", F1Service.schedule)


def results(info: Info) -> DataLoader[int, domain.SeasonTable[domain.RaceResult]]:
    return _loader(info, "results", F1Service.results)


def sprints(info: Info) -> DataLoader[int, domain.SeasonTable[domain.RaceResult]]:
    return _loader(info, "sprint", F1Service.sprint)


def qualifying(info: Info) -> DataLoader[int, domain.SeasonTable[domain.QualifyingResult]]:
    return _loader(info, "qualifying", F1Service.qualifying)


def driver_standings(
    info: Info,
) -> DataLoader[tuple[int, int | None], domain.Standings[domain.DriverStanding]]:
    return _loader(info, "driver_standings", lambda s, key: s.driver_standings(*key))


def constructor_standings(
    info: Info,
) -> DataLoader[tuple[int, int | None], domain.Standings[domain.ConstructorStanding]]:
    return _loader(info, "constructor_standings", lambda s, key: s.constructor_standings(*key))


def drivers(info: Info) -> DataLoader[int, tuple[domain.Driver, ...]]:
    return _loader(info, "drivers", F1Service.drivers)


def constructors(info: Info) -> DataLoader[int, tuple[domain.Constructor, ...]]:
    return _loader(info, "constructors", F1Service.constructors)


def driver(info: Info) -> DataLoader[str, domain.Driver | None]:
    return _loader(info, "driver", F1Service.driver)


def pit_stops(info: Info) -> DataLoader[tuple[int, int], tuple[domain.JolpicaPitStop, ...]]:
    return _loader(info, "pit_stops", lambda s, key: s.pit_stops(*key))
