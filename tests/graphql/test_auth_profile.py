"""me, updateMe and updatePreferences over GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.auth.support import (
    LOGIN,
    ME,
    UPDATE_ME,
    UPDATE_PREFERENCES,
    error_of,
    gql,
    gql_register,
    new_account,
)
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def update_me(
    client: httpx.AsyncClient, session: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    return await gql(client, UPDATE_ME, {"input": changes}, token=session["accessToken"])


async def test_me_returns_the_signed_in_user(client: httpx.AsyncClient) -> None:
    session = await gql_register(client, favoriteTeam="McLaren")

    body = await gql(client, ME, token=session["accessToken"])

    assert body == {"data": {"me": session["user"]}}
    assert body["data"]["me"]["favoriteTeam"] == "McLaren"


async def test_update_username(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    new_name = new_account()["username"]

    body = await update_me(client, session, username=new_name)

    user = body["data"]["updateMe"]
    assert user["username"] == new_name
    assert user["updatedAt"] > session["user"]["updatedAt"]
    assert user["createdAt"] == session["user"]["createdAt"]


async def test_update_email_with_the_current_password(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    new_email = new_account()["email"]

    body = await update_me(client, session, email=new_email, currentPassword=session["password"])

    assert body["data"]["updateMe"]["email"] == new_email
    login = await gql(client, LOGIN, {"email": new_email, "password": session["password"]})
    assert login["data"]["login"]["user"]["id"] == session["user"]["id"]
    old = await gql(
        client, LOGIN, {"email": session["user"]["email"], "password": session["password"]}
    )
    assert error_of(old)["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("change", ["email", "password"])
async def test_change_without_the_current_password_is_refused(
    client: httpx.AsyncClient, change: str
) -> None:
    session = await gql_register(client)
    value = new_account()["email"] if change == "email" else "a whole new password"

    body = await update_me(client, session, **{change: value})

    assert error_of(body) == {
        "message": "The current password is required to change the email or the password",
        "code": "BAD_USER_INPUT",
        "field": "currentPassword",
    }


@pytest.mark.parametrize("change", ["email", "password"])
async def test_change_with_a_wrong_current_password_is_refused(
    client: httpx.AsyncClient, change: str
) -> None:
    session = await gql_register(client)
    value = new_account()["email"] if change == "email" else "a whole new password"

    body = await update_me(client, session, **{change: value, "currentPassword": "not it at all"})

    assert error_of(body) == {
        "message": "Current password is incorrect",
        "code": "BAD_USER_INPUT",
        "field": "currentPassword",
    }
    me = await gql(client, ME, token=session["accessToken"])
    assert me["data"]["me"]["email"] == session["user"]["email"]


async def test_update_password(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    email = session["user"]["email"]

    body = await update_me(
        client, session, password="a whole new password", currentPassword=session["password"]
    )

    assert body["data"]["updateMe"]["id"] == session["user"]["id"]
    new = await gql(client, LOGIN, {"email": email, "password": "a whole new password"})
    assert new["data"]["login"]["user"]["id"] == session["user"]["id"]
    old = await gql(client, LOGIN, {"email": email, "password": session["password"]})
    assert error_of(old)["code"] == "UNAUTHENTICATED"


async def test_new_password_too_short_is_refused(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await update_me(client, session, password="short", currentPassword=session["password"])

    assert error_of(body)["field"] == "password"
    assert error_of(body)["code"] == "BAD_USER_INPUT"


async def test_email_of_another_account_is_a_conflict(client: httpx.AsyncClient) -> None:
    other = await gql_register(client)
    session = await gql_register(client)

    body = await update_me(
        client,
        session,
        email=other["user"]["email"].upper(),
        currentPassword=session["password"],
    )

    assert error_of(body) == {
        "message": "Email already registered",
        "code": "CONFLICT",
        "field": "email",
    }


async def test_username_of_another_account_is_a_conflict(client: httpx.AsyncClient) -> None:
    other = await gql_register(client)
    session = await gql_register(client)

    body = await update_me(client, session, username=other["user"]["username"])

    assert error_of(body) == {
        "message": "Username already taken",
        "code": "CONFLICT",
        "field": "username",
    }


async def test_own_email_in_another_case_is_not_a_conflict(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)
    local, domain = session["user"]["email"].split("@")

    body = await update_me(
        client, session, email=f"{local.upper()}@{domain}", currentPassword=session["password"]
    )

    assert body["data"]["updateMe"]["email"] == f"{local.upper()}@{domain}"


async def test_is_superuser_cannot_be_updated(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await update_me(client, session, isSuperuser=True)

    assert error_of(body)["code"] == "BAD_USER_INPUT"
    assert "isSuperuser" in error_of(body)["message"]


async def test_update_preferences(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"favoriteTeam": "Williams", "favoriteDriver": "Alex Albon", "theme": "SYSTEM"}},
        token=session["accessToken"],
    )

    user = body["data"]["updatePreferences"]
    assert (user["favoriteTeam"], user["favoriteDriver"], user["theme"]) == (
        "Williams",
        "Alex Albon",
        "SYSTEM",
    )
    me = await gql(client, ME, token=session["accessToken"])
    assert me["data"]["me"] == user


async def test_preferences_left_out_are_unchanged_and_null_clears(
    client: httpx.AsyncClient,
) -> None:
    session = await gql_register(
        client, favoriteTeam="Alpine", favoriteDriver="Pierre Gasly", theme="LIGHT"
    )

    body = await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"favoriteTeam": None}},
        token=session["accessToken"],
    )

    user = body["data"]["updatePreferences"]
    assert (user["favoriteTeam"], user["favoriteDriver"], user["theme"]) == (
        None,
        "Pierre Gasly",
        "LIGHT",
    )


async def test_too_long_favorite_is_bad_user_input(client: httpx.AsyncClient) -> None:
    session = await gql_register(client)

    body = await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"favoriteDriver": "D" * 101}},
        token=session["accessToken"],
    )

    assert error_of(body)["code"] == "BAD_USER_INPUT"
    assert error_of(body)["field"] == "favoriteDriver"
