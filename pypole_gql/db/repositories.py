"""Every SQL statement of the accounts: users, refresh tokens, revoked access tokens.

Repositories work inside a session the caller opened (``Database.session()``), so one service
operation is one transaction. They return ORM rows; services turn those into domain objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from pypole_gql.db.models import RefreshTokenRow, RevokedAccessTokenRow, UserRow, utcnow

# Bulk UPDATE/DELETE here skip the ORM's in-Python evaluation of their criteria against loaded
# rows: nothing relies on those rows afterwards, and SQLite loads timestamps naive.
_BULK = {"synchronize_session": False}

# Unique columns of ``users`` and the input field each one belongs to.
_UNIQUE_USER_COLUMNS = {"email_normalized": "email", "username_normalized": "username"}


class UniqueViolation(Exception):
    """An insert or update hit a unique constraint; ``field`` is the input field concerned."""

    def __init__(self, field: str) -> None:
        super().__init__(f"duplicate {field}")
        self.field = field


def _unique_violation(exc: IntegrityError) -> UniqueViolation | None:
    # PostgreSQL names the constraint (uq_users_email_normalized), SQLite the column
    # (users.email_normalized): both messages contain the column name.
    text = str(exc.orig)
    for column, field in _UNIQUE_USER_COLUMNS.items():
        if column in text:
            return UniqueViolation(field)
    return None


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserRow | None:
        return await self.session.get(UserRow, user_id)

    async def get_by_email_key(self, key: str) -> UserRow | None:
        result = await self.session.execute(
            select(UserRow).where(col(UserRow.email_normalized) == key)
        )
        return result.scalar_one_or_none()

    async def taken(
        self,
        *,
        email_key: str | None = None,
        username_key: str | None = None,
        exclude_id: int | None = None,
    ) -> str | None:
        """Which of the given keys another account already uses: ``"email"`` (checked first),
        ``"username"`` or ``None``."""
        conditions = []
        if email_key is not None:
            conditions.append(col(UserRow.email_normalized) == email_key)
        if username_key is not None:
            conditions.append(col(UserRow.username_normalized) == username_key)
        if not conditions:
            return None
        query = select(col(UserRow.email_normalized), col(UserRow.username_normalized)).where(
            or_(*conditions)
        )
        if exclude_id is not None:
            query = query.where(col(UserRow.id) != exclude_id)
        rows = (await self.session.execute(query)).all()
        if email_key is not None and any(row[0] == email_key for row in rows):
            return "email"
        if rows:
            return "username"
        return None

    async def add(self, row: UserRow) -> UserRow:
        """Insert ``row``; raises :class:`UniqueViolation` when the email or username is taken."""
        self.session.add(row)
        await self._flush()
        return row

    async def update(self, row: UserRow, changes: Mapping[str, Any]) -> UserRow:
        """Apply ``changes`` and bump ``updated_at``; raises :class:`UniqueViolation`."""
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await self._flush()
        return row

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            violation = _unique_violation(exc)
            if violation is None:
                raise
            raise violation from exc


class TokenRepository:
    """Refresh tokens and revoked access-token ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_refresh(
        self, *, token_hash: str, family_id: str, user_id: int, expires_at: datetime
    ) -> RefreshTokenRow:
        row = RefreshTokenRow(
            token_hash=token_hash, family_id=family_id, user_id=user_id, expires_at=expires_at
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get_refresh(self, token_hash: str) -> RefreshTokenRow | None:
        result = await self.session.execute(
            select(RefreshTokenRow).where(col(RefreshTokenRow.token_hash) == token_hash)
        )
        return result.scalar_one_or_none()

    async def mark_used(self, token: RefreshTokenRow, now: datetime) -> bool:
        """Mark a refresh token used if it is still live. ``False`` means someone else used or
        revoked it first: the conditional update is what makes two racing refreshes safe."""
        result = await self.session.execute(
            update(RefreshTokenRow)
            .where(
                col(RefreshTokenRow.id) == token.id,
                col(RefreshTokenRow.used_at).is_(None),
                col(RefreshTokenRow.revoked_at).is_(None),
            )
            .values(used_at=now)
            .returning(col(RefreshTokenRow.id)),
            execution_options=_BULK,
        )
        return result.scalar_one_or_none() is not None

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self.session.execute(
            update(RefreshTokenRow)
            .where(
                col(RefreshTokenRow.family_id) == family_id,
                col(RefreshTokenRow.revoked_at).is_(None),
            )
            .values(revoked_at=now),
            execution_options=_BULK,
        )

    async def revoke_user_families(
        self, user_id: int, now: datetime, *, keep_family: str | None = None
    ) -> None:
        """Revoke every session of a user, except ``keep_family`` (the caller's own)."""
        query = update(RefreshTokenRow).where(
            col(RefreshTokenRow.user_id) == user_id,
            col(RefreshTokenRow.revoked_at).is_(None),
        )
        if keep_family is not None:
            query = query.where(col(RefreshTokenRow.family_id) != keep_family)
        await self.session.execute(query.values(revoked_at=now), execution_options=_BULK)

    async def prune_refresh(self, user_id: int, now: datetime) -> None:
        """Forget a user's expired refresh tokens: an expired token is refused before reuse
        detection matters, so its row serves no purpose."""
        await self.session.execute(
            delete(RefreshTokenRow).where(
                col(RefreshTokenRow.user_id) == user_id,
                col(RefreshTokenRow.expires_at) < now,
            ),
            execution_options=_BULK,
        )

    async def revoke_access(self, *, jti: str, user_id: int, expires_at: datetime) -> None:
        """Deny an access token until it expires (idempotent)."""
        existing = await self.session.get(RevokedAccessTokenRow, jti)
        if existing is None:
            self.session.add(RevokedAccessTokenRow(jti=jti, user_id=user_id, expires_at=expires_at))
            await self.session.flush()

    async def prune_revoked_access(self, now: datetime) -> None:
        await self.session.execute(
            delete(RevokedAccessTokenRow).where(col(RevokedAccessTokenRow.expires_at) < now),
            execution_options=_BULK,
        )

    async def load_principal(
        self, *, user_id: int, jti: str, family_id: str
    ) -> tuple[UserRow, bool] | None:
        """The user an access token names, and whether the token is revoked: its own id was
        revoked at logout, or its session's refresh-token family was revoked. One query, as it
        runs on every authenticated request. ``None`` when the user no longer exists."""
        jti_revoked = exists().where(col(RevokedAccessTokenRow.jti) == jti)
        family_revoked = exists().where(
            col(RefreshTokenRow.family_id) == family_id,
            col(RefreshTokenRow.revoked_at).is_not(None),
        )
        result = await self.session.execute(
            select(UserRow, or_(jti_revoked, family_revoked).label("revoked")).where(
                col(UserRow.id) == user_id
            )
        )
        row = result.one_or_none()
        if row is None:
            return None
        return row[0], bool(row[1])
