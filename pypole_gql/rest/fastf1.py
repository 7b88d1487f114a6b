"""``/api/v1/fastf1``: the older PyPole backend's FastF1 routes over :class:`SessionService`.

Shapes are that backend's (snake_case, lap times also as ``"m:ss.fff"``). An unknown
event, session, driver or lap is a 404 naming it, and so is a session whose timing data
is not published (yet), with the reason; a bad session type or year a 422; the upstream
down a 503 with ``Retry-After``. Never a 500.

A cold session takes seconds to load. A client that sends ``Prefer: respond-async``
(RFC 7240) is not held for it: the load starts in the background and the answer is a 202
with ``Retry-After`` and the session's status, until the session is ready. Without it the
request waits for the load, as it always did.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.params import DEFAULT_SESSION_TYPE
from pypole_gql.domain.sessions import fastest_lap, find_lap, require_driver, select_laps
from pypole_gql.errors import UpstreamUnavailable
from pypole_gql.resources import get_resources
from pypole_gql.rest.params import (
    DriverPath,
    DriverQuery,
    LapQuery,
    MaxPointsQuery,
    RacePath,
    SessionTypeQuery,
    YearPath,
)
from pypole_gql.rest.responses import errors, header_refs
from pypole_gql.rest.schemas import (
    AskedSession,
    DriverLapsBody,
    FastestLapBody,
    LapsBody,
    SessionLoadingBody,
    StintBody,
    StintsBody,
    TelemetryBody,
    lap_of,
    respond,
)
from pypole_gql.services.session_loads import RETRY_AFTER, SessionState, SessionStatus

#: The answer of every route over a loaded session (:data:`Asked`) to `Prefer: respond-async`
#: while the session loads.
LOADING_RESPONSE: dict[int | str, Any] = {
    202: {
        "model": SessionLoadingBody,
        "description": "Sent `Prefer: respond-async` and the session is still loading: "
        "ask again after `Retry-After` seconds",
        "headers": header_refs(("X-Request-ID", "Retry-After", "Preference-Applied")),
    }
}

router = APIRouter(
    prefix="/fastf1/race/{year}/{race}",
    tags=["fastf1"],
    responses={
        **LOADING_RESPONSE,
        **errors(
            404,
            422,
            503,
            notes={
                404: "Unknown event, session, driver or lap, or a session whose timing data "
                "is not published yet; the message names it"
            },
        ),
    },
)


class SessionLoading(Exception):
    """Answered as the 202 of a cold session asked for with ``Prefer: respond-async``."""

    def __init__(self, status: SessionStatus) -> None:
        super().__init__("The session is loading")
        self.status = status


async def session_loading(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SessionLoading)
    retry = exc.status.retry_after or RETRY_AFTER
    body = SessionLoadingBody(
        detail=f"The session is loading; retry after {retry} seconds",
        status=SessionState.LOADING.value,
        started_at=exc.status.started_at,
        waiting=exc.status.waiting,
    )
    response = respond(body, status_code=202)
    response.headers["Retry-After"] = str(retry)
    response.headers["Preference-Applied"] = "respond-async"
    return response


def respond_async(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header asks for ``respond-async`` (RFC 7240: comma-separated
    preferences, each ``token[=value][; params]``, case-insensitive)."""
    if not prefer:
        return False
    return any(
        part.split(";")[0].split("=")[0].strip().lower() == "respond-async"
        for part in prefer.split(",")
    )


PreferHeader = Annotated[
    str | None,
    Header(
        alias="Prefer",
        description="`respond-async`: do not wait for a cold session to load; answer 202 "
        "with `Retry-After` until it is ready (RFC 7240).",
    ),
]


async def _asked_session(
    request: Request,
    year: YearPath,
    race: RacePath,
    session_type: SessionTypeQuery = DEFAULT_SESSION_TYPE,
    prefer: PreferHeader = None,
) -> AskedSession:
    """The session the path and ``session_type`` name, loaded (or :class:`SessionLoading`)."""
    sessions = get_resources(request).sessions
    asked = sessions.request(year, race, session_type)
    if respond_async(prefer):
        status = await sessions.start_load(asked)
        if status.state is SessionState.LOADING:
            raise SessionLoading(status)
    data = await sessions.load(asked)
    return AskedSession(year, race, data)


Asked = Annotated[AskedSession, Depends(_asked_session)]


@router.get(
    "/laps",
    response_model=LapsBody,
    operation_id="session_laps",
    summary="Every lap of a session",
)
async def laps(asked: Asked) -> Response:
    return respond(LapsBody.of_laps(asked, asked.data.laps))


@router.get(
    "/driver/{driver}/laps",
    response_model=DriverLapsBody,
    operation_id="driver_laps",
    summary="One driver's laps of a session",
)
async def driver_laps(asked: Asked, driver: DriverPath) -> Response:
    found = require_driver(asked.data, driver)
    rows = select_laps(asked.data, [found.number])
    return respond(DriverLapsBody.of_laps(asked, rows, driver=found.code))


@router.get(
    "/telemetry",
    response_model=TelemetryBody,
    operation_id="lap_telemetry",
    summary="Car telemetry of one lap",
)
async def telemetry(
    request: Request,
    asked: Asked,
    driver: DriverQuery,
    lap: LapQuery,
    max_points: MaxPointsQuery = None,
) -> Response:
    data = asked.data
    found = get_resources(request).sessions.telemetry(data, driver, lap, max_points=max_points)
    if found is None:
        info = data.info
        raise UpstreamUnavailable(
            f"No telemetry available for {driver} in {info.year} {info.event_name} "
            f"{info.session_name}"
        )
    return respond(TelemetryBody.of_lap(asked, found, find_lap(data, driver, lap)))


@router.get(
    "/stints",
    response_model=StintsBody,
    operation_id="session_stints",
    summary="Tyre stints of a session",
)
async def stints(asked: Asked) -> Response:
    rows = [StintBody.of(stint) for stint in asked.data.stints]
    return respond(StintsBody.of(asked, stints=rows))


@router.get(
    "/fastest-lap",
    response_model=FastestLapBody,
    operation_id="fastest_lap",
    summary="The fastest lap of a session",
)
async def fastest(asked: Asked) -> Response:
    lap = fastest_lap(asked.data)
    if lap is None:
        body = FastestLapBody.of(asked, message="No valid lap times found", fastest_lap=None)
    else:
        body = FastestLapBody.of(asked, fastest_lap=lap_of(lap))
    return respond(body)
