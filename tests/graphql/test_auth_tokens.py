"""Access tokens that must not work, over GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import (
    BAD_TOKEN_CASES,
    ME,
    UPDATE_PREFERENCES,
    bad_token,
    error_of,
    gql,
    gql_register,
)
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
async def test_bad_access_token_is_unauthenticated(client: httpx.AsyncClient, case: str) -> None:
    session = await gql_register(client)
    token = bad_token(case, session["accessToken"], session["refreshToken"])

    body = await gql(client, ME, token=token)

    assert error_of(body) == {
        "message": "Invalid or expired access token",
        "code": "UNAUTHENTICATED",
        "field": None,
    }
    assert body["data"] == {"me": None}


async def test_bad_token_cannot_mutate(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    token = bad_token("tampered", session["accessToken"], session["refreshToken"])

    body = await gql(client, UPDATE_PREFERENCES, {"input": {"theme": "LIGHT"}}, token=token)

    assert error_of(body)["code"] == "UNAUTHENTICATED"
    me = await gql(client, ME, token=session["accessToken"])
    assert me["data"]["me"]["theme"] == "DARK"


async def test_me_without_a_token_is_null(client: httpx.AsyncClient) -> None:
    assert await gql(client, ME) == {"data": {"me": None}}


async def test_mutation_without_a_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    body = await gql(client, UPDATE_PREFERENCES, {"input": {"theme": "LIGHT"}})

    assert error_of(body) == {
        "message": "Not authenticated",
        "code": "UNAUTHENTICATED",
        "field": None,
    }


async def test_non_bearer_scheme_is_anonymous(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    response = await client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": f"Token {session['accessToken']}"},
    )

    assert response.json() == {"data": {"me": None}}
