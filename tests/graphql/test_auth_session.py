"""Refresh, rotation, reuse detection and logout over GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import LOGIN, LOGOUT, ME, REFRESH, error_of, gql, gql_register
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def refresh(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    return await gql(client, REFRESH, {"token": token})


async def test_refresh_returns_new_tokens(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await refresh(client, session["refreshToken"])

    payload = body["data"]["refreshToken"]  # type: ignore[index]
    assert payload["refreshToken"] != session["refreshToken"]
    assert payload["accessToken"] != session["accessToken"]
    assert payload["user"]["id"] == session["user"]["id"]
    me = await gql(client, ME, token=payload["accessToken"])
    assert me["data"]["me"]["id"] == session["user"]["id"]


async def test_refresh_token_is_single_use(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    await refresh(client, session["refreshToken"])

    body = await refresh(client, session["refreshToken"])

    assert error_of(body) == {
        "message": "Invalid or expired refresh token",
        "code": "UNAUTHENTICATED",
        "field": None,
    }


async def test_rotation_chain_keeps_working(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    token = session["refreshToken"]

    for _ in range(3):
        body = await refresh(client, token)
        token = body["data"]["refreshToken"]["refreshToken"]  # type: ignore[index]

    assert "errors" not in body


async def test_reused_refresh_token_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    first = session["refreshToken"]
    second = (await refresh(client, first))["data"]["refreshToken"]  # type: ignore[index]

    reuse = await refresh(client, first)
    assert error_of(reuse)["code"] == "UNAUTHENTICATED"

    # The newest token of the family, never used, stops working too...
    newest = await refresh(client, second["refreshToken"])
    assert error_of(newest)["code"] == "UNAUTHENTICATED"
    # ...and so do the family's access tokens.
    me = await gql(client, ME, token=second["accessToken"])
    assert error_of(me)["code"] == "UNAUTHENTICATED"


async def test_reuse_leaves_other_sessions_alone(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    other = (
        await gql(
            client, LOGIN, {"email": session["user"]["email"], "password": session["password"]}
        )
    )["data"]["login"]
    await refresh(client, session["refreshToken"])
    await refresh(client, session["refreshToken"])

    body = await refresh(client, other["refreshToken"])

    assert body["data"]["refreshToken"]["user"]["id"] == session["user"]["id"]  # type: ignore[index]


async def test_unknown_refresh_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    body = await refresh(client, "no-such-token")

    assert error_of(body)["code"] == "UNAUTHENTICATED"


async def test_logout_rejects_the_access_token_afterwards(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await gql(client, LOGOUT, token=session["accessToken"])

    assert body == {"data": {"logout": True}}
    me = await gql(client, ME, token=session["accessToken"])
    assert error_of(me) == {
        "message": "Invalid or expired access token",
        "code": "UNAUTHENTICATED",
        "field": None,
    }


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    await gql(client, LOGOUT, {"token": session["refreshToken"]}, token=session["accessToken"])

    assert error_of(await refresh(client, session["refreshToken"]))["code"] == "UNAUTHENTICATED"


async def test_logout_with_only_a_refresh_token(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await gql(client, LOGOUT, {"token": session["refreshToken"]})

    assert body == {"data": {"logout": True}}
    assert error_of(await refresh(client, session["refreshToken"]))["code"] == "UNAUTHENTICATED"
    me = await gql(client, ME, token=session["accessToken"])
    assert error_of(me)["code"] == "UNAUTHENTICATED"


async def test_logout_keeps_other_sessions(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    other = (
        await gql(
            client, LOGIN, {"email": session["user"]["email"], "password": session["password"]}
        )
    )["data"]["login"]

    await gql(client, LOGOUT, token=session["accessToken"])

    me = await gql(client, ME, token=other["accessToken"])
    assert me["data"]["me"]["id"] == session["user"]["id"]


async def test_logout_without_credentials_is_unauthenticated(client: httpx.AsyncClient) -> None:
    body = await gql(client, LOGOUT)

    assert error_of(body)["code"] == "UNAUTHENTICATED"


async def test_second_logout_with_the_same_token_is_unauthenticated(
    client: httpx.AsyncClient,
) -> None:
    session = await gql_register(client)
    await gql(client, LOGOUT, token=session["accessToken"])

    body = await gql(client, LOGOUT, token=session["accessToken"])

    assert error_of(body)["code"] == "UNAUTHENTICATED"
