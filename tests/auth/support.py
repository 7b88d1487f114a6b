"""Helpers for the account tests over GraphQL and REST: unique accounts, requests, forged tokens.

The PostgreSQL tests share one database per session, so every account gets unique names.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tests.plugins.app import TEST_SECRET

PASSWORD = "correct horse battery"
ISSUER = AUDIENCE = "pypole-gql"  # the settings' defaults
AUTH = "/api/v1/auth"

PAYLOAD_FIELDS = (
    "accessToken refreshToken tokenType expiresIn "
    "user { id email username isActive favoriteTeam favoriteDriver theme createdAt updatedAt }"
)
USER_FIELDS = "id email username isActive favoriteTeam favoriteDriver theme createdAt updatedAt"
REGISTER = f"""
mutation Register($input: RegisterInput!) {{ register(input: $input) {{ {PAYLOAD_FIELDS} }} }}
"""
LOGIN = f"""
mutation Login($email: String!, $password: String!) {{
  login(email: $email, password: $password) {{ {PAYLOAD_FIELDS} }}
}}
"""
REFRESH = f"""
mutation Refresh($token: String!) {{ refreshToken(refreshToken: $token) {{ {PAYLOAD_FIELDS} }} }}
"""
LOGOUT = "mutation Logout($token: String) { logout(refreshToken: $token) }"
ME = f"query Me {{ me {{ {USER_FIELDS} }} }}"
UPDATE_ME = f"""
mutation UpdateMe($input: UpdateMeInput!) {{ updateMe(input: $input) {{ {USER_FIELDS} }} }}
"""
UPDATE_PREFERENCES = f"""
mutation Prefs($input: PreferencesInput!) {{ updatePreferences(input: $input) {{ {USER_FIELDS} }} }}
"""


def unique() -> str:
    return uuid.uuid4().hex[:12]


def new_account(**overrides: Any) -> dict[str, Any]:
    """Registration fields with an email and username no other test uses."""
    tag = unique()
    account: dict[str, Any] = {
        "email": f"driver.{tag}@example.com",
        "username": f"driver_{tag}",
        "password": PASSWORD,
    }
    account.update(overrides)
    return account


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- GraphQL ---------------------------------------------------------------------------------


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=bearer(token) if token else {},
    )
    body: dict[str, Any] = response.json()
    return body


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a GraphQL response, as ``{"message", "code", "field"}``."""
    errors = body.get("errors")
    assert errors and len(errors) == 1, body
    extensions = errors[0].get("extensions", {})
    return {
        "message": errors[0]["message"],
        "code": extensions.get("code"),
        "field": extensions.get("field"),
    }


async def gql_register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Register over GraphQL; returns the AuthPayload plus the password used."""
    account = new_account(**overrides)
    body = await gql(client, REGISTER, {"input": account})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["register"]
    payload["password"] = account["password"]
    return payload


# -- REST ------------------------------------------------------------------------------------


async def rest_register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Register over REST; returns the user JSON plus the password used."""
    account = new_account(**overrides)
    response = await client.post(f"{AUTH}/register", json=account)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    user["password"] = account["password"]
    return user


async def rest_login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    response = await client.post(f"{AUTH}/login", data={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def rest_session(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """A registered, logged-in user: ``{"user": ..., "tokens": ...}``."""
    user = await rest_register(client, **overrides)
    tokens = await rest_login(client, user["email"], user["password"])
    return {"user": user, "tokens": tokens}


# -- forged and broken tokens ----------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """An access token's claims, read without verifying (to forge variations of it)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forge(
    claims: dict[str, Any],
    *,
    secret: str = TEST_SECRET,
    algorithm: str = "HS256",
    **changes: Any,
) -> str:
    return jwt.encode({**claims, **changes}, secret, algorithm=algorithm)


# (as typed at registration, as stored, as typed at login); {tag} makes each one unique.
UNUSUAL_EMAILS = [
    pytest.param(
        "O'Brien+%_{tag}@Example.COM",
        "O'Brien+%_{tag}@example.com",
        "o'brien+%_{tag}@EXAMPLE.com",
        id="sql-wildcards",
    ),
    pytest.param(
        "José.Müller.{tag}@Exämple.DE",
        "José.Müller.{tag}@exämple.de",
        "JOSÉ.MÜLLER.{tag}@EXÄMPLE.de",
        id="unicode",
    ),
    pytest.param(
        "x{tag}'OR'1'='1@example.com",
        "x{tag}'OR'1'='1@example.com",
        "X{tag}'or'1'='1@Example.com",
        id="sql-quotes",
    ),
]

BAD_TOKEN_CASES = (
    "tampered",
    "alg_none",
    "expired",
    "wrong_audience",
    "wrong_issuer",
    "other_key",
    "other_algorithm",
    "refresh_token_as_access",
    "refresh_type_claim",
    "garbage",
)


def bad_token(case: str, access_token: str, refresh_token: str) -> str:
    """A token built from a valid session that must be refused as an access token."""
    claims = claims_of(access_token)
    now = datetime.now(UTC)
    if case == "tampered":
        # Another user id in the payload, the original signature kept.
        header, _payload, signature = access_token.split(".")
        return f"{header}.{_b64({**claims, 'sub': str(int(claims['sub']) + 1)})}.{signature}"
    if case == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if case == "expired":
        return forge(claims, iat=now - timedelta(hours=2), exp=now - timedelta(hours=1))
    if case == "wrong_audience":
        return forge(claims, aud="someone-else")
    if case == "wrong_issuer":
        return forge(claims, iss="https://evil.example")
    if case == "other_key":
        return forge(claims, secret="another-secret-0123456789-abcdefghijklmnop")
    if case == "other_algorithm":
        with warnings.catch_warnings():  # PyJWT finds our 49-byte secret short for HS512
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            return forge(claims, algorithm="HS512")
    if case == "refresh_token_as_access":
        return refresh_token
    if case == "refresh_type_claim":
        return forge(claims, typ="refresh")
    if case == "garbage":
        return "not-a-token"
    raise AssertionError(case)


def invalid_fields(response: httpx.Response) -> list[dict[str, Any]]:
    """The invalid fields of an account route's 422: ``detail`` says them in one sentence (the
    older web frontend shows it as text), ``errors`` lists each with its ``loc``."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["detail"], str), body
    issues: list[dict[str, Any]] = body["errors"]
    assert issues
    for issue in issues:
        assert issue["msg"] in body["detail"]
    return issues
