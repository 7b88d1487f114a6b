"""SQLModel tables. Alembic's autogenerate compares these to the migrations (``alembic check``).

Every column spells out its SQL type: SQLModel's ``AutoString`` would leak into migrations and
compare differently on each database. Timestamps are stored as UTC; SQLite hands them back
naive, so callers read them through :func:`as_utc`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pypole_gql.domain.users import Theme

# Deterministic constraint names: migrations can drop them by name, and SQLite's batch mode
# needs names to rebuild a table.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Autogenerate does not compare CHECK constraints: a new theme needs a migration by hand.
THEMES = tuple(theme.value for theme in Theme)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime, whichever database it came from."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("email_normalized"),
        sa.UniqueConstraint("username_normalized"),
        sa.CheckConstraint(f"theme IN {THEMES!r}", name="theme"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # As the user typed it (domain lower-cased), for display and mail.
    email: str = Field(sa_type=sa.String(320), nullable=False)
    # NFKC + casefold of ``email``: what uniqueness and login compare. A plain column with a
    # unique constraint rather than an index on lower(email), which autogenerate cannot compare.
    email_normalized: str = Field(sa_type=sa.String(320), nullable=False)
    username: str = Field(sa_type=sa.String(50), nullable=False)
    username_normalized: str = Field(sa_type=sa.String(50), nullable=False)
    password_hash: str = Field(sa_type=sa.String(255), nullable=False)
    is_active: bool = Field(
        default=True, nullable=False, sa_column_kwargs={"server_default": sa.true()}
    )
    is_superuser: bool = Field(
        default=False, nullable=False, sa_column_kwargs={"server_default": sa.false()}
    )
    favorite_team: str | None = Field(default=None, sa_type=sa.String(100), nullable=True)
    favorite_driver: str | None = Field(default=None, sa_type=sa.String(100), nullable=True)
    theme: str = Field(
        default=Theme.DARK.value,
        sa_type=sa.String(16),
        nullable=False,
        sa_column_kwargs={"server_default": Theme.DARK.value},
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )


class RefreshTokenRow(SQLModel, table=True):
    """One refresh token. Tokens minted from one login share a ``family_id`` (the session):
    each use marks the token used and adds its successor; a used token presented again means
    it was stolen, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the token: the token itself never reaches the database.
    token_hash: str = Field(sa_type=sa.String(64), nullable=False, unique=True)
    family_id: str = Field(sa_type=sa.String(32), nullable=False, index=True)
    user_id: int = Field(
        sa_type=sa.Integer,
        foreign_key="users.id",
        ondelete="CASCADE",
        nullable=False,
        index=True,
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    used_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), nullable=True
    )
    revoked_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), nullable=True
    )


class RevokedAccessTokenRow(SQLModel, table=True):
    """An access token revoked before it expired (by logout). Kept until its own expiry, then
    pruned: an expired token is refused anyway."""

    __tablename__ = "revoked_access_tokens"

    jti: str = Field(sa_type=sa.String(64), primary_key=True)
    user_id: int = Field(
        sa_type=sa.Integer,
        foreign_key="users.id",
        ondelete="CASCADE",
        nullable=False,
    )
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False, index=True)


class PredictionRow(SQLModel, table=True):
    """A user's prediction for one race: one row per (user, season, round), ``version`` counts
    the saves. ``picks`` is a JSON list of ``{"driver_id", "predicted_position"}`` objects, by
    position."""

    __tablename__ = "predictions"
    __table_args__ = (sa.UniqueConstraint("user_id", "season", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_type=sa.Integer,
        foreign_key="users.id",
        ondelete="CASCADE",
        nullable=False,
    )
    season: int = Field(sa_type=sa.Integer, nullable=False)
    round: int = Field(sa_type=sa.Integer, nullable=False)
    picks: list[dict[str, Any]] = Field(sa_type=sa.JSON, nullable=False)
    version: int = Field(
        default=1, sa_type=sa.Integer, nullable=False, sa_column_kwargs={"server_default": "1"}
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )


class SessionArchiveRow(SQLModel, table=True):
    """One extracted FastF1 session of a finished event, kept for good (the session archive).

    ``payload`` holds the zlib-compressed payload bytes (:mod:`pypole_gql.upstream.fastf1.
    payload`); ``format_version`` is the payload's, so an entry of another version is known
    without reading it."""

    __tablename__ = "session_archive"

    year: int = Field(
        sa_type=sa.Integer, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    round: int = Field(
        sa_type=sa.Integer, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    session_type: str = Field(sa_type=sa.String(8), primary_key=True)
    format_version: int = Field(sa_type=sa.Integer, nullable=False)
    size: int = Field(sa_type=sa.Integer, nullable=False)
    payload: bytes = Field(sa_type=sa.LargeBinary, nullable=False)
    stored_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False
    )
