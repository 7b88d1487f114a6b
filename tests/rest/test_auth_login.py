from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import AUTH, invalid_fields, rest_register
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def test_form_login_returns_tokens(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    response = await client.post(
        f"{AUTH}/login", data={"email": user["email"], "password": user["password"]}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    me = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user["id"]


async def test_json_login_is_accepted(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    response = await client.post(
        f"{AUTH}/login", json={"email": user["email"], "password": user["password"]}
    )

    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_oauth2_username_field_is_accepted_as_the_email(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    response = await client.post(
        f"{AUTH}/login", data={"username": user["email"], "password": user["password"]}
    )

    assert response.status_code == 200


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    response = await client.post(
        f"{AUTH}/login", data={"email": user["email"].upper(), "password": user["password"]}
    )

    assert response.status_code == 200


async def test_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    user = await rest_register(client)

    response = await client.post(
        f"{AUTH}/login", data={"email": user["email"], "password": "definitely wrong"}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_unknown_email_is_the_same_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/login", data={"email": "no-one-here@example.com", "password": "whatever-123"}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_missing_password_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{AUTH}/login", data={"email": "a@example.com"})

    assert response.status_code == 422
    assert [e["loc"] for e in invalid_fields(response)] == [["body", "password"]]


async def test_huge_password_at_login_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/login", data={"email": "a@example.com", "password": "x" * 10_000}
    )

    assert response.status_code == 422
    assert [e["loc"] for e in invalid_fields(response)] == [["body", "password"]]
