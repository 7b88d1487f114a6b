"""Logging: JSON in prod, console in dev, and no password, token or secret in any line.

The redaction tests capture the real log output (structlog and the standard library through
the app's own ``configure_logging``) of whole account sessions over REST and GraphQL.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

from pypole_gql.app import create_app
from pypole_gql.logging import REDACTED, configure_logging, get_logger, request_id_var
from tests.auth.support import (
    AUTH,
    LOGIN,
    ME,
    REFRESH,
    REGISTER,
    bearer,
    gql,
    new_account,
)
from tests.plugins.app import TEST_SECRET, ClientFactory
from tests.plugins.app import test_settings as settings_for

# Loggers configure_logging changes besides the root logger.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


@contextmanager
def captured_logs(*, json_logs: bool = True, level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Everything logged through ``configure_logging`` while inside, as text; the logging set-up
    of the test session is restored afterwards."""
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved_uvicorn = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in _UVICORN
    }
    buffer = io.StringIO()
    real_stderr = sys.stderr
    sys.stderr = buffer  # configure_logging binds its handler to sys.stderr
    try:
        configure_logging(json=json_logs, level=level)
    finally:
        sys.stderr = real_stderr
    try:
        yield buffer
    finally:
        root.handlers, _ = saved_root
        root.setLevel(saved_root[1])
        for name, (handlers, propagate) in saved_uvicorn.items():
            logging.getLogger(name).handlers = handlers
            logging.getLogger(name).propagate = propagate
        structlog.configure(**saved_structlog)


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def completed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == "request.completed"]


# -- renderers -------------------------------------------------------------------------------


def test_prod_app_logs_json(tmp_path: Path) -> None:
    with captured_logs(level="INFO") as buffer:
        # create_app configures logging itself, from the settings.
        real_stderr, sys.stderr = sys.stderr, buffer
        try:
            create_app(settings_for(tmp_path, env="prod"))
        finally:
            sys.stderr = real_stderr
        get_logger("pypole.test").info("test.logged", answer=42)
        logging.getLogger("some.library").warning("plain %s", "message")

    lines = json_lines(buffer)
    assert {"event": "test.logged", "answer": 42, "level": "info"}.items() <= lines[0].items()
    assert lines[0]["logger"] == "pypole.test"
    assert "timestamp" in lines[0]
    assert {"event": "plain message", "level": "warning"}.items() <= lines[1].items()


def test_dev_app_logs_console_lines(tmp_path: Path) -> None:
    with captured_logs(level="INFO") as buffer:
        real_stderr, sys.stderr = sys.stderr, buffer
        try:
            create_app(settings_for(tmp_path, env="dev"))
        finally:
            sys.stderr = real_stderr
        get_logger("pypole.test").info("test.logged", answer=42)

    (line,) = buffer.getvalue().splitlines()
    assert "test.logged" in line and "answer=42" in line and "[info" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_log_level_filters(tmp_path: Path) -> None:
    with captured_logs(level="WARNING") as buffer:
        get_logger("pypole.test").info("test.quiet")
        get_logger("pypole.test").warning("test.loud")

    assert [line["event"] for line in json_lines(buffer)] == ["test.loud"]


def test_exceptions_are_rendered_without_local_variables() -> None:
    def fail(password: str) -> None:
        raise ValueError("boom")

    with captured_logs(json_logs=False) as buffer:
        try:
            fail("-".join(["hunter2", "local", "variable"]))  # not in any source line
        except ValueError:
            get_logger("pypole.test").exception("test.failed")

    text = buffer.getvalue()
    assert "ValueError: boom" in text
    assert "hunter2-local-variable" not in text


# -- the redaction processor -----------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("json_logs", [True, False], ids=["json", "console"])
def test_sensitive_fields_are_redacted(json_logs: bool) -> None:
    with captured_logs(json_logs=json_logs) as buffer:
        get_logger("pypole.test").info(
            "test.sensitive",
            password="pw-field-value",
            new_password="pw-new-value",
            refresh_token="rt-field-value",
            access_token="at-field-value",
            jwt_secret="js-field-value",
            headers={"Authorization": "Basic YXV0aC1oZWFkZXI=", "Accept": "text/plain"},
            cookies=[("session", "cookie-value")],
            note=f"sent Bearer bearer-in-text and {JWT}",
            token_type="bearer",
            user_id=7,
        )

    text = buffer.getvalue()
    for leaked in (
        "pw-field-value",
        "pw-new-value",
        "rt-field-value",
        "at-field-value",
        "js-field-value",
        "YXV0aC1oZWFkZXI=",
        "cookie-value",
        "bearer-in-text",
        JWT,
        JWT.split(".")[1],
    ):
        assert leaked not in text, leaked
    assert REDACTED in text
    assert "text/plain" in text and "user_id" in text  # the rest is kept
    if json_logs:
        (line,) = json_lines(buffer)
        assert line["password"] == REDACTED
        assert line["headers"] == {"Authorization": REDACTED, "Accept": "text/plain"}
        assert line["token_type"] == "bearer"
        assert line["note"] == f"sent {REDACTED} and {REDACTED}"


