"""Accounts and sessions: the one implementation behind GraphQL's and REST's auth operations."""

from __future__ import annotations

from datetime import datetime, timedelta

from pypole_gql.auth.passwords import Passwords
from pypole_gql.auth.tokens import (
    INVALID_TOKEN_MESSAGE,
    AccessClaims,
    AccessTokens,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
)
from pypole_gql.config import Settings
from pypole_gql.db.engine import Database
from pypole_gql.db.models import UserRow, as_utc, utcnow
from pypole_gql.db.repositories import TokenRepository, UniqueViolation, UserRepository
from pypole_gql.domain.users import (
    AuthSession,
    Credentials,
    PreferencesUpdate,
    Principal,
    ProfileUpdate,
    Registration,
    Theme,
    User,
    email_key,
    lookup_key,
    username_key,
)
from pypole_gql.errors import AppError, BadUserInput, Conflict, Forbidden, Unauthenticated
from pypole_gql.logging import get_logger, request_stats_var

log = get_logger("pypole.auth")

LOGIN_FAILED_MESSAGE = "Incorrect email or password"
INVALID_REFRESH_MESSAGE = "Invalid or expired refresh token"
INACTIVE_MESSAGE = "Inactive user"
_CONFLICT_MESSAGES = {"email": "Email already registered", "username": "Username already taken"}


def _conflict(field: str) -> Conflict:
    return Conflict(_CONFLICT_MESSAGES[field], field=field)


