"""Users and sessions as the rest of the app speaks of them, plus the input rules for accounts.

The input models below are the one definition of what a valid registration, login or profile
change is: the REST shim validates request bodies with them (422 listing each field) and the
GraphQL resolvers build them from their inputs (BAD_USER_INPUT naming the field), so the two
edges cannot drift apart. Unknown fields (``is_superuser`` among them) are ignored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 50
EMAIL_MAX_LENGTH = 320
FAVORITE_MAX_LENGTH = 100
#: Punctuation a username may hold besides letters, digits and single spaces inside.
USERNAME_PUNCTUATION = frozenset("_.-'@+")
USERNAME_RULE = (
    f"{USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters: letters (any alphabet), digits, "
    "spaces inside and _ . - ' @ +"
)
USERNAME_DESCRIPTION = (
    f"{USERNAME_RULE}. Stored trimmed, with each run of spaces made one, in Unicode NFKC form; "
    "unique regardless of case."
)


class Theme(StrEnum):
    """The UI theme a user prefers."""

    DARK = "dark"
    LIGHT = "light"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class User:
    """An account, without its password hash."""

    id: int
    email: str
    username: str
    is_active: bool
    is_superuser: bool
    favorite_team: str | None
    favorite_driver: str | None
    theme: Theme
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid access token speaks for, and which token and session it is."""

    user: User
    token_id: str
    session_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuthSession:
    """What a successful login, registration or refresh hands to the client."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type)


def email_key(email: str) -> str:
    """The form emails are compared in: NFKC-normalized and case-folded.

    Applied to the address as :func:`normalize_email` returns it, so ``Ann@Example.COM`` and
    ``ann@example.com`` are one account.
    """
    return unicodedata.normalize("NFKC", email).casefold()


def username_key(username: str) -> str:
    """Usernames are unique regardless of case and Unicode form, so ``Admin`` cannot pose as
    ``admin`` nor ``José`` (composed) as ``José`` (decomposed)."""
    return unicodedata.normalize("NFKC", normalize_username(username).casefold())


def normalize_username(value: str) -> str:
    """A username as stored: NFKC-normalised, trimmed, each run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def username_problem(username: str) -> str | None:
    """Why a (normalised) username is refused, or ``None`` when it is acceptable."""
    if not USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH:
        return f"Username must be {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters long"
    for char in username:
        kind = unicodedata.category(char)
        if kind[0] in "LMN" or char == " " or char in USERNAME_PUNCTUATION:
            continue
        return f"Username may hold {USERNAME_RULE}; {char!r} is not allowed"
    return None


def normalize_email(value: str) -> str:
    """Check an address's syntax (no DNS) and return it as stored: the domain lower-cased and
    in Unicode, the local part as typed. Raises ``ValueError`` when it is not an address."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    normalized: str = result.normalized
    return normalized


def lookup_key(email: str) -> str | None:
    """The comparison key for a login's email, or ``None`` when it cannot be an address."""
    try:
        return email_key(normalize_email(email.strip()))
    except ValueError:
        return None


def _check_email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "email_invalid", "Invalid email address: {reason}", {"reason": str(exc)}
        ) from None


def _check_username(value: str) -> str:
    username = normalize_username(value)
    problem = username_problem(username)
    if problem is not None:
        raise PydanticCustomError("username_invalid", problem)
    return username


def _favorite(value: str) -> str | None:
    # PostgreSQL text cannot hold NUL, and no team or driver name has a control character.
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PydanticCustomError("favorite_invalid", "May not contain control characters")
    return value or None


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=EMAIL_MAX_LENGTH),
    AfterValidator(_check_email),
]
# The length is checked on the normalised form; the raw bound only keeps a request small.
Username = Annotated[
    str,
    StringConstraints(max_length=4 * USERNAME_MAX_LENGTH),
    AfterValidator(_check_username),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": USERNAME_MIN_LENGTH,
            "maxLength": USERNAME_MAX_LENGTH,
            "description": USERNAME_DESCRIPTION,
        }
    ),
]
# Never stripped nor truncated: every character the user typed is part of the secret. The upper
# bound keeps a single request from buying seconds of hashing.
NewPassword = Annotated[
    str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
]
# A blank favourite means none.
Favorite = (
    Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=FAVORITE_MAX_LENGTH),
        AfterValidator(_favorite),
    ]
    | None
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Registration(_Input):
    """A new account. ``is_superuser`` and any other unknown field is ignored."""

    email: Email
    username: Username
    password: NewPassword
    favorite_team: Favorite = None
    favorite_driver: Favorite = None
    theme: Theme = Theme.DARK

    @field_validator("theme", mode="before")
    @classmethod
    def _default_theme(cls, value: object) -> object:
        return Theme.DARK if value is None else value


class Credentials(_Input):
    """A login. The email is not syntax-checked here (an impossible address simply matches no
    account), but both fields are bounded so no request can make us hash a megabyte."""

    email: Annotated[str, StringConstraints(min_length=1, max_length=EMAIL_MAX_LENGTH)] = Field(
        validation_alias=AliasChoices("email", "username")
    )
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class ProfileUpdate(_Input):
    """Changes to the account itself. ``None`` leaves a field as it is; a new email or
    password needs ``current_password``."""

    email: Email | None = None
    username: Username | None = None
    password: NewPassword | None = None
    current_password: Annotated[str, StringConstraints(max_length=PASSWORD_MAX_LENGTH)] | None = (
        None
    )

    @property
    def needs_current_password(self) -> bool:
        return self.email is not None or self.password is not None


class PreferencesUpdate(_Input):
    """Changes to the preferences. A field left out is unchanged; ``favorite_team`` or
    ``favorite_driver`` given as null is cleared; a null ``theme`` is unchanged (a theme is
    always set)."""

    favorite_team: Favorite = None
    favorite_driver: Favorite = None
    theme: Theme | None = None

    def changes(self) -> dict[str, object]:
        """The columns to write: only the fields the client sent."""
        values: dict[str, object] = {name: getattr(self, name) for name in self.model_fields_set}
        if values.get("theme") is None:
            values.pop("theme", None)
        return values


class RefreshRequest(_Input):
    """A refresh token presented for rotation."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class LogoutRequest(_Input):
    """The refresh token to revoke with the logout, if the client has one."""

    refresh_token: Annotated[str, StringConstraints(max_length=256)] | None = None
