"""The OpenAPI 3.1 document of ``/api/v1``, produced from code.

Parameters and request bodies come from the pydantic models the handlers validate input with,
response bodies from :mod:`pypole_gql.rest.schemas`; the table :data:`OPERATIONS` says which
route uses which, and which errors it can answer with. ``GET /api/v1/openapi.json`` serves the
document, ``pypole export-openapi`` writes it, and the committed ``openapi.json`` must equal it
(tests/contract/test_openapi.py, which also fails on a route missing from the table).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.domain.users import (
    Credentials,
    LogoutRequest,
    PreferencesUpdate,
    ProfileUpdate,
    RefreshRequest,
    Registration,
)
from pypole_gql.rest import fastf1 as fastf1_routes
from pypole_gql.rest import jolpica as jolpica_routes
from pypole_gql.rest import schemas

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HTML = "text/html"

Auth = Literal["none", "required", "optional"]
# What models_json_schema returns: each (model, mode) -> its schema (a $ref).
Refs = Mapping[tuple[Any, JsonSchemaMode], Any]


@dataclass(frozen=True, slots=True)
class Operation:
    """One route and method: what it takes, what it answers, which errors it can give."""

    method: Literal["get", "post", "put"]
    path: str  # below /api/v1, in Starlette's (and OpenAPI's) {name} syntax
    operation_id: str
    tag: str
    summary: str
    response: type[BaseModel] | None  # None: an HTML page or a free-form JSON object
    errors: tuple[int, ...]
    status: int = 200
    description: str | None = None
    path_params: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_media: tuple[str, ...] = (JSON,)
    body_required: bool = True
    auth: Auth = "none"
    media: str = JSON
    response_description: str = "OK"
    error_notes: dict[int, str] = field(default_factory=dict)


TAGS = [
    {"name": "auth", "description": "Accounts and tokens (JWT access, rotating refresh)."},
    {
        "name": "jolpica",
        "description": "Schedules, results, qualifying and standings. The Jolpica objects "
        "inside these bodies are Jolpica's own: its field names, every value a string, "
        "complete (all rows).",
    },
    {
        "name": "fastf1",
        "description": "Laps, stints, fastest laps and car telemetry from the F1 "
        "live-timing archive (FastF1). `race` is a round number or an event name as FastF1 "
        'accepts it ("Azerbaijan", "Baku").',
    },
    {"name": "documentation", "description": "This document and the pages that show it."},
]

# Descriptions of parameters whose models carry none (same name, same meaning everywhere).
PARAMETER_NOTES = {
    "season": "Season year, 1950 to five years ahead. Left out: the current season.",
    "round": "Round number within the season (1 to 100).",
    "year": "Season year.",
    "race": 'Round number or event name as FastF1 accepts it, e.g. "4" or "Azerbaijan".',
    "driver": "Three-letter driver code (VER) or car number (33).",
    "session_type": "FP1, FP2, FP3, Q, SQ (sprint qualifying), SS (sprint shootout), S "
    "(sprint) or R (race).",
    "lap": "Lap number.",
    "max_points": "Downsample evenly to at most this many samples, keeping the first and "
    "last. Left out: full resolution.",
}

ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("Email already registered, or username already taken", schemas.ErrorBody),
    401: ("Not authenticated: missing, invalid, expired or revoked credentials", schemas.ErrorBody),
    403: ("The account is inactive", schemas.ErrorBody),
    404: ("Not found; the message names what", schemas.ErrorBody),
    413: ("Request body larger than 64 KiB", schemas.ErrorBody),
    422: ("Invalid input; `detail` lists each offending field", schemas.ValidationErrorBody),
    429: ("Rate limit exceeded; retry after `Retry-After` seconds", schemas.ErrorBody),
    503: (
        "Upstream data source (or our database) unavailable and nothing cached; "
        "retry after `Retry-After` seconds",
        schemas.ErrorBody,
    ),
}

HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    },
    "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
    "RateLimit-Policy": {
        "description": "The client's rate limit policy (draft-ietf-httpapi-ratelimit-headers), "
        "e.g. `60;w=60`",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "The client's budget, e.g. `limit=60, remaining=59, reset=60`",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time at which one more request is allowed",
        "schema": {"type": "integer"},
    },
    "X-Request-ID": {
        "description": "The request id (the client's `X-Request-ID` when valid), as logged",
        "schema": {"type": "string"},
    },
}
RATE_LIMIT_HEADERS = (
    "RateLimit-Policy",
    "RateLimit",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
ERROR_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}

_AUTH_BODY_ERRORS = (413, 422)
_JOLPICA_ERRORS = (404, 422, 503)
_FASTF1_ERRORS = (404, 422, 503)
_FASTF1_404 = {404: "Unknown event, session, driver or lap; the message names it"}

OPERATIONS: tuple[Operation, ...] = (
    # -- auth
    Operation(
        "post",
        "/auth/register",
        "register",
        "auth",
        "Create an account",
        schemas.UserBody,
        (400, *_AUTH_BODY_ERRORS, 503),
        status=201,
        description="`is_superuser` and any other unknown field is ignored.",
        body=Registration,
        response_description="The new account",
    ),
    Operation(
        "post",
        "/auth/login",
        "login",
        "auth",
        "Log in with email and password",
        schemas.TokenBody,
        (401, 403, *_AUTH_BODY_ERRORS, 503),
        description="Form-urlencoded as OAuth2's password flow sends it (`username` is "
        "accepted for `email`), or JSON. A wrong password and an unknown email give the same "
        "401.",
        body=Credentials,
        body_media=(FORM, JSON),
    ),
    Operation(
        "get",
        "/auth/me",
        "get_me",
        "auth",
        "The account of the access token",
        schemas.UserBody,
        (401, 403, 503),
        auth="required",
    ),
    Operation(
        "put",
        "/auth/me",
        "update_me",
        "auth",
        "Change email, username or password",
        schemas.UserBody,
        (400, 401, 403, *_AUTH_BODY_ERRORS, 503),
        description="A field left out is unchanged. A new email or password needs "
        "`current_password`; a new password also ends the account's other sessions.",
        body=ProfileUpdate,
        auth="required",
    ),
    Operation(
        "put",
        "/auth/preferences",
        "update_preferences",
        "auth",
        "Change favourite team, favourite driver and theme",
        schemas.UserBody,
        (401, 403, *_AUTH_BODY_ERRORS, 503),
        description="Only the fields sent change; a null favourite clears it.",
        body=PreferencesUpdate,
        auth="required",
    ),
    Operation(
        "post",
        "/auth/refresh",
        "refresh",
        "auth",
        "Exchange a refresh token for new tokens",
        schemas.TokenBody,
        (401, 403, *_AUTH_BODY_ERRORS, 503),
        description="The refresh token is spent. Presenting a spent one again revokes its "
        "whole session.",
        body=RefreshRequest,
        body_media=(JSON, FORM),
    ),
    Operation(
        "post",
        "/auth/logout",
        "logout",
        "auth",
        "End the session",
        schemas.MessageBody,
        (401, *_AUTH_BODY_ERRORS, 503),
        description="Revokes the access token and its session's refresh tokens, and the "
        "session of `refresh_token` if given. Either credential is enough; 401 when neither "
        "is valid.",
        body=LogoutRequest,
        body_required=False,
        auth="optional",
    ),
    # -- jolpica
    Operation(
        "get",
        "/jolpica/schedule",
        "schedule",
        "jolpica",
        "A season's schedule",
        schemas.ScheduleBody,
        _JOLPICA_ERRORS,
        query=jolpica_routes.OptionalSeason,
    ),
    Operation(
        "get",
        "/jolpica/schedule/current",
        "current_schedule",
        "jolpica",
        "The current season's schedule",
        schemas.ScheduleBody,
        (404, 503),
    ),
    Operation(
        "get",
        "/jolpica/schedule/next",
        "next_race",
        "jolpica",
        "The next race",
        schemas.NextRaceBody,
        (503,),
        response_description='The next race, or `{"message": "No upcoming races found", '
        '"race": null}`',
    ),
    Operation(
        "get",
        "/jolpica/schedule/{season}",
        "season_schedule",
        "jolpica",
        "A season's schedule",
        schemas.ScheduleBody,
        _JOLPICA_ERRORS,
        path_params=jolpica_routes.SeasonPath,
    ),
    Operation(
        "get",
        "/jolpica/standings/drivers",
        "driver_standings",
        "jolpica",
        "Driver standings",
        schemas.DriverStandingsBody,
        _JOLPICA_ERRORS,
        description="After `round`, or the latest round when left out.",
        query=jolpica_routes.StandingsQuery,
    ),
    Operation(
        "get",
        "/jolpica/standings/constructors",
        "constructor_standings",
        "jolpica",
        "Constructor standings",
        schemas.ConstructorStandingsBody,
        _JOLPICA_ERRORS,
        description="After `round`, or the latest round when left out.",
        query=jolpica_routes.StandingsQuery,
    ),
    Operation(
        "get",
        "/jolpica/results/{season}/{round}",
        "race_results",
        "jolpica",
        "A race's results",
        schemas.RaceResultsBody,
        _JOLPICA_ERRORS,
        path_params=jolpica_routes.RoundPath,
    ),
    Operation(
        "get",
        "/jolpica/qualifying/{season}/{round}",
        "qualifying_results",
        "jolpica",
        "A race's qualifying results",
        schemas.RaceResultsBody,
        _JOLPICA_ERRORS,
        path_params=jolpica_routes.RoundPath,
    ),
    # -- fastf1
    Operation(
        "get",
        "/fastf1/race/{year}/{race}/laps",
        "session_laps",
        "fastf1",
        "Every lap of a session",
        schemas.LapsBody,
        _FASTF1_ERRORS,
        path_params=fastf1_routes.RacePath,
        query=fastf1_routes.SessionQuery,
        error_notes=_FASTF1_404,
    ),
    Operation(
        "get",
        "/fastf1/race/{year}/{race}/driver/{driver}/laps",
        "driver_laps",
        "fastf1",
        "One driver's laps of a session",
        schemas.DriverLapsBody,
        _FASTF1_ERRORS,
        path_params=fastf1_routes.DriverPath,
        query=fastf1_routes.SessionQuery,
        error_notes=_FASTF1_404,
    ),
    Operation(
        "get",
        "/fastf1/race/{year}/{race}/telemetry",
        "lap_telemetry",
        "fastf1",
        "Car telemetry of one lap",
        schemas.TelemetryBody,
        _FASTF1_ERRORS,
        path_params=fastf1_routes.RacePath,
        query=fastf1_routes.TelemetryQuery,
        error_notes=_FASTF1_404,
    ),
    Operation(
        "get",
        "/fastf1/race/{year}/{race}/stints",
        "session_stints",
        "fastf1",
        "Tyre stints of a session",
        schemas.StintsBody,
        _FASTF1_ERRORS,
        path_params=fastf1_routes.RacePath,
        query=fastf1_routes.SessionQuery,
        error_notes=_FASTF1_404,
    ),
    Operation(
        "get",
        "/fastf1/race/{year}/{race}/fastest-lap",
        "fastest_lap",
        "fastf1",
        "The fastest lap of a session",
        schemas.FastestLapBody,
        _FASTF1_ERRORS,
        path_params=fastf1_routes.RacePath,
        query=fastf1_routes.SessionQuery,
        error_notes=_FASTF1_404,
    ),
    # -- documentation
    Operation(
        "get",
        "/openapi.json",
        "openapi",
        "documentation",
        "This OpenAPI document",
        None,
        (),
        response_description="The OpenAPI 3.1 document of /api/v1",
    ),
    Operation(
        "get",
        "/docs",
        "swagger_ui",
        "documentation",
        "Swagger UI over this document",
        None,
        (503,),
        media=HTML,
        response_description="An HTML page",
        error_notes={503: "The page's assets are not installed"},
    ),
    Operation(
        "get",
        "/redoc",
        "redoc",
        "documentation",
        "ReDoc over this document",
        None,
        (503,),
        media=HTML,
        response_description="An HTML page",
        error_notes={503: "The page's assets are not installed"},
    ),
)


def _package_version() -> str:
    try:
        return version("pypole-gql")
    except PackageNotFoundError:  # pragma: no cover (running from a bare checkout)
        return "0.0.0"


def _header_refs(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter left out is "no value"; a query string cannot carry a JSON null."""
    variants = [v for v in schema.get("anyOf", ()) if v != {"type": "null"}]
    if "anyOf" in schema and len(variants) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        schema = {**variants[0], **rest}
    if schema.get("default", 0) is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _parameters(
    model: type[BaseModel], where: Literal["path", "query"], defs: dict[str, Any]
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _without_null({k: v for k, v in prop.items() if k not in ("title", "description")})
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": prop,
        }
        description = model.model_fields[name].description or PARAMETER_NOTES.get(name)
        if description:
            param["description"] = description
        params.append(param)
    return params


