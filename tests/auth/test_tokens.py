from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from pypole_gql.auth.tokens import (
    AccessTokens,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
    parse_bearer,
)
from pypole_gql.errors import Unauthenticated
from tests.auth.support import AUDIENCE, BAD_TOKEN_CASES, ISSUER, bad_token, claims_of, forge
from tests.plugins.app import TEST_SECRET


def make_tokens() -> AccessTokens:
    return AccessTokens(
        secret=TEST_SECRET, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(minutes=30)
    )


def test_issued_token_carries_every_claim() -> None:
    now = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    issued = make_tokens().issue(42, "session-1", now=now)

    claims = claims_of(issued.token)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    assert claims == {
        "sub": "42",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": issued.jti,
        "typ": "access",
        "sid": "session-1",
    }
    assert issued.expires_in == 1800


def test_decode_returns_the_claims_of_a_valid_token() -> None:
    tokens = make_tokens()
    issued = tokens.issue(42, "session-1")

    claims = tokens.decode(issued.token)

    assert (claims.user_id, claims.jti, claims.session_id) == (42, issued.jti, "session-1")
    assert claims.expires_at == issued.expires_at.replace(microsecond=0)


def test_every_token_has_its_own_id() -> None:
    tokens = make_tokens()

    assert tokens.issue(1, "s").jti != tokens.issue(1, "s").jti


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
def test_bad_token_is_refused(case: str) -> None:
    tokens = make_tokens()
    token = bad_token(case, tokens.issue(7, "session-1").token, new_refresh_token())

    with pytest.raises(Unauthenticated) as caught:
        tokens.decode(token)
    assert caught.value.message == "Invalid or expired access token"
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize("missing", ["sub", "iat", "exp", "iss", "aud", "jti", "typ", "sid"])
def test_token_missing_a_claim_is_refused(missing: str) -> None:
    tokens = make_tokens()
    claims = claims_of(tokens.issue(7, "session-1").token)
    del claims[missing]

    with pytest.raises(Unauthenticated):
        tokens.decode(forge(claims))


def test_non_numeric_subject_is_refused() -> None:
    tokens = make_tokens()
    claims = claims_of(tokens.issue(7, "session-1").token)

    with pytest.raises(Unauthenticated):
        tokens.decode(forge(claims, sub="²"))


def test_token_issued_in_the_future_is_refused() -> None:
    tokens = make_tokens()
    issued = tokens.issue(7, "s", now=datetime.now(UTC) + timedelta(minutes=10))

    with pytest.raises(Unauthenticated):
        tokens.decode(issued.token)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer   abc ", "abc"),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_bearer(header: str | None, expected: str | None) -> None:
    assert parse_bearer(header) == expected


def test_refresh_tokens_are_random_and_stored_as_sha256() -> None:
    first, second = new_refresh_token(), new_refresh_token()

    assert first != second
    assert len(first) >= 43  # 256 bits, base64url
    assert hash_refresh_token(first) == hash_refresh_token(first)
    assert len(hash_refresh_token(first)) == 64
    assert first not in hash_refresh_token(first)


def test_session_ids_are_unique() -> None:
    assert new_session_id() != new_session_id()