def test_standard_library_messages_are_redacted() -> None:
    with captured_logs() as buffer:
        logging.getLogger("some.library").warning(
            "retrying with headers {'authorization': 'Bearer %s'} hash %s",
            JWT,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        )

    text = buffer.getvalue()
    assert JWT not in text
    assert "aGFzaGhhc2hoYXNo" not in text
    assert "retrying with headers" in text


# -- real sessions ---------------------------------------------------------------------------


async def exercise_accounts(client: Any) -> list[str]:
    """Register, log in, use and refresh sessions over REST and GraphQL, including failures;
    returns every secret that crossed the wire."""
    secrets: list[str] = []

    rest = new_account(password="rest-password-Xy7!q")
    assert (await client.post(f"{AUTH}/register", json=rest)).status_code == 201
    login = await client.post(
        f"{AUTH}/login", data={"email": rest["email"], "password": rest["password"]}
    )
    tokens = login.json()
    me = await client.get(f"{AUTH}/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    refreshed = await client.post(
        f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    wrong = await client.post(
        f"{AUTH}/login", data={"email": rest["email"], "password": "wrong-password-Qz9"}
    )
    assert wrong.status_code == 401
    # A validation failure that echoes nothing back must not log the password either.
    short = await client.post(
        f"{AUTH}/register", json={**new_account(username="x"), "password": "short-Pw-5"}
    )
    assert short.status_code == 422
    secrets += [rest["password"], "wrong-password-Qz9", "short-Pw-5"]
    secrets += [tokens["access_token"], tokens["refresh_token"]]
    secrets += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]

    account = new_account(password="graphql-password-Kw3$")
    registered = await gql(client, REGISTER, {"input": account})
    payload = registered["data"]["register"]
    logged_in = await gql(
        client, LOGIN, {"email": account["email"], "password": account["password"]}
    )
    session = logged_in["data"]["login"]
    assert (await gql(client, ME, token=session["accessToken"]))["data"]["me"]
    again = await gql(client, REFRESH, {"token": session["refreshToken"]})
    assert "errors" not in again, again
    reused = await gql(client, REFRESH, {"token": session["refreshToken"]})  # family revoked
    assert reused["errors"]
    bad = await gql(client, LOGIN, {"email": account["email"], "password": "gql-wrong-Pw-8"})
    assert bad["errors"]
    secrets += [account["password"], "gql-wrong-Pw-8"]
    secrets += [payload["accessToken"], payload["refreshToken"]]
    secrets += [session["accessToken"], session["refreshToken"]]
    secrets += [again["data"]["refreshToken"]["refreshToken"]]
    return secrets


@pytest.mark.parametrize("json_logs", [True, False], ids=["json", "console"])
async def test_account_sessions_leave_no_secret_in_the_logs(
    make_client: ClientFactory, json_logs: bool
) -> None:
    with captured_logs(json_logs=json_logs, level="DEBUG") as buffer:
        async with make_client(jwt_secret=TEST_SECRET) as client:
            secrets = await exercise_accounts(client)

    text = buffer.getvalue()
    for secret in [*secrets, TEST_SECRET]:
        assert secret not in text, f"{secret!r} is in the log"
        # Nor any part of a JWT (its payload and signature are secrets of their own).
        for part in secret.split(".")[1:]:
            assert part not in text
    assert "$argon2" not in text  # nor a password hash
    # The capture did see the traffic: one access line per request, the auth events too.
    assert text.count("request.completed") == 12
    for event in ("auth.registered", "auth.login", "auth.login_failed", "auth.refresh_reused"):
        assert event in text


async def test_access_lines_of_a_session_are_complete(make_client: ClientFactory) -> None:
    with captured_logs(level="INFO") as buffer:
        async with make_client() as client:
            account = new_account()
            await client.post(f"{AUTH}/register", json=account)
            login = await client.post(
                f"{AUTH}/login",
                data={"email": account["email"], "password": account["password"]},
            )
            await client.get(f"{AUTH}/me", headers=bearer(login.json()["access_token"]))

    lines = completed(json_lines(buffer))
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", f"{AUTH}/register", 201),
        ("POST", f"{AUTH}/login", 200),
        ("GET", f"{AUTH}/me", 200),
    ]
    assert isinstance(lines[2]["user_id"], int)
    assert all(line["client_ip"] == "127.0.0.1" and line["request_id"] for line in lines)
    assert request_id_var.get() is None  # the request's context did not leak out
