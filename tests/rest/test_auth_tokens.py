"""Access tokens that must not work, over REST."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import AUTH, BAD_TOKEN_CASES, bad_token, bearer, rest_session
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
async def test_bad_access_token_is_401(client: httpx.AsyncClient, case: str) -> None:
    tokens = (await rest_session(client))["tokens"]
    token = bad_token(case, tokens["access_token"], tokens["refresh_token"])

    response = await client.get(f"{AUTH}/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired access token"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bad_token_cannot_change_preferences(client: httpx.AsyncClient) -> None:
    tokens = (await rest_session(client))["tokens"]
    token = bad_token("other_key", tokens["access_token"], tokens["refresh_token"])

    response = await client.put(
        f"{AUTH}/preferences", json={"theme": "light"}, headers=bearer(token)
    )

    assert response.status_code == 401
    me = await client.get(f"{AUTH}/me", headers=bearer(tokens["access_token"]))
    assert me.json()["theme"] == "dark"


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{AUTH}/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"
