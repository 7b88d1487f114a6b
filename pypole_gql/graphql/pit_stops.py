"""GraphQL type of a pit stop as Jolpica lists it (``Race.pitStops``)."""

from __future__ import annotations

import strawberry

from pypole_gql.domain import f1 as domain
from pypole_gql.graphql import f1_loaders
from pypole_gql.graphql.context import Info
from pypole_gql.graphql.drivers import Driver


@strawberry.type(description="A pit stop as Jolpica lists it (its /pitstops).")
class JolpicaPitStop:
    driver_id: str = strawberry.field(description="Jolpica's driverId, e.g. hamilton.")
    stop: int = strawberry.field(description="The driver's stop number in the race, from 1.")
    lap: int = strawberry.field(description="The lap on which the car came in.")
    time: str | None = strawberry.field(
        description='Time of day of the stop, local to the circuit, as sent ("16:58:07").'
    )
    duration: float | None = strawberry.field(
        description="Jolpica's duration in seconds: the time through the pit lane, entry to "
        'exit, not the time stationary ("1:02.345" is read as minutes).'
    )
    _season: strawberry.Private[int]

    @classmethod
    def of(cls, stop: domain.JolpicaPitStop, season: int) -> JolpicaPitStop:
        return cls(
            driver_id=stop.driver_id,
            stop=stop.stop,
            lap=stop.lap,
            time=stop.time,
            duration=stop.duration,
            _season=season,
        )

    @strawberry.field(description="The driver; null when the season's drivers do not list it.")
    async def driver(self, info: Info) -> Driver | None:
        for found in await f1_loaders.drivers(info).load(self._season):
            if found.driver_id == self.driver_id:
                return Driver.of(found)
        return None
