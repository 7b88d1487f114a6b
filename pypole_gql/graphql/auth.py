"""Accounts over GraphQL: ``me``, registration, login, token refresh, logout, profile changes.

Resolvers parse their input into the domain's input models, call
:class:`~pypole_gql.auth.service.AuthService` and map the result; errors name the offending
field in GraphQL's spelling (``favoriteTeam``, ``currentPassword``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from pypole_gql.domain.users import (
    USERNAME_DESCRIPTION,
    AuthSession,
    Credentials,
    LogoutRequest,
    PreferencesUpdate,
    Principal,
    ProfileUpdate,
    RefreshRequest,
    Registration,
    Theme,
    User,
)
from pypole_gql.errors import AppError, BadUserInput, Unauthenticated
from pypole_gql.graphql.auth_limit import AuthRateLimit
from pypole_gql.graphql.context import GraphQLContext

M = TypeVar("M", bound=BaseModel)
Info = strawberry.Info[GraphQLContext, None]
_PRINCIPAL_KEY = "auth.principal"


# -- viewer ---------------------------------------------------------------------------------


async def viewer(info: Info) -> Principal | None:
    """Who the request's bearer token speaks for; ``None`` without a token.

    A token that is present but invalid, expired or revoked is an ``UNAUTHENTICATED`` error,
    not an anonymous request. Resolved once per request, however many fields ask.
    """
    context = info.context
    task: asyncio.Task[Principal | None] | None = context.cache.get(_PRINCIPAL_KEY)
    if task is None:
        token = context.bearer_token
        task = asyncio.ensure_future(_authenticate(context, token))
        context.cache[_PRINCIPAL_KEY] = task
    return await task


async def _authenticate(context: GraphQLContext, token: str | None) -> Principal | None:
    if token is None:
        return None
    return await context.resources.auth.authenticate(token)


async def require_user(info: Info) -> Principal:
    """The request's principal, or an ``UNAUTHENTICATED`` error."""
    principal = await viewer(info)
    if principal is None:
        raise Unauthenticated()
    return principal


# -- input and error mapping ----------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@contextmanager
def _graphql_field_names() -> Iterator[None]:
    """Rename an error's field from the domain's snake_case to the schema's camelCase."""
    try:
        yield
    except AppError as exc:
        if exc.field is not None:
            exc.field = _camel(exc.field)
        raise


