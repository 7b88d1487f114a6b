"""Dashboard widgets over GraphQL (:class:`~pypole_gql.services.widgets.WidgetService`).

A widget's ``data`` is the JSON the REST route ``/api/v1/widgets/data/{id}`` sends (its shape
depends on the widget): signed in, the favourites are the account's; without a token, the
public variant.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from pypole_gql.domain import widgets as domain
from pypole_gql.graphql.auth import viewer
from pypole_gql.graphql.context import Info
from pypole_gql.rest.shapes import plain
from pypole_gql.services.widgets import WidgetService


@strawberry.type(description="A widget the dashboard can show.")
class WidgetInfo:
    id: strawberry.ID = strawberry.field(description="The widget's id, e.g. next_race.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What it shows.")
    category: str = strawberry.field(description="schedule, standings, personalized, ...")
    size: str = strawberry.field(description="small, medium or large.")
    personal: bool = strawberry.field(description="Shows the signed-in user's data.")


@strawberry.type(description="A widget's data.")
class WidgetData:
    widget_id: strawberry.ID = strawberry.field(description="The widget.")
    data: JSON | None = strawberry.field(
        description="As the REST route sends it; null with a message or an error."
    )
    message: str | None = strawberry.field(description="Why there is nothing to show yet.")
    error: str | None = strawberry.field(
        description="An unknown widget, a favourite not in the season, data unavailable."
    )


def _info(w: domain.WidgetInfo) -> WidgetInfo:
    return WidgetInfo(
        id=strawberry.ID(w.id),
        name=w.name,
        description=w.description,
        category=w.category.value,
        size=w.size.value,
        personal=w.personal,
    )


@strawberry.type
class WidgetQuery:
    @strawberry.field(description="Every widget the dashboard can show.")
    def widgets(self) -> list[WidgetInfo]:
        return [_info(w) for w in WidgetService.available()]

    @strawberry.field(
        description="A widget's data: the signed-in user's (favourites, predictions) with a "
        "bearer token, else the public variant."
    )
    async def widget(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The widget's id.")],
    ) -> WidgetData:
        principal = await viewer(info)
        user = None if principal is None else principal.user
        result = await info.context.resources.widgets.data(str(id), user)
        data: Any = None if result.data is None else plain(result.data)
        return WidgetData(
            widget_id=strawberry.ID(result.widget_id),
            data=data,
            message=result.message,
            error=result.error,
        )
