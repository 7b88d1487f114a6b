"""The OpenAPI document: committed as produced, covering every route, true to the responses.

A route served but missing from the document (``include_in_schema=False``) fails here, and so does
a handler whose body or status code is not what the document says.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from openapi_spec_validator import validate
from pydantic import BaseModel
from starlette.routing import BaseRoute, Mount, Route

from pypole_gql.cli import main as cli_main
from pypole_gql.rest import api_routes, jolpica_schemas, schemas, session_schemas
from pypole_gql.rest.openapi import build_openapi, render_openapi
from tests.jolpica_support import jolpica_app
from tests.plugins.app import ClientFactory
from tests.plugins.fastf1 import SessionsApp, fastf1_app_settings
from tests.plugins.replay import Replay

REPO = Path(__file__).resolve().parents[2]
PARAM = re.compile(r"\{([^}:]+)(:[^}]+)?\}")


def served_operations(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(METHOD, path) of every Starlette route, with mounts resolved and ``{p:conv}`` as ``{p}``."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= served_operations(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            path = PARAM.sub(r"{\1}", prefix + route.path)
            found |= {(method, path) for method in route.methods or () if method != "HEAD"}
    return found


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in build_openapi()["paths"].items()
        for method in operations
    }


def test_committed_document_is_what_the_code_produces() -> None:
    committed = (REPO / "openapi.json").read_text()
    assert committed == render_openapi(), (
        "openapi.json is stale: run `uv run pypole export-openapi`"
    )


def test_export_command_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert cli_main(["export-openapi", "--output", str(target)]) == 0
    assert target.read_text() == render_openapi()


def test_every_api_route_is_documented_with_its_methods() -> None:
    served = {op for op in served_operations(api_routes()) if op[1].startswith("/api/v1/")}
    assert served, "no routes found under /api/v1"
    missing = served - documented_operations()
    assert not missing, f"routes without an OpenAPI entry: {missing}"


def test_every_documented_operation_is_served() -> None:
    extra = documented_operations() - served_operations(api_routes())
    assert not extra, f"documented but not served: {extra}"


def test_document_is_valid_openapi_3_1() -> None:
    document = build_openapi()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_error_is_a_detail_body_and_every_route_can_be_rate_limited() -> None:
    for path, operations in build_openapi()["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "429" in responses, (method, path)
            assert "Retry-After" in responses["429"]["headers"]
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]
                if path == "/api/v1/health" and status == "503":  # as /health/ready answers
                    expected = "HealthBody"
                elif status != "422":
                    expected = "ErrorBody"
                elif path.startswith("/api/v1/auth/"):  # the older frontend shows these as text
                    expected = "TextValidationErrorBody"
                else:
                    expected = "ValidationErrorBody"
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (path, status)
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path


# -- real responses against the document ---------------------------------------------------


def check(response: httpx.Response, path: str, model: type[BaseModel] | None = None) -> Any:
    """Assert that the document lists this status for the operation and that the body fits the
    model the document names for it (a closed model: no field may be missing or extra)."""
    method = response.request.method.lower()
    operation = build_openapi()["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: undocumented {status}"
    if model is None:
        if status != "422":
            model = schemas.ErrorBody
        elif path.startswith("/api/v1/auth/"):  # the older frontend shows these as text
            model = schemas.TextValidationErrorBody
        else:
            model = schemas.ValidationErrorBody
    ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] == model.__name__
    body = response.json()
    model.model_validate(body)
    return body


async def test_auth_responses_match_the_document(make_client: ClientFactory) -> None:
    user = {"email": "doc@example.com", "username": "doc", "password": "correct horse battery"}
    async with make_client() as client:
        register = await client.post("/api/v1/auth/register", json=user)
        assert register.status_code == 201
        check(register, "/api/v1/auth/register", schemas.UserBody)
        again = await client.post("/api/v1/auth/register", json=user)
        assert again.status_code == 400
        check(again, "/api/v1/auth/register")
        invalid = await client.post("/api/v1/auth/register", json={"email": "x"})
        assert invalid.status_code == 422
        body = check(invalid, "/api/v1/auth/register")
        assert isinstance(body["detail"], str)
        assert {tuple(issue["loc"]) for issue in body["errors"]} >= {
            ("body", "username"),
            ("body", "password"),
        }
        too_large = await client.post(
            "/api/v1/auth/register",
            content=b'{"email": "' + b"x" * 70_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert too_large.status_code == 413
        check(too_large, "/api/v1/auth/register")

        wrong = await client.post(
            "/api/v1/auth/login", data={"email": user["email"], "password": "wrong password"}
        )
        assert wrong.status_code == 401
        check(wrong, "/api/v1/auth/login")
        login = await client.post(
            "/api/v1/auth/login", data={"email": user["email"], "password": user["password"]}
        )
        tokens = check(login, "/api/v1/auth/login", schemas.TokenBody)
        bearer = {"authorization": f"Bearer {tokens['access_token']}"}

        anonymous = await client.get("/api/v1/auth/me")
        assert anonymous.status_code == 401
        check(anonymous, "/api/v1/auth/me")
        check(
            await client.get("/api/v1/auth/me", headers=bearer), "/api/v1/auth/me", schemas.UserBody
        )
        me = await client.put("/api/v1/auth/me", headers=bearer, json={"username": "doc2"})
        check(me, "/api/v1/auth/me", schemas.UserBody)
        preferences = await client.put(
            "/api/v1/auth/preferences", headers=bearer, json={"theme": "light"}
        )
        check(preferences, "/api/v1/auth/preferences", schemas.UserBody)
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        new_tokens = check(refreshed, "/api/v1/auth/refresh", schemas.TokenBody)
        logout = await client.post(
            "/api/v1/auth/logout",
            headers={"authorization": f"Bearer {new_tokens['access_token']}"},
        )
        check(logout, "/api/v1/auth/logout", schemas.MessageBody)


async def test_jolpica_responses_match_the_document(
    make_client: ClientFactory, replay: Replay
) -> None:
    base = "/api/v1/jolpica"
    async with jolpica_app(make_client, replay) as client:
        cases: list[tuple[str, str, type[BaseModel] | None]] = [
            ("/schedule?season=2023", "/schedule", jolpica_schemas.ScheduleBody),
            ("/schedule/2023", "/schedule/{season}", jolpica_schemas.ScheduleBody),
            ("/schedule/next", "/schedule/next", jolpica_schemas.NextRaceBody),
            (
                "/standings/drivers?season=2023",
                "/standings/drivers",
                jolpica_schemas.DriverStandingsBody,
            ),
            (
                "/standings/constructors?season=2023&round=5",
                "/standings/constructors",
                jolpica_schemas.ConstructorStandingsBody,
            ),
            ("/results/2023/9", "/results/{season}/{round}", jolpica_schemas.RaceResultsBody),
            ("/qualifying/2023/9", "/qualifying/{season}/{round}", jolpica_schemas.RaceResultsBody),
            ("/results/2023/99", "/results/{season}/{round}", None),
            ("/schedule/abc", "/schedule/{season}", None),
            ("/standings/drivers?season=1800", "/standings/drivers", None),
        ]
        for url, path, model in cases:
            response = await client.get(base + url)
            assert (response.status_code == 200) == (model is not None), (url, response.text)
            check(response, base + path, model)
        # The replay's "current" season depends on today's date: 200 or 404, both documented.
        current = await client.get(base + "/schedule/current")
        ok = current.status_code == 200
        check(current, base + "/schedule/current", jolpica_schemas.ScheduleBody if ok else None)


async def test_fastf1_responses_match_the_document(sessions_app: SessionsApp) -> None:
    base = "/api/v1/fastf1/race"
    cases: list[tuple[str, str, type[BaseModel] | None]] = [
        ("/2018/Azerbaijan/laps", "/race/{year}/{race}/laps", schemas.LapsBody),
        (
            "/2018/Azerbaijan/driver/BOT/laps",
            "/race/{year}/{race}/driver/{driver}/laps",
            schemas.DriverLapsBody,
        ),
        (
            "/2018/Azerbaijan/telemetry?driver=BOT&lap=37&max_points=50",
            "/race/{year}/{race}/telemetry",
            schemas.TelemetryBody,
        ),
        ("/2018/Azerbaijan/stints", "/race/{year}/{race}/stints", schemas.StintsBody),
        ("/2018/Azerbaijan/fastest-lap", "/race/{year}/{race}/fastest-lap", schemas.FastestLapBody),
        ("/2018/Azerbaijan/results", "/race/{year}/{race}/results", session_schemas.ResultsBody),
        ("/2018/Azerbaijan/weather", "/race/{year}/{race}/weather", session_schemas.WeatherBody),
        (
            "/2018/Azerbaijan/race-control?category=Flag",
            "/race/{year}/{race}/race-control",
            session_schemas.RaceControlBody,
        ),
        (
            "/2018/Azerbaijan/track-status",
            "/race/{year}/{race}/track-status",
            session_schemas.TrackStatusBody,
        ),
        (
            "/2018/Azerbaijan/pit-stops?drivers=HAM",
            "/race/{year}/{race}/pit-stops",
            session_schemas.SessionPitStopsBody,
        ),
        (
            "/2018/Azerbaijan/positions",
            "/race/{year}/{race}/positions",
            session_schemas.PositionsBody,
        ),
        (
            "/2018/Azerbaijan/track-map?max_points=50",
            "/race/{year}/{race}/track-map",
            session_schemas.TrackMapBody,
        ),
        (
            "/2018/Azerbaijan/compare?drivers=HAM,BOT",
            "/race/{year}/{race}/compare",
            session_schemas.CompareBody,
        ),
        (
            "/2018/Azerbaijan/lap-positions",
            "/race/{year}/{race}/lap-positions",
            session_schemas.LapPositionsBody,
        ),
        ("/2018/Azerbaijan/compare?drivers=HAM&laps=500", "/race/{year}/{race}/compare", None),
        ("/2018/Azerbaijan/compare?drivers=HAM&drivers=ZZZ", "/race/{year}/{race}/compare", None),
        ("/2018/Azerbaijan/track-map?lap=2", "/race/{year}/{race}/track-map", None),
        ("/2018/Azerbaijan/laps?session_type=XX", "/race/{year}/{race}/laps", None),
        ("/2018/Azerbaijan/driver/ZZZ/laps", "/race/{year}/{race}/driver/{driver}/laps", None),
    ]
    for url, path, model in cases:
        response = await sessions_app.client.get(base + url)
        assert (response.status_code == 200) == (model is not None), (url, response.text)
        check(response, "/api/v1/fastf1" + path, model)


def test_tabular_fastf1_routes_document_their_csv() -> None:
    paths = build_openapi()["paths"]
    for route in (
        "results",
        "weather",
        "race-control",
        "track-status",
        "pit-stops",
        "positions",
        "track-map",
        "compare",
        "lap-positions",
    ):
        operation = paths[f"/api/v1/fastf1/race/{{year}}/{{race}}/{route}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, route
        assert any(p["name"] == "format" for p in operation["parameters"]), route


#: Headers of HTTP caching and of `Prefer: respond-async` the document must list where sent.
_CACHING_HEADERS = ("etag", "cache-control", "vary", "retry-after", "preference-applied")


def check_headers(response: httpx.Response, path: str) -> None:
    """Every caching or respond-async header of the answer is documented for its status."""
    operation = build_openapi()["paths"][path][response.request.method.lower()]
    documented = {
        name.lower() for name in operation["responses"][str(response.status_code)]["headers"]
    }
    sent = {name for name in _CACHING_HEADERS if name in response.headers}
    assert sent <= documented, (path, response.status_code, sent - documented)


async def test_http_caching_is_documented_as_answered(
    make_client: ClientFactory, replay: Replay
) -> None:
    """A cacheable route documents If-None-Match, the 304 and ETag, Cache-Control and Vary,
    and the live answers carry them: public with an ETag, a 304 for that ETag, no-store for
    an error."""
    path = "/api/v1/jolpica/results/{season}/{round}"
    operation = build_openapi()["paths"][path]["get"]
    (if_none_match,) = [p for p in operation["parameters"] if p["name"] == "If-None-Match"]
    assert if_none_match["in"] == "header" and not if_none_match["required"]
    responses = operation["responses"]
    assert {"ETag", "Cache-Control", "Vary"} <= set(responses["200"]["headers"])
    assert "content" not in responses["304"]
    assert {"ETag", "Cache-Control", "Vary"} <= set(responses["304"]["headers"])
    assert {"Cache-Control", "Vary"} <= set(responses["404"]["headers"])
    # Routes outside the response cache document none of it.
    auth = build_openapi()["paths"]["/api/v1/auth/me"]["get"]
    assert "304" not in auth["responses"] and "ETag" not in auth["responses"]["200"]["headers"]

    async with jolpica_app(make_client, replay) as client:
        url = "/api/v1/jolpica/results/2023/9"
        first = await client.get(url)
        assert first.status_code == 200, first.text
        check_headers(first, path)
        etag = first.headers["etag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
        control = re.fullmatch(r"public, max-age=(\d+)", first.headers["cache-control"])
        assert control is not None and int(control[1]) > 0, first.headers["cache-control"]
        vary = [name.strip() for name in first.headers["vary"].split(",")]
        assert vary[:2] == ["Accept", "Authorization"], vary

        again = await client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        check_headers(again, path)
        assert again.headers["etag"] == etag and again.headers["vary"] == first.headers["vary"]
        assert again.headers["cache-control"].startswith("public, max-age=")
        other = await client.get(url, headers={"If-None-Match": '"0000"'})
        assert other.status_code == 200 and other.content == first.content

        missing = await client.get("/api/v1/jolpica/results/2023/99")
        assert missing.status_code == 404
        check_headers(missing, path)
        assert missing.headers["cache-control"] == "no-store" and "etag" not in missing.headers


async def test_respond_async_is_documented_as_answered(
    make_client: ClientFactory, replay: Replay
) -> None:
    """A session's records route honours `Prefer: respond-async` as the session routes do,
    and documents the 202 with the headers it carries."""
    path = "/api/v1/fastf1/race/{year}/{race}/results"
    operation = build_openapi()["paths"][path]["get"]
    assert any(p["name"] == "Prefer" and p["in"] == "header" for p in operation["parameters"])
    loading = operation["responses"]["202"]
    assert {"Retry-After", "Preference-Applied", "Cache-Control", "Vary"} <= set(loading["headers"])
    async with make_client(**fastf1_app_settings(replay)) as client:
        response = await client.get(
            "/api/v1/fastf1/race/2023/Azerbaijan/results?session_type=Q",
            headers={"Prefer": "respond-async"},
        )
        assert response.status_code == 202, response.text
        check(response, path, schemas.SessionLoadingBody)
        check_headers(response, path)
        assert response.headers["retry-after"] == "2"
        assert response.headers["preference-applied"] == "respond-async"
        assert response.headers["cache-control"] == "no-store"