def _responses(op: Operation, refs: Refs) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": op.response_description,
        "headers": _header_refs(("X-Request-ID", *RATE_LIMIT_HEADERS)),
    }
    if op.response is not None:
        success["content"] = {op.media: {"schema": refs[(op.response, "serialization")]}}
    elif op.media == HTML:
        success["content"] = {HTML: {"schema": {"type": "string"}}}
    else:
        success["content"] = {op.media: {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {str(op.status): success}
    for status in sorted({*op.errors, 429}):
        description, model = ERRORS[status]
        headers = ("X-Request-ID", *ERROR_HEADERS.get(status, ()))
        if status == 429:
            headers = (*headers, *RATE_LIMIT_HEADERS)
        responses[str(status)] = {
            "description": op.error_notes.get(status, description),
            "headers": _header_refs(headers),
            "content": {JSON: {"schema": refs[(model, "serialization")]}},
        }
    return responses


def _operation(op: Operation, refs: Refs, defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tags": [op.tag],
        "summary": op.summary,
        "operationId": op.operation_id,
    }
    if op.description:
        out["description"] = op.description
    parameters = []
    if op.path_params is not None:
        parameters += _parameters(op.path_params, "path", defs)
    if op.query is not None:
        parameters += _parameters(op.query, "query", defs)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        schema = refs[(op.body, "validation")]
        out["requestBody"] = {
            "required": op.body_required,
            "content": {media: {"schema": schema} for media in op.body_media},
        }
    if op.auth == "required":
        out["security"] = [{"bearerAuth": []}]
    elif op.auth == "optional":
        out["security"] = [{"bearerAuth": []}, {}]
    out["responses"] = _responses(op, refs)
    return out


def _schema_models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS:
        if op.body is not None:
            models[(op.body, "validation")] = None
        if op.response is not None:
            models[(op.response, "serialization")] = None
        for status in op.errors:
            models[(ERRORS[status][1], "serialization")] = None
    models[(ERRORS[429][1], "serialization")] = None
    return list(models)


@functools.cache
def build_openapi() -> dict[str, Any]:
    """The document, as a JSON-ready dict (built once per process; treat it as read-only)."""
    refs, top = models_json_schema(_schema_models(), ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(API_PREFIX + op.path, {})[op.method] = _operation(op, refs, defs)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "PyPole GQL REST API",
            "version": _package_version(),
            "summary": "The /api/v1 REST shim of PyPole GQL, compatible with the older "
            "PyPole backend's clients.",
            "description": 'Errors are always JSON `{"detail": ...}`: a message, or for a '
            "422 a list naming each invalid field. Every response carries the client's rate "
            "limit headers; a 429 adds `Retry-After`. The same data, and more, is served "
            "over GraphQL at `/graphql`.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.items())),
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access_token` of a login or refresh",
                }
            },
        },
    }


@functools.cache
def render_openapi() -> str:
    """The document as the committed ``openapi.json`` holds it."""
    return json.dumps(build_openapi(), indent=2, ensure_ascii=False) + "\n"


async def openapi_json(_request: Request) -> Response:
    return Response(render_openapi(), media_type=JSON)
