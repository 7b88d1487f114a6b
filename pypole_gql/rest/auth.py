"""``/api/v1/auth``: the older PyPole backend's account routes over :class:`AuthService`.

Kept compatible with that backend's clients: a duplicate email or username is a 400 with its
old message, login takes a form (or JSON), errors are ``{"detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pypole_gql.auth.service import AuthService
from pypole_gql.auth.tokens import parse_bearer
from pypole_gql.domain.users import (
    AuthSession,
    Credentials,
    LogoutRequest,
    PreferencesUpdate,
    Principal,
    ProfileUpdate,
    RefreshRequest,
    Registration,
    User,
)
from pypole_gql.errors import BadUserInput, Conflict, Unauthenticated
from pypole_gql.resources import get_resources
from pypole_gql.rest.common import (
    ORJSONResponse,
    RequestValidationError,
    parse_form_or_json,
    parse_json,
)


def _service(request: Request) -> AuthService:
    return get_resources(request).auth


def _bearer(request: Request) -> str | None:
    return parse_bearer(request.headers.get("authorization"))


async def _principal(request: Request) -> Principal:
    token = _bearer(request)
    if token is None:
        raise Unauthenticated()
    return await _service(request).authenticate(token)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "favorite_team": user.favorite_team,
        "favorite_driver": user.favorite_driver,
        "theme": user.theme.value,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def _tokens_json(auth: AuthSession) -> dict[str, Any]:
    return {
        "access_token": auth.access_token,
        "token_type": auth.token_type,
        "refresh_token": auth.refresh_token,
        "expires_in": auth.expires_in,
    }


@contextmanager
def _legacy_errors() -> Iterator[None]:
    """The old backend's shapes: duplicates were 400s, and a field-level problem found by the
    service is listed in a 422 like any other invalid field."""
    try:
        yield
    except Conflict as exc:
        raise HTTPException(400, detail=exc.message) from None
    except BadUserInput as exc:
        if exc.field is None:
            raise
        raise RequestValidationError(
            [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]
        ) from None


async def register(request: Request) -> Response:
    data = await parse_json(request, Registration)
    with _legacy_errors():
        user = await _service(request).register(data)
    return ORJSONResponse(user_json(user), status_code=201)


async def login(request: Request) -> Response:
    credentials = await parse_form_or_json(request, Credentials)
    auth = await _service(request).login(credentials)
    return ORJSONResponse(_tokens_json(auth))


async def me(request: Request) -> Response:
    principal = await _principal(request)
    return ORJSONResponse(user_json(principal.user))


async def update_me(request: Request) -> Response:
    principal = await _principal(request)
    data = await parse_json(request, ProfileUpdate)
    with _legacy_errors():
        user = await _service(request).update_me(principal, data)
    return ORJSONResponse(user_json(user))


async def update_preferences(request: Request) -> Response:
    principal = await _principal(request)
    data = await parse_json(request, PreferencesUpdate)
    user = await _service(request).update_preferences(principal, data)
    return ORJSONResponse(user_json(user))


async def refresh(request: Request) -> Response:
    data = await parse_form_or_json(request, RefreshRequest)
    auth = await _service(request).refresh(data.refresh_token)
    return ORJSONResponse(_tokens_json(auth))


async def logout(request: Request) -> Response:
    data = await parse_json(request, LogoutRequest, allow_empty=True)
    await _service(request).logout(access_token=_bearer(request), refresh_token=data.refresh_token)
    return ORJSONResponse({"message": "Successfully logged out"})


async def me_resource(request: Request) -> Response:
    # One route for both methods, so that a 405 on /me names both in its Allow header.
    return await (update_me(request) if request.method == "PUT" else me(request))


routes: list[BaseRoute] = [
    Route("/register", register, methods=["POST"]),
    Route("/login", login, methods=["POST"]),
    Route("/me", me_resource, methods=["GET", "PUT"]),
    Route("/preferences", update_preferences, methods=["PUT"]),
    Route("/refresh", refresh, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
