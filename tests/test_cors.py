"""CORS for browser pages on other origins (the PyPole web frontend on http://localhost:3000).

The real app, in process: preflights and real requests as a browser sends them, errors
included, with the origin allowed and not.
"""

from __future__ import annotations

import httpx
import pytest
from structlog.testing import capture_logs

from pypole_gql.config import DEV_CORS_ORIGINS, Settings
from pypole_gql.web.cors import EXPOSED_HEADERS
from tests.auth.support import AUTH, new_account
from tests.plugins.app import ClientFactory

FRONTEND = DEV_CORS_ORIGINS[0]
OTHER = "http://evil.example"


def preflight(
    origin: str, method: str = "PUT", headers: str = "authorization,content-type"
) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


async def test_preflight_from_the_frontend_is_allowed(make_client: ClientFactory) -> None:
    async with make_client() as client:
        response = await client.options(f"{AUTH}/preferences", headers=preflight(FRONTEND))

    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == FRONTEND
    assert {"GET", "POST", "PUT"} <= set(headers["access-control-allow-methods"].split(", "))
    allowed = {h.lower() for h in headers["access-control-allow-headers"].split(", ")}
    assert {"authorization", "content-type"} <= allowed
    assert "access-control-allow-credentials" not in headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", f"{AUTH}/register", {"json": new_account()}, 201),
        ("POST", f"{AUTH}/register", {"json": {"email": "x"}}, 422),
        ("GET", f"{AUTH}/me", {"headers": {"Authorization": "Bearer nope"}}, 401),
        ("GET", "/api/v1/no-such-route", {}, 404),
        ("POST", "/graphql", {"json": {"query": "{ __typename }"}}, 200),
    ],
)
async def test_every_answer_carries_the_origin_and_the_exposed_headers(
    make_client: ClientFactory, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    headers = {"Origin": FRONTEND, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    async with make_client() as client:
        response = await client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == FRONTEND
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert set(EXPOSED_HEADERS) <= exposed
    assert "Origin" in response.headers["vary"]


async def test_a_disallowed_origin_gets_no_cors_headers(make_client: ClientFactory) -> None:
    async with make_client() as client:
        refused = await client.options(f"{AUTH}/preferences", headers=preflight(OTHER))
        real = await client.get("/health/live", headers={"Origin": OTHER})

    assert refused.status_code == 400
    assert cors_headers(refused) == {}
    assert real.status_code == 200
    assert cors_headers(real) == {}
    assert "Origin" in real.headers["vary"]


async def test_the_setting_replaces_the_dev_default(make_client: ClientFactory) -> None:
    dashboard = "https://dash.example.org"
    async with make_client(cors_origins=[dashboard]) as client:
        mine = await client.options(
            "/graphql", headers=preflight(dashboard, "POST", "content-type")
        )
        old = await client.options("/graphql", headers=preflight(FRONTEND, "POST", "content-type"))

    assert mine.headers["access-control-allow-origin"] == dashboard
    assert cors_headers(old) == {}


async def test_prod_sends_no_cors_headers_by_default(make_client: ClientFactory) -> None:
    async with make_client(env="prod", jwt_secret="p" * 48) as client:
        response = await client.options(f"{AUTH}/me", headers=preflight(FRONTEND, "GET"))

    assert cors_headers(response) == {}


async def test_preflights_are_not_charged_to_the_rate_limit(make_client: ClientFactory) -> None:
    async with make_client(rate_limit="3/minute") as client:
        with capture_logs() as logs:
            for _ in range(10):
                answer = await client.options(f"{AUTH}/me", headers=preflight(FRONTEND, "GET"))
                assert answer.status_code == 200
        real = await client.get("/api/v1/auth/me", headers={"Origin": FRONTEND})

    # The three real requests of the budget are all still there.
    assert real.status_code == 401
    assert real.headers["x-ratelimit-remaining"] == "2"
    assert not [entry for entry in logs if entry["log_level"] in ("warning", "error")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:3000", ["http://localhost:3000"]),
        (
            "https://a.example, https://b.example:8443/",
            ["https://a.example", "https://b.example:8443"],
        ),
        ("none", []),
        ("*", ["*"]),
    ],
)
def test_origins_setting_is_parsed(value: str, expected: list[str]) -> None:
    settings = Settings(_env_file=None, cors_origins=value)

    assert settings.allowed_origins == expected


@pytest.mark.parametrize("value", ["localhost:3000", "http://host/path", "ftp://x.example"])
def test_an_origin_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a web origin"):
        Settings(_env_file=None, cors_origins=value)
