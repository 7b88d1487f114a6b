"""The response bodies of the ``/api/v1`` routes, as pydantic models.

Each route declares its model (``response_model``) and its handler builds it: the OpenAPI
components come from these models, and a handler cannot send a field the model does not
list (the models are closed), so the document and the responses cannot drift apart.
:func:`respond` sends a built body. Request bodies and parameters are not here: they are the
domain's input models (:mod:`pypole_gql.domain.users`) and :mod:`pypole_gql.rest.params`.

Here: the base every body shares, the error, auth, lap and health bodies. The Jolpica
routes' bodies are :mod:`~.jolpica_schemas`, a session's records' :mod:`~.session_schemas`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    create_model,
    with_config,
)
from starlette.responses import Response
from typing_extensions import TypedDict

from pypole_gql.domain import sessions
from pypole_gql.domain.users import AuthSession, User
from pypole_gql.rest.params import SessionTypeName
from pypole_gql.web.responses import ORJSONResponse


class _Body(BaseModel):
    # Closed: a response field the model does not list is drift, caught by the contract tests.
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Fields holding :data:`Rows`, sent as they are (see :func:`respond`).
    rows_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.rows_fields = frozenset(
            name for name, info in cls.model_fields.items() if _ROWS in info.metadata
        )


class _RowsMarker:
    """Marks a field of :data:`Rows`."""


_ROWS = _RowsMarker()
_Row = TypeVar("_Row")
#: Hundreds of rows (laps, telemetry samples) of a typed-dict type: documented like any field,
#: built by builders that mypy checks against the type, and neither validated nor serialized
#: again one by one at run time (that would triple the cost of the laps and telemetry routes).
Rows = Annotated[SkipValidation[list[_Row]], _ROWS]


# -- errors ---------------------------------------------------------------------------------


class ErrorBody(_Body):
    """Every error but 422: a human-readable message."""

    detail: str = Field(examples=["Not found"])


class SessionLoadingBody(_Body):
    """A session still loading (the 202 of ``Prefer: respond-async``): ask again after
    ``Retry-After`` seconds."""

    detail: str = Field(examples=["The session is loading; retry after 2 seconds"])
    status: str = Field(description="The session's state: LOADING", examples=["LOADING"])
    started_at: datetime | None = Field(description="When the load started (UTC)")
    waiting: int = Field(description="Requests in this server waiting for the load")


class ValidationIssue(_Body):
    """One invalid input: where it is (``body``, ``query`` or ``path``, then the field)."""

    loc: list[str] = Field(examples=[["body", "email"]])
    msg: str = Field(examples=["Field required"])
    type: str = Field(examples=["missing"])


class ValidationErrorBody(_Body):
    """A 422: each offending field, named."""

    detail: list[ValidationIssue]


class TextValidationErrorBody(_Body):
    """A 422 of the account routes: the offending fields in one sentence (which the older web
    frontend shows as it is), and each of them, named, under ``errors``."""

    detail: str = Field(examples=["username: Username must be 3 to 50 characters long"])
    errors: list[ValidationIssue]


# -- auth -----------------------------------------------------------------------------------


def _fields_of(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], ...) for f in dataclasses.fields(cls)}


#: An account: :class:`~pypole_gql.domain.users.User`'s fields, as the older backend
#: returned them.
UserBody = create_model(
    "UserBody",
    __base__=_Body,
    __module__=__name__,
    __doc__="An account, as the older backend returned it.",
    **_fields_of(User),
)


def user_body(user: User) -> BaseModel:
    return UserBody.model_validate(user, from_attributes=True)


class TokenBody(_Body):
    """The tokens of a login or refresh. The refresh token is spent by its next use."""

    access_token: str = Field(description="JWT for `Authorization: Bearer ...`")
    token_type: Literal["bearer"]
    refresh_token: str = Field(description="Opaque; exchanged once at `/auth/refresh`")
    expires_in: int = Field(description="Seconds until the access token expires")

    @classmethod
    def of(cls, auth: AuthSession) -> Self:
        return cls.model_validate(auth, from_attributes=True)


class MessageBody(_Body):
    message: str = Field(examples=["Successfully logged out"])


# -- fastf1 ---------------------------------------------------------------------------------


# Rows of which a body holds hundreds (laps, telemetry samples) are typed dicts (see Rows).
_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class LapBody(TypedDict):
    """One lap of one driver. Times are seconds; ``lap_time`` is also given as ``m:ss.fff``."""

    driver: Annotated[str, Field(description="Three-letter code", examples=["BOT"])]
    lap_number: int
    lap_time: Annotated[str | None, Field(examples=["1:45.149"])]
    lap_time_seconds: Annotated[float | None, Field(examples=[105.149])]
    sector1_time: float | None
    sector2_time: float | None
    sector3_time: float | None
    compound: Annotated[
        str | None,
        Field(
            description='Null when FastF1 has none (NaN, "nan" or "" for some lap-1 laps)',
            examples=["SOFT"],
        ),
    ]
    tyre_life: Annotated[int | None, Field(description="Laps on this set of tyres")]
    stint: int | None
    is_personal_best: bool


def lap_of(lap: sessions.Lap) -> LapBody:
    return LapBody(
        driver=lap.driver,
        lap_number=lap.lap_number,
        lap_time=format_lap_time(lap.lap_time),
        lap_time_seconds=lap.lap_time,
        sector1_time=lap.sector1_time,
        sector2_time=lap.sector2_time,
        sector3_time=lap.sector3_time,
        compound=lap.compound,
        tyre_life=None if lap.tyre_life is None else round(lap.tyre_life),
        stint=lap.stint,
        is_personal_best=lap.is_personal_best,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class AskedSession:
    """A loaded session and how the client named it (the envelope repeats the question)."""

    year: int
    race: str
    data: sessions.SessionData


class _SessionEnvelope(_Body):
    year: int
    race: str = Field(description="The race as asked: a round number or an event name")
    event_name: str = Field(examples=["Azerbaijan Grand Prix"])
    round: int
    session_type: SessionTypeName

    @classmethod
    def of(cls, asked: AskedSession, **fields: Any) -> Self:
        """The body about the session ``asked``."""
        info = asked.data.info
        return cls(
            year=asked.year,
            race=asked.race,
            event_name=info.event_name,
            round=info.round,
            session_type=info.session_type,
            **fields,
        )


class LapsBody(_SessionEnvelope):
    laps: Rows[LapBody]
    total_laps: int

    @classmethod
    def of_laps(cls, asked: AskedSession, laps: Sequence[sessions.Lap], **fields: Any) -> Self:
        rows = [lap_of(lap) for lap in laps]
        return cls.of(asked, laps=rows, total_laps=len(rows), **fields)


class DriverLapsBody(LapsBody):
    driver: str = Field(description="Three-letter code of the driver asked for")


@with_config(_CLOSED)
class TelemetrySample(TypedDict):
    distance: Annotated[float, Field(description="Metres from the start of the lap")]
    speed: Annotated[float, Field(description="km/h")]
    throttle: Annotated[float, Field(description="Percent")]
    brake: bool
    gear: int
    rpm: float
    drs: Annotated[int, Field(description="FastF1's raw DRS channel value")]


def samples_of(found: sessions.Telemetry) -> list[TelemetrySample]:
    columns = zip(
        found.distance.tolist(),
        found.speed.tolist(),
        found.throttle.tolist(),
        found.brake.tolist(),
        found.gear.tolist(),
        found.rpm.tolist(),
        found.drs.tolist(),
        strict=True,
    )
    return [
        TelemetrySample(
            distance=distance,
            speed=speed,
            throttle=throttle,
            brake=brake,
            gear=gear,
            rpm=rpm,
            drs=drs,
        )
        for distance, speed, throttle, brake, gear, rpm, drs in columns
    ]


class TelemetryBody(_SessionEnvelope):
    driver: str
    lap_number: int
    lap_time: str | None
    lap_time_seconds: float | None
    compound: str | None
    sample_count: int
    telemetry: Rows[TelemetrySample] = Field(
        description="Car data of the lap, at full resolution unless `max_points` is given"
    )

    @classmethod
    def of_lap(cls, asked: AskedSession, found: sessions.Telemetry, lap: sessions.Lap) -> Self:
        return cls.of(
            asked,
            driver=found.driver,
            lap_number=found.lap_number,
            lap_time=format_lap_time(lap.lap_time),
            lap_time_seconds=lap.lap_time,
            compound=lap.compound,
            sample_count=found.sample_count,
            telemetry=samples_of(found),
        )


class StintBody(_Body):
    driver: str
    stint: int
    compound: str | None
    start_lap: int
    end_lap: int
    num_laps: int
    avg_lap_time: float | None = Field(
        description="Seconds: the mean of every timed lap of the stint, in- and out-laps and "
        "safety-car laps included"
    )
    avg_pace_time: float | None = Field(
        description="Seconds: the mean of the stint's quick laps (FastF1's "
        "`pick_quicklaps()` over the session, under 107% of its fastest lap); null when none"
    )

    @classmethod
    def of(cls, stint: sessions.Stint) -> Self:
        return cls(
            driver=stint.driver,
            stint=stint.stint,
            compound=stint.compound,
            start_lap=stint.start_lap,
            end_lap=stint.end_lap,
            num_laps=stint.lap_count,
            avg_lap_time=stint.average_lap_time,
            avg_pace_time=stint.average_pace_time,
        )


class StintsBody(_SessionEnvelope):
    stints: list[StintBody]


class FastestLapBody(_SessionEnvelope):
    fastest_lap: LapBody | None = Field(
        description="As FastF1's `Laps.pick_fastest()` picks it; null when no lap qualifies"
    )
    message: str | None = Field(
        default=None, description='"No valid lap times found" when `fastest_lap` is null'
    )


def format_lap_time(seconds: float | None) -> str | None:
    """``83.456`` -> ``"1:23.456"`` (minutes not zero-padded, milliseconds rounded)."""
    if seconds is None:
        return None
    millis = round(seconds * 1000)
    minutes, millis = divmod(millis, 60_000)
    return f"{minutes}:{millis // 1000:02d}.{millis % 1000:03d}"


def respond(body: BaseModel, status_code: int = 200) -> Response:
    """``body`` as JSON, with exactly the fields its handler set (its :data:`Rows` as built)."""
    rows = body.rows_fields if isinstance(body, _Body) else frozenset()
    content = body.model_dump(exclude_unset=True, exclude=set(rows) or None)
    for name in rows & body.model_fields_set:
        content[name] = getattr(body, name)
    return ORJSONResponse(content, status_code)


# -- health ----------------------------------------------------------------------------------


class HealthBody(_Body):
    """Each dependency's check and the verdict."""

    status: str = Field(description="`ok`, or `unavailable` when a check fails", examples=["ok"])
    checks: dict[str, str] = Field(
        description="Each dependency (`database`, and `redis` when configured): `ok` or `failing`",
        examples=[{"database": "ok"}],
    )
