"""Access tokens (JWT, HS256) and refresh tokens (opaque, stored only as a hash)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from pypole_gql.errors import Unauthenticated

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 (a claim value, not a secret)
# Every claim an access token must carry; a token missing one is refused.
REQUIRED_CLAIMS = ("sub", "iat", "exp", "iss", "aud", "jti", "typ", "sid")
INVALID_TOKEN_MESSAGE = "Invalid or expired access token"  # noqa: S105


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: int
    jti: str
    session_id: str
    expires_at: datetime


def parse_bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def new_refresh_token() -> str:
    """A fresh refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """What the database stores for a refresh token. A plain SHA-256 is enough (and lets the
    token be looked up by it): the token is 256 random bits, not a guessable password."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    """The id of a login session, shared by its refresh-token family and its access tokens."""
    return uuid.uuid4().hex


class AccessTokens:
    """Issues and verifies access tokens.

    A token is a JWT signed with HS256 and the server's secret, carrying ``sub`` (the user id),
    ``iat``, ``exp``, ``iss``, ``aud``, ``jti`` (its own id, for revocation), ``typ``
    (``"access"``) and ``sid`` (the session it belongs to). Decoding accepts only HS256 (so
    ``alg: none`` or an algorithm swap is refused), only our issuer and audience, only
    unexpired tokens of type ``access``. Revocation is not checked here: see
    :meth:`pypole_gql.auth.service.AuthService.authenticate`.
    """

    def __init__(self, *, secret: str, issuer: str, audience: str, ttl: timedelta) -> None:
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    def issue(
        self, user_id: int, session_id: str, *, now: datetime | None = None
    ) -> IssuedAccessToken:
        now = now or datetime.now(UTC)
        expires_at = now + self.ttl
        jti = uuid.uuid4().hex
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": expires_at,
            "iss": self.issuer,
            "aud": self.audience,
            "jti": jti,
            "typ": ACCESS_TOKEN_TYPE,
            "sid": session_id,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedAccessToken(
            token=token, jti=jti, expires_at=expires_at, expires_in=int(self.ttl.total_seconds())
        )

    def decode(self, token: str) -> AccessClaims:
        """Verify ``token``; any flaw raises :class:`Unauthenticated` (without saying which)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError:
            raise Unauthenticated(INVALID_TOKEN_MESSAGE) from None
        sub, jti, sid = claims.get("sub"), claims.get("jti"), claims.get("sid")
        if (
            claims.get("typ") != ACCESS_TOKEN_TYPE
            or not isinstance(sub, str)
            or not (sub.isascii() and sub.isdigit())
            or not isinstance(jti, str)
            or not isinstance(sid, str)
        ):
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        return AccessClaims(
            user_id=int(sub),
            jti=jti,
            session_id=sid,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