def _parse(model: type[M], values: dict[str, Any]) -> M:
    """Validate resolver input with the domain's rules; the first problem is reported."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
        field = str(first["loc"][0]) if first["loc"] else None
        message = f"{_camel(field)}: {first['msg']}" if field else first["msg"]
        raise BadUserInput(message, field=field) from None


def _given(**values: Any) -> dict[str, Any]:
    """The arguments the client actually sent: ``UNSET`` ones are left out, so the domain
    model can tell "not sent" from null."""
    return {name: value for name, value in values.items() if value is not strawberry.UNSET}


def _to_domain_theme(values: dict[str, Any]) -> dict[str, Any]:
    theme = values.get("theme")
    if isinstance(theme, ThemeEnum):
        values["theme"] = theme.to_domain()
    return values


# -- types ----------------------------------------------------------------------------------


@strawberry.enum(name="Theme", description="The colour theme of the user interface.")
class ThemeEnum(Enum):
    DARK = strawberry.enum_value("dark", description="Dark background (the default).")
    LIGHT = strawberry.enum_value("light", description="Light background.")
    SYSTEM = strawberry.enum_value("system", description="Follow the device's setting.")

    @classmethod
    def from_domain(cls, theme: Theme) -> ThemeEnum:
        return cls[theme.name]

    def to_domain(self) -> Theme:
        return Theme[self.name]


@strawberry.type(name="User", description="A PyPole account.")
class UserType:
    id: strawberry.ID = strawberry.field(description="The account's unique id.")
    email: str = strawberry.field(description="The email address the account signs in with.")
    username: str = strawberry.field(description="The public name, unique regardless of case.")
    is_active: bool = strawberry.field(
        description="False when the account is deactivated and cannot sign in."
    )
    favorite_team: str | None = strawberry.field(
        description="The user's favourite team, free text as they set it; null when not set."
    )
    favorite_driver: str | None = strawberry.field(
        description="The user's favourite driver, free text as they set it; null when not set."
    )
    theme: ThemeEnum = strawberry.field(description="The preferred interface theme.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the account last changed (UTC).")

    @classmethod
    def from_domain(cls, user: User) -> UserType:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            username=user.username,
            is_active=user.is_active,
            favorite_team=user.favorite_team,
            favorite_driver=user.favorite_driver,
            theme=ThemeEnum.from_domain(user.theme),
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


@strawberry.type(description="The tokens of a new or refreshed session, and its user.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="A short-lived JWT; send it as `Authorization: Bearer <token>`."
    )
    refresh_token: str = strawberry.field(
        description="An opaque token for `refreshToken`. Single use: each refresh returns a "
        "new one, and presenting a used one again ends the session."
    )
    token_type: str = strawberry.field(description='Always "bearer".')
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: UserType = strawberry.field(description="The signed-in user.")

    @classmethod
    def from_domain(cls, auth: AuthSession) -> AuthPayload:
        return cls(
            access_token=auth.access_token,
            refresh_token=auth.refresh_token,
            token_type=auth.token_type,
            expires_in=auth.expires_in,
            user=UserType.from_domain(auth.user),
        )


@strawberry.input(description="A new account.")
class RegisterInput:
    email: str = strawberry.field(description="A valid email address, unique regardless of case.")
    username: str = strawberry.field(description=USERNAME_DESCRIPTION)
    password: str = strawberry.field(description="8 to 1024 characters.")
    favorite_team: str | None = strawberry.field(
        default=strawberry.UNSET, description="The user's favourite team (at most 100 characters)."
    )
    favorite_driver: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The user's favourite driver (at most 100 characters).",
    )
    theme: ThemeEnum | None = strawberry.field(
        default=strawberry.UNSET, description="The preferred interface theme; DARK when omitted."
    )


@strawberry.input(
    description="Changes to the account; omitted or null fields stay as they are. "
    "A new email or password requires currentPassword."
)
class UpdateMeInput:
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new email address, unique regardless of case; needs currentPassword.",
    )
    username: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"A new username. {USERNAME_DESCRIPTION}",
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new password (8 to 1024 characters); needs currentPassword and ends "
        "other sessions.",
    )
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The current password, to change the email or the password.",
    )


@strawberry.input(
    description="Changes to the preferences; omitted fields stay as they are, a null "
    "favourite clears it."
)
class PreferencesInput:
    favorite_team: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The favourite team (at most 100 characters); null clears it.",
    )
    favorite_driver: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The favourite driver (at most 100 characters); null clears it.",
    )
    theme: ThemeEnum | None = strawberry.field(
        default=strawberry.UNSET,
        description="The preferred interface theme; null or omitted keeps the current one.",
    )


# -- operations -----------------------------------------------------------------------------


@strawberry.type
class AuthQuery:
    @strawberry.field(
        description="The signed-in user, or null without an access token. An invalid, expired "
        "or revoked token is an UNAUTHENTICATED error."
    )
    async def me(self, info: Info) -> UserType | None:
        principal = await viewer(info)
        return None if principal is None else UserType.from_domain(principal.user)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        extensions=[AuthRateLimit()],
        description="Create an account and sign it in. A taken email or username is a "
        "CONFLICT error naming the field.",
    )
    async def register(
        self,
        info: Info,
        input: Annotated[
            RegisterInput, strawberry.argument(description="The new account's details.")
        ],
    ) -> AuthPayload:
        with _graphql_field_names():
            values = _given(
                email=input.email,
                username=input.username,
                password=input.password,
                favorite_team=input.favorite_team,
                favorite_driver=input.favorite_driver,
                theme=input.theme,
            )
            data = _parse(Registration, _to_domain_theme(values))
            auth = await info.context.resources.auth.register_and_login(data)
        return AuthPayload.from_domain(auth)

    @strawberry.mutation(
        extensions=[AuthRateLimit()],
        description="Sign in with email and password. Wrong credentials are an "
        "UNAUTHENTICATED error that does not say which part was wrong.",
    )
    async def login(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The account's email address.")],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
    ) -> AuthPayload:
        with _graphql_field_names():
            credentials = _parse(Credentials, {"email": email, "password": password})
            auth = await info.context.resources.auth.login(credentials)
        return AuthPayload.from_domain(auth)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens. The token is spent; presenting "
        "it again revokes the whole session."
    )
    async def refresh_token(
        self,
        info: Info,
        refresh_token: Annotated[
            str, strawberry.argument(description="The refresh token of the last sign-in.")
        ],
    ) -> AuthPayload:
        with _graphql_field_names():
            request = _parse(RefreshRequest, {"refresh_token": refresh_token})
            auth = await info.context.resources.auth.refresh(request.refresh_token)
        return AuthPayload.from_domain(auth)

    @strawberry.mutation(
        description="End the session of the bearer token: the access token is revoked at once "
        "and so are the session's refresh tokens. True on success."
    )
    async def logout(
        self,
        info: Info,
        refresh_token: Annotated[
            str | None,
            strawberry.argument(description="The session's refresh token, to revoke it too."),
        ] = strawberry.UNSET,
    ) -> bool:
        with _graphql_field_names():
            request = _parse(LogoutRequest, _given(refresh_token=refresh_token))
            await info.context.resources.auth.logout(
                access_token=info.context.bearer_token, refresh_token=request.refresh_token
            )
        info.context.cache.pop(_PRINCIPAL_KEY, None)
        return True

    @strawberry.mutation(
        description="Change the signed-in user's email, username or password; returns the "
        "updated user. Without a valid access token: UNAUTHENTICATED."
    )
    async def update_me(
        self,
        info: Info,
        input: Annotated[UpdateMeInput, strawberry.argument(description="The fields to change.")],
    ) -> UserType:
        principal = await require_user(info)
        with _graphql_field_names():
            values = _given(
                email=input.email,
                username=input.username,
                password=input.password,
                current_password=input.current_password,
            )
            data = _parse(ProfileUpdate, values)
            user = await info.context.resources.auth.update_me(principal, data)
        return UserType.from_domain(user)

    @strawberry.mutation(
        description="Change the signed-in user's favourites and theme; returns the updated "
        "user. Without a valid access token: UNAUTHENTICATED."
    )
    async def update_preferences(
        self,
        info: Info,
        input: Annotated[
            PreferencesInput, strawberry.argument(description="The preferences to change.")
        ],
    ) -> UserType:
        principal = await require_user(info)
        with _graphql_field_names():
            values = _given(
                favorite_team=input.favorite_team,
                favorite_driver=input.favorite_driver,
                theme=input.theme,
            )
            data = _parse(PreferencesUpdate, _to_domain_theme(values))
            user = await info.context.resources.auth.update_preferences(principal, data)
        return UserType.from_domain(user)
