"""``/api/v1/health``: the older backend's health route, answering as ``/health/ready``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.resources import get_resources
from pypole_gql.rest.responses import errors
from pypole_gql.rest.schemas import HealthBody
from pypole_gql.web.responses import ORJSONResponse

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthBody,
    operation_id="health",
    summary="Readiness, as `/health/ready` answers it",
    description="The older backend's health route. 503 (with the same body) when a "
    "dependency is failing; a check that does not answer within 3 s counts as failing.",
    responses={
        **errors(),
        503: {"model": HealthBody, "description": "A dependency is failing"},
    },
)
async def health(request: Request) -> Response:
    body, status = await get_resources(request).readiness_report()
    return ORJSONResponse(body, status_code=status)
