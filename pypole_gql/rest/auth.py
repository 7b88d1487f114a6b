"""``/api/v1/auth``: the older PyPole backend's account routes over :class:`AuthService`.

Kept compatible with that backend's clients: a duplicate email or username is a 400 with its
old message, login takes a form (or JSON), errors are ``{"detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPBearer
from starlette.requests import Request
from starlette.responses import Response

from pypole_gql.auth.service import AuthService
from pypole_gql.auth.tokens import parse_bearer
from pypole_gql.domain.users import (
    Credentials,
    LogoutRequest,
    PreferencesUpdate,
    Principal,
    ProfileUpdate,
    RefreshRequest,
    Registration,
)
from pypole_gql.errors import BadRequest, Conflict, Unauthenticated
from pypole_gql.resources import get_resources
from pypole_gql.rest.inputs import FORM, JSON, form_or_json_body, json_body
from pypole_gql.rest.responses import SECURITY_SCHEME, errors
from pypole_gql.rest.schemas import MessageBody, TokenBody, UserBody, respond, user_body

router = APIRouter(prefix="/auth", tags=["auth"])


class _Bearer(HTTPBearer):
    """The ``Authorization: Bearer`` token, or ``None``: documented as FastAPI's bearer
    scheme, read as the GraphQL context reads it (:func:`parse_bearer`)."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return parse_bearer(request.headers.get("authorization"))


_bearer = _Bearer(
    scheme_name=SECURITY_SCHEME,
    bearerFormat="JWT",
    description="The `access_token` of a login or refresh",
    auto_error=False,
)
Token = Annotated[str | None, Depends(_bearer)]


def _service(request: Request) -> AuthService:
    return get_resources(request).auth


async def _principal(request: Request, token: Token) -> Principal:
    if token is None:
        raise Unauthenticated()
    return await _service(request).authenticate(token)


Me = Annotated[Principal, Depends(_principal)]


@contextmanager
def _duplicates_are_400() -> Iterator[None]:
    """The old backend's shape: a duplicate email or username was a 400."""
    try:
        yield
    except Conflict as exc:
        raise BadRequest(exc.message) from None


@router.post(
    "/register",
    status_code=201,
    response_model=UserBody,
    operation_id="register",
    summary="Create an account",
    description="`is_superuser` and any other unknown field is ignored.",
    response_description="The new account",
    responses=errors(400, 413, 422, 503, text_422=True),
)
async def register(
    request: Request, data: Annotated[Registration, json_body(Registration)]
) -> Response:
    with _duplicates_are_400():
        user = await _service(request).register(data)
    return respond(user_body(user), 201)


@router.post(
    "/login",
    response_model=TokenBody,
    operation_id="login",
    summary="Log in with email and password",
    description="Form-urlencoded as OAuth2's password flow sends it (`username` is accepted "
    "for `email`), or JSON. A wrong password and an unknown email give the same 401.",
    responses=errors(401, 403, 413, 422, 503, text_422=True),
)
async def login(
    request: Request, credentials: Annotated[Credentials, form_or_json_body(Credentials)]
) -> Response:
    return respond(TokenBody.of(await _service(request).login(credentials)))


@router.get(
    "/me",
    response_model=UserBody,
    operation_id="get_me",
    summary="The account of the access token",
    responses=errors(401, 403, 503),
)
async def me(principal: Me) -> Response:
    return respond(user_body(principal.user))


@router.put(
    "/me",
    response_model=UserBody,
    operation_id="update_me",
    summary="Change email, username or password",
    description="A field left out is unchanged. A new email or password needs "
    "`current_password`; a new password also ends the account's other sessions.",
    responses=errors(400, 401, 403, 413, 422, 503, text_422=True),
)
async def update_me(
    request: Request, principal: Me, data: Annotated[ProfileUpdate, json_body(ProfileUpdate)]
) -> Response:
    with _duplicates_are_400():
        user = await _service(request).update_me(principal, data)
    return respond(user_body(user))


@router.put(
    "/preferences",
    response_model=UserBody,
    operation_id="update_preferences",
    summary="Change favourite team, favourite driver and theme",
    description="Only the fields sent change; a null favourite clears it.",
    responses=errors(401, 403, 413, 422, 503, text_422=True),
)
async def update_preferences(
    request: Request,
    principal: Me,
    data: Annotated[PreferencesUpdate, json_body(PreferencesUpdate)],
) -> Response:
    return respond(user_body(await _service(request).update_preferences(principal, data)))


@router.post(
    "/refresh",
    response_model=TokenBody,
    operation_id="refresh",
    summary="Exchange a refresh token for new tokens",
    description="The refresh token is spent. Presenting a spent one again revokes its whole "
    "session.",
    responses=errors(401, 403, 413, 422, 503, text_422=True),
)
async def refresh(
    request: Request,
    data: Annotated[RefreshRequest, form_or_json_body(RefreshRequest, media=(JSON, FORM))],
) -> Response:
    return respond(TokenBody.of(await _service(request).refresh(data.refresh_token)))


@router.post(
    "/logout",
    response_model=MessageBody,
    operation_id="logout",
    summary="End the session",
    description="Revokes the access token and its session's refresh tokens, and the session "
    "of `refresh_token` if given. Either credential is enough; 401 when neither is valid.",
    responses=errors(401, 413, 422, 503, text_422=True),
)
async def logout(
    request: Request,
    token: Token,
    data: Annotated[LogoutRequest, json_body(LogoutRequest, required=False)],
) -> Response:
    await _service(request).logout(access_token=token, refresh_token=data.refresh_token)
    return respond(MessageBody(message="Successfully logged out"))