def _to_user(row: UserRow) -> User:
    assert row.id is not None
    return User(
        id=row.id,
        email=row.email,
        username=row.username,
        is_active=row.is_active,
        is_superuser=row.is_superuser,
        favorite_team=row.favorite_team,
        favorite_driver=row.favorite_driver,
        theme=Theme(row.theme),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


class AuthService:
    """Registration, login, token refresh and revocation, and profile changes.

    Every operation opens its own short transactions and never holds a database connection
    while a password is being hashed. Errors are :class:`~pypole_gql.errors.AppError`\\ s:

    - ``Unauthenticated``: wrong credentials, or an access/refresh token that is invalid,
      expired, revoked or of the wrong kind (the message never says which);
    - ``Forbidden``: the account is deactivated;
    - ``Conflict`` (``field`` ``email`` or ``username``): the email (compared after NFKC and
      case folding) or the username (case-insensitively) belongs to another account;
    - ``BadUserInput`` (``field`` ``current_password``): a change of email or password without
      the right current password.

    ``is_superuser`` is never taken from input: it can only be set in the database.
    """

    def __init__(
        self,
        db: Database,
        *,
        passwords: Passwords,
        tokens: AccessTokens,
        refresh_ttl: timedelta,
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.tokens = tokens
        self.refresh_ttl = refresh_ttl

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> AuthService:
        return cls(
            db,
            passwords=Passwords(),
            tokens=AccessTokens(
                secret=settings.resolved_jwt_secret(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(minutes=settings.access_token_minutes),
            ),
            refresh_ttl=timedelta(days=settings.refresh_token_days),
        )

    # -- accounts ---------------------------------------------------------------------------

    async def register(self, data: Registration) -> User:
        """Create an account (active, not a superuser) and return it."""
        new_email_key, new_username_key = email_key(data.email), username_key(data.username)
        # Checked before hashing so a duplicate costs no hash; the unique constraints still
        # decide when two registrations race.
        async with self.db.session() as session:
            taken = await UserRepository(session).taken(
                email_key=new_email_key, username_key=new_username_key
            )
        if taken is not None:
            raise _conflict(taken)
        password_hash = await self.passwords.hash(data.password)
        async with self.db.session() as session:
            try:
                row = await UserRepository(session).add(
                    UserRow(
                        email=data.email,
                        email_normalized=new_email_key,
                        username=data.username,
                        username_normalized=new_username_key,
                        password_hash=password_hash,
                        favorite_team=data.favorite_team,
                        favorite_driver=data.favorite_driver,
                        theme=data.theme.value,
                    )
                )
            except UniqueViolation as exc:
                raise _conflict(exc.field) from None
        user = _to_user(row)
        log.info("auth.registered", user_id=user.id)
        return user

    async def register_and_login(self, data: Registration) -> AuthSession:
        """:meth:`register`, then open a session for the new account."""
        user = await self.register(data)
        async with self.db.session() as session:
            return await self._open_session(TokenRepository(session), user)

    async def me(self, access_token: str) -> User:
        """The account an access token belongs to (see :meth:`authenticate`)."""
        return (await self.authenticate(access_token)).user

    async def update_me(self, principal: Principal, data: ProfileUpdate) -> User:
        """Change the email, username or password. A new email or password needs the current
        password; a new password also ends every other session of the account."""
        user_id = principal.user.id
        if data.needs_current_password and not data.current_password:
            raise BadUserInput(
                "The current password is required to change the email or the password",
                field="current_password",
            )
        changes: dict[str, object] = {}
        new_email_key = new_username_key = None
        if data.email is not None:
            new_email_key = email_key(data.email)
            changes.update(email=data.email, email_normalized=new_email_key)
        if data.username is not None:
            new_username_key = username_key(data.username)
            changes.update(username=data.username, username_normalized=new_username_key)
        async with self.db.session() as session:
            users = UserRepository(session)
            row = await self._require_row(users, user_id)
            taken = await users.taken(
                email_key=new_email_key, username_key=new_username_key, exclude_id=user_id
            )
        if taken is not None:
            raise _conflict(taken)
        if data.current_password is not None and not await self.passwords.verify(
            row.password_hash, data.current_password
        ):
            log.info("auth.update_refused", user_id=user_id, reason="wrong_current_password")
            raise BadUserInput("Current password is incorrect", field="current_password")
        if data.password is not None:
            changes["password_hash"] = await self.passwords.hash(data.password)
        async with self.db.session() as session:
            users = UserRepository(session)
            row = await self._require_row(users, user_id)
            if changes:
                try:
                    row = await users.update(row, changes)
                except UniqueViolation as exc:
                    raise _conflict(exc.field) from None
            if data.password is not None:
                await TokenRepository(session).revoke_user_families(
                    user_id, utcnow(), keep_family=principal.session_id
                )
        log.info("auth.profile_updated", user_id=user_id, fields=sorted(data.model_fields_set))
        return _to_user(row)

    async def update_preferences(self, principal: Principal, data: PreferencesUpdate) -> User:
        """Change favourite team, favourite driver and theme (only the fields sent)."""
        changes = data.changes()
        theme = changes.get("theme")
        if isinstance(theme, Theme):
            changes["theme"] = theme.value
        async with self.db.session() as session:
            users = UserRepository(session)
            row = await self._require_row(users, principal.user.id)
            if changes:
                row = await users.update(row, changes)
        return _to_user(row)

    # -- sessions ---------------------------------------------------------------------------

    async def login(self, credentials: Credentials) -> AuthSession:
        """Check email and password and open a session.

        An unknown email is verified against a dummy hash, so it takes as long as a wrong
        password and fails with the same message. A hash made with older argon2 parameters is
        replaced on success.
        """
        key = lookup_key(credentials.email)
        row: UserRow | None = None
        if key is not None:
            async with self.db.session() as session:
                row = await UserRepository(session).get_by_email_key(key)
        if row is None:
            await self.passwords.verify_dummy(credentials.password)
            log.info("auth.login_failed", reason="unknown_email")
            raise Unauthenticated(LOGIN_FAILED_MESSAGE)
        if not await self.passwords.verify(row.password_hash, credentials.password):
            log.info("auth.login_failed", reason="wrong_password", user_id=row.id)
            raise Unauthenticated(LOGIN_FAILED_MESSAGE)
        user = _to_user(row)
        if not user.is_active:
            log.info("auth.login_failed", reason="inactive", user_id=user.id)
            raise Forbidden(INACTIVE_MESSAGE)
        new_hash = None
        if self.passwords.needs_rehash(row.password_hash):
            new_hash = await self.passwords.hash(credentials.password)
        async with self.db.session() as session:
            if new_hash is not None:
                users = UserRepository(session)
                current = await self._require_row(users, user.id)
                # Only if the password was not changed meanwhile.
                if current.password_hash == row.password_hash:
                    user = _to_user(await users.update(current, {"password_hash": new_hash}))
                    log.info("auth.password_rehashed", user_id=user.id)
            auth = await self._open_session(TokenRepository(session), user)
        log.info("auth.login", user_id=user.id)
        return auth

    async def refresh(self, refresh_token: str) -> AuthSession:
        """Exchange a refresh token for a new access token and a new refresh token.

        The presented token is spent. Presenting a spent token again means two parties hold
        it, so every token of its family (the session) is revoked, the newest one included,
        and the session's access tokens stop working.
        """
        now = utcnow()
        error: AppError | None = None
        auth: AuthSession | None = None
        # The failure is raised only once the transaction committed: a revocation must stick.
        async with self.db.session() as session:
            tokens = TokenRepository(session)
            row = await tokens.get_refresh(hash_refresh_token(refresh_token))
            if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
                error = Unauthenticated(INVALID_REFRESH_MESSAGE)
            elif row.used_at is not None or not await tokens.mark_used(row, now):
                await tokens.revoke_family(row.family_id, now)
                log.warning("auth.refresh_reused", user_id=row.user_id, session=row.family_id)
                error = Unauthenticated(INVALID_REFRESH_MESSAGE)
            else:
                user_row = await UserRepository(session).get(row.user_id)
                if user_row is None or not user_row.is_active:
                    await tokens.revoke_family(row.family_id, now)
                    error = Forbidden(INACTIVE_MESSAGE)
                else:
                    auth = await self._open_session(
                        tokens, _to_user(user_row), family_id=row.family_id, now=now
                    )
        if error is not None:
            raise error
        assert auth is not None
        return auth

    async def logout(self, *, access_token: str | None, refresh_token: str | None) -> None:
        """End a session: the access token's id is denied until it expires and the session's
        refresh tokens are revoked (those of the access token's session, and the family of
        ``refresh_token`` when it belongs to the same user).

        Succeeds when at least one of the credentials is valid; otherwise ``Unauthenticated``.
        """
        claims: AccessClaims | None = None
        if access_token is not None:
            try:
                claims = self.tokens.decode(access_token)
            except Unauthenticated:
                if refresh_token is None:
                    raise
        now = utcnow()
        done_for: int | None = None
        async with self.db.session() as session:
            tokens = TokenRepository(session)
            if claims is not None:
                found = await tokens.load_principal(
                    user_id=claims.user_id, jti=claims.jti, family_id=claims.session_id
                )
                if found is not None and not found[1]:
                    await tokens.revoke_access(
                        jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at
                    )
                    await tokens.revoke_family(claims.session_id, now)
                    done_for = claims.user_id
                await tokens.prune_revoked_access(now)
            if refresh_token is not None:
                row = await tokens.get_refresh(hash_refresh_token(refresh_token))
                usable = (
                    row is not None and row.revoked_at is None and (as_utc(row.expires_at) > now)
                )
                if row is not None and usable and done_for in (None, row.user_id):
                    await tokens.revoke_family(row.family_id, now)
                    done_for = row.user_id
        if done_for is None:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        log.info("auth.logout", user_id=done_for)

    async def authenticate(self, access_token: str) -> Principal:
        """The principal behind an access token.

        The token must verify (see :class:`~pypole_gql.auth.tokens.AccessTokens`), must not be
        revoked (by logout, or with its session's refresh-token family), and its user must
        exist and be active. Marks the request's log line with the user id.
        """
        claims = self.tokens.decode(access_token)
        async with self.db.session() as session:
            found = await TokenRepository(session).load_principal(
                user_id=claims.user_id, jti=claims.jti, family_id=claims.session_id
            )
        if found is None or found[1]:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        row = found[0]
        if not row.is_active:
            raise Forbidden(INACTIVE_MESSAGE)
        stats = request_stats_var.get()
        if stats is not None:
            stats.user_id = row.id
        return Principal(
            user=_to_user(row),
            token_id=claims.jti,
            session_id=claims.session_id,
            expires_at=claims.expires_at,
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _open_session(
        self,
        tokens: TokenRepository,
        user: User,
        *,
        family_id: str | None = None,
        now: datetime | None = None,
    ) -> AuthSession:
        """Mint a refresh token (of a new family unless ``family_id``) and an access token."""
        now = now or utcnow()
        family_id = family_id or new_session_id()
        refresh_token = new_refresh_token()
        await tokens.add_refresh(
            token_hash=hash_refresh_token(refresh_token),
            family_id=family_id,
            user_id=user.id,
            expires_at=now + self.refresh_ttl,
        )
        await tokens.prune_refresh(user.id, now)
        access = self.tokens.issue(user.id, family_id, now=now)
        return AuthSession(
            access_token=access.token,
            refresh_token=refresh_token,
            expires_in=access.expires_in,
            user=user,
        )

    @staticmethod
    async def _require_row(users: UserRepository, user_id: int) -> UserRow:
        row = await users.get(user_id)
        if row is None:  # deleted since the token was checked
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        return row
