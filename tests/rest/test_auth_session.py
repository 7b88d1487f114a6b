"""Refresh, rotation, reuse detection and logout over REST."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import AUTH, bearer, invalid_fields, rest_login, rest_session
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{AUTH}/refresh", json={"refresh_token": token})


async def test_refresh_returns_new_tokens(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)
    tokens = session["tokens"]

    response = await refresh(client, tokens["refresh_token"])

    assert response.status_code == 200
    new = response.json()
    assert new["token_type"] == "bearer"
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["access_token"] != tokens["access_token"]
    me = await client.get(f"{AUTH}/me", headers=bearer(new["access_token"]))
    assert me.json()["id"] == session["user"]["id"]


async def test_used_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    tokens = (await rest_session(client))["tokens"]
    await refresh(client, tokens["refresh_token"])

    response = await refresh(client, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired refresh token"}


async def test_reused_refresh_token_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    tokens = (await rest_session(client))["tokens"]
    second = (await refresh(client, tokens["refresh_token"])).json()

    assert (await refresh(client, tokens["refresh_token"])).status_code == 401

    assert (await refresh(client, second["refresh_token"])).status_code == 401
    me = await client.get(f"{AUTH}/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401


async def test_reuse_leaves_other_sessions_alone(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)
    other = await rest_login(client, session["user"]["email"], session["user"]["password"])
    await refresh(client, session["tokens"]["refresh_token"])
    await refresh(client, session["tokens"]["refresh_token"])

    response = await refresh(client, other["refresh_token"])

    assert response.status_code == 200


async def test_refresh_without_a_token_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{AUTH}/refresh", json={})

    assert response.status_code == 422
    assert [e["loc"] for e in invalid_fields(response)] == [["body", "refresh_token"]]


async def test_logout_rejects_the_access_token_afterwards(client: httpx.AsyncClient) -> None:
    tokens = (await rest_session(client))["tokens"]

    response = await client.post(f"{AUTH}/logout", headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert response.json() == {"message": "Successfully logged out"}
    me = await client.get(f"{AUTH}/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.json() == {"detail": "Invalid or expired access token"}
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401


async def test_logout_with_the_refresh_token_in_the_body(client: httpx.AsyncClient) -> None:
    tokens = (await rest_session(client))["tokens"]

    response = await client.post(
        f"{AUTH}/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(tokens["access_token"]),
    )

    assert response.status_code == 200
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401


async def test_logout_without_credentials_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{AUTH}/logout")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
