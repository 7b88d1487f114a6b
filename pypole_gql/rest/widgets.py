"""``/api/v1/widgets``: the dashboard's widget catalogue and each widget's data
(:class:`~pypole_gql.services.widgets.WidgetService`).

A widget's data is always a 200: an unknown widget, a favourite not in the season or an
upstream failure is the body's ``error``, nothing to show yet its ``message`` (as the older
backend answered). The signed-in route uses the account's favourites; the public one shows
no personal data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.widgets import WidgetInfo, WidgetResult
from pypole_gql.resources import get_resources
from pypole_gql.rest.auth import Me
from pypole_gql.rest.responses import errors
from pypole_gql.rest.shapes import envelope, list_of, model_of, plain
from pypole_gql.services.widgets import WidgetService
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(prefix="/widgets", tags=["widgets"])
WidgetsBody = envelope(
    "WidgetsBody",
    "Every widget the dashboard can show.",
    widgets=list_of(WidgetInfo),
)
WidgetId = Annotated[
    str, Path(description="A widget's `id` from `/widgets/available`", max_length=64)
]
_DATA = (
    "`data` is the widget's (its shape depends on the widget), null with a `message` when "
    "there is nothing to show yet, or with an `error` (an unknown widget, a favourite not in "
    "the season, data unavailable)."
)

#: An unknown widget is a 200 with ``error`` (as the older backend answered); a 404 is only
#: the router's, for a path that is not one of these routes (an empty or split widget id).
_NO_ROUTE = "No such route: the widget id is not one path segment"


@router.get(
    "/available",
    response_model=WidgetsBody,
    operation_id="available_widgets",
    summary="The widget catalogue",
    responses=errors(),
)
async def available() -> Response:
    return ORJSONResponse({"widgets": plain(WidgetService.available())})


@router.get(
    "/data/{widget_id}",
    response_model=model_of(WidgetResult),
    operation_id="widget_data",
    summary="A widget's data for the signed-in user",
    description=f"Favourites come from the account's preferences. {_DATA}",
    responses=errors(401, 403, 404, 422, 503, notes={404: _NO_ROUTE}),
)
async def data(request: Request, widget_id: WidgetId, me: Me) -> Response:
    result = await get_resources(request).widgets.data(widget_id, me.user)
    return ORJSONResponse(plain(result))


@router.get(
    "/data/{widget_id}/public",
    response_model=model_of(WidgetResult),
    operation_id="public_widget_data",
    summary="A widget's data, without personal data",
    description=f"The personal widgets answer a `message` asking to sign in. {_DATA}",
    responses=errors(404, 422, notes={404: _NO_ROUTE}),
)
async def public_data(request: Request, widget_id: WidgetId) -> Response:
    return ORJSONResponse(plain(await get_resources(request).widgets.data(widget_id, None)))
