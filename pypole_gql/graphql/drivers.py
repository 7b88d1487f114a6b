"""The GraphQL ``Driver`` type (below both the championship and the session types)."""

from __future__ import annotations

import datetime as dt

import strawberry

from pypole_gql.domain import f1 as domain


@strawberry.type(description="A Formula One driver, as Jolpica (the Ergast successor) knows them.")
class Driver:
    driver_id: strawberry.ID = strawberry.field(
        description="Jolpica's driver id, e.g. max_verstappen; stable across seasons."
    )
    code: str | None = strawberry.field(
        description="Three-letter code, e.g. VER; null for many drivers of earlier eras."
    )
    permanent_number: int | None = strawberry.field(
        description="Permanent car number (used since 2014); null for a driver without one."
    )
    given_name: str = strawberry.field(description="Given name, e.g. Max.")
    family_name: str = strawberry.field(description="Family name, e.g. Verstappen.")
    nationality: str | None = strawberry.field(
        description="Nationality as an adjective, e.g. Dutch; null when unknown."
    )
    date_of_birth: dt.date | None = strawberry.field(
        description="Date of birth; null when unknown."
    )
    url: str | None = strawberry.field(
        description="URL of the driver's Wikipedia page; null when unknown."
    )

    @classmethod
    def of(cls, driver: domain.Driver) -> Driver:
        return cls(
            driver_id=strawberry.ID(driver.driver_id),
            code=driver.code,
            permanent_number=driver.permanent_number,
            given_name=driver.given_name,
            family_name=driver.family_name,
            nationality=driver.nationality,
            date_of_birth=driver.date_of_birth,
            url=driver.url,
        )
