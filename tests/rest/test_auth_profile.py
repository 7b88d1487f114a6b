"""GET/PUT /me and PUT /preferences over REST."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.auth.support import (
    AUTH,
    bearer,
    invalid_fields,
    new_account,
    rest_register,
    rest_session,
)
from tests.plugins.app import ClientFactory


@pytest.fixture
async def client(make_client: ClientFactory, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(database_url=db_url) as http:
        yield http


async def put_me(
    client: httpx.AsyncClient, session: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    return await client.put(
        f"{AUTH}/me", json=body, headers=bearer(session["tokens"]["access_token"])
    )


async def test_get_me(client: httpx.AsyncClient) -> None:
    session = await rest_session(client, favorite_driver="Lando Norris")

    response = await client.get(f"{AUTH}/me", headers=bearer(session["tokens"]["access_token"]))

    assert response.status_code == 200
    expected = {k: v for k, v in session["user"].items() if k != "password"}
    assert response.json() == expected
    assert response.json()["favorite_driver"] == "Lando Norris"


async def test_update_username(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)
    new_name = new_account()["username"]

    response = await put_me(client, session, {"username": new_name})

    assert response.status_code == 200
    assert response.json()["username"] == new_name
    assert response.json()["updated_at"] > session["user"]["updated_at"]


async def test_update_email_and_password_with_the_current_password(
    client: httpx.AsyncClient,
) -> None:
    session = await rest_session(client)
    new_email = new_account()["email"]

    response = await put_me(
        client,
        session,
        {
            "email": new_email,
            "password": "my brand new password",
            "current_password": session["user"]["password"],
        },
    )

    assert response.status_code == 200
    assert response.json()["email"] == new_email
    login = await client.post(
        f"{AUTH}/login", data={"email": new_email, "password": "my brand new password"}
    )
    assert login.status_code == 200


async def test_missing_current_password_is_422(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)

    response = await put_me(client, session, {"password": "my brand new password"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "current_password: The current password is required to change the email "
        "or the password",
        "errors": [
            {
                "loc": ["body", "current_password"],
                "msg": "The current password is required to change the email or the password",
                "type": "value_error",
            }
        ],
    }


async def test_wrong_current_password_is_422(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)

    response = await put_me(
        client, session, {"email": new_account()["email"], "current_password": "nope nope"}
    )

    assert response.status_code == 422
    assert invalid_fields(response)[0]["loc"] == ["body", "current_password"]
    assert invalid_fields(response)[0]["msg"] == "Current password is incorrect"


async def test_taken_email_is_400(client: httpx.AsyncClient) -> None:
    other = await rest_register(client)
    session = await rest_session(client)

    response = await put_me(
        client,
        session,
        {"email": other["email"].upper(), "current_password": session["user"]["password"]},
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}


async def test_taken_username_is_400(client: httpx.AsyncClient) -> None:
    other = await rest_register(client)
    session = await rest_session(client)

    response = await put_me(client, session, {"username": other["username"]})

    assert response.status_code == 400
    assert response.json() == {"detail": "Username already taken"}


async def test_is_superuser_in_an_update_is_ignored(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)

    response = await put_me(client, session, {"is_superuser": True, "is_active": False})

    assert response.status_code == 200
    assert response.json()["is_superuser"] is False
    assert response.json()["is_active"] is True


async def test_update_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.put(f"{AUTH}/me", json={"username": "someone"})

    assert response.status_code == 401


async def test_update_preferences(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)

    response = await client.put(
        f"{AUTH}/preferences",
        json={
            "favorite_team": "Aston Martin",
            "favorite_driver": "Fernando Alonso",
            "theme": "light",
        },
        headers=bearer(session["tokens"]["access_token"]),
    )

    assert response.status_code == 200
    user = response.json()
    assert (user["favorite_team"], user["favorite_driver"], user["theme"]) == (
        "Aston Martin",
        "Fernando Alonso",
        "light",
    )


async def test_partial_preferences_keep_the_rest(client: httpx.AsyncClient) -> None:
    session = await rest_session(client, favorite_team="Haas", favorite_driver="Ollie Bearman")

    response = await client.put(
        f"{AUTH}/preferences",
        json={"favorite_driver": None, "theme": None},
        headers=bearer(session["tokens"]["access_token"]),
    )

    user = response.json()
    assert (user["favorite_team"], user["favorite_driver"], user["theme"]) == (
        "Haas",
        None,
        "dark",
    )


async def test_invalid_theme_is_422(client: httpx.AsyncClient) -> None:
    session = await rest_session(client)

    response = await client.put(
        f"{AUTH}/preferences",
        json={"theme": "neon", "favorite_team": "T" * 101},
        headers=bearer(session["tokens"]["access_token"]),
    )

    assert response.status_code == 422
    assert [e["loc"] for e in invalid_fields(response)] == [
        ["body", "favorite_team"],
        ["body", "theme"],
    ]
