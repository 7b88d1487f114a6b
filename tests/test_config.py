"""Settings: defaults, the prod JWT-secret guard, the dev secret file, ``.env``."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from pypole_gql.config import DEV_KEY_FILE, MIN_SECRET_BYTES, ConfigError, Environment, Settings
from tests.auth.support import ME, gql, gql_register
from tests.plugins.app import ClientFactory

GOOD_SECRET = "k" * 20 + "-0123456789-abcdefghij"  # 42 bytes


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PYPOLE_ setting from the outer environment, and a working directory of our own
    (so no stray ``.env`` is read)."""
    for name in list(os.environ):
        if name.startswith("PYPOLE_") and name[len("PYPOLE_") :].lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults() -> None:
    s = settings()

    assert s.env is Environment.DEV
    assert s.database_url == "sqlite+aiosqlite:///./pypole.db"
    assert s.redis_url == ""
    assert s.redis_namespace == "pypole"
    assert s.jwt_secret is None
    assert (s.access_token_minutes, s.refresh_token_days) == (30, 14)
    assert (s.jwt_issuer, s.jwt_audience) == ("pypole-gql", "pypole-gql")
    assert s.jolpica_url == "https://api.jolpi.ca/ergast/f1"
    assert s.jolpica_rate == "4/second;500/hour"
    assert (s.rate_limit, s.auth_rate_limit) == ("1200/minute", "10/minute")  # dev
    assert (s.log_level, s.workers, s.fastf1_workers) == ("INFO", 1, 1)
    assert s.trusted_proxies == []


def test_dev_and_prod_defaults_differ() -> None:
    dev = settings()
    prod = settings(env="prod", jwt_secret=GOOD_SECRET)

    assert (dev.json_logs, dev.graphiql_enabled, dev.introspection_enabled) == (False, True, True)
    assert (prod.json_logs, prod.graphiql_enabled, prod.introspection_enabled) == (
        True,
        False,
        False,
    )
    assert settings(env="prod", jwt_secret=GOOD_SECRET, graphiql=True).graphiql_enabled


def test_data_dir_is_beside_the_sqlite_database(tmp_path: Path) -> None:
    assert settings().data_dir == tmp_path
    nested = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a' / 'b.db'}")
    assert nested.data_dir == tmp_path / "a"
    assert nested.resolved_fastf1_cache_dir == tmp_path / "a" / "fastf1-cache"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYPOLE_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("PYPOLE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.0/16")
    monkeypatch.setenv("PYPOLE_REDIS_URL", "")  # empty means unset

    s = settings()

    assert s.access_token_minutes == 5
    assert s.trusted_proxies == ["10.0.0.0/8", "192.168.0.0/16"]
    assert s.redis_url == ""


def test_dotenv_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "PYPOLE_REFRESH_TOKEN_DAYS=3\nPYPOLE_LOG_LEVEL=debug\nPYPOLE_WORKERS=2\n"
    )
    monkeypatch.setenv("PYPOLE_WORKERS", "3")  # the environment wins over .env

    s = Settings()

    assert (s.refresh_token_days, s.log_level, s.workers) == (3, "DEBUG", 3)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"access_token_minutes": 0}, "access_token_minutes", id="zero-minutes"),
        pytest.param({"log_level": "chatty"}, "DEBUG, INFO", id="unknown-log-level"),
        pytest.param({"redis_namespace": "a:b"}, "redis_namespace", id="colon-in-namespace"),
        pytest.param({"workers": 0}, "workers", id="no-workers"),
        pytest.param({"rate_limit": "lots"}, "'lots' is not a rate limit", id="rate-limit"),
        pytest.param({"auth_rate_limit": "0/minute"}, "allows no request", id="zero-limit"),
        pytest.param({"jolpica_rate": "4/second;"}, "is not a rate limit", id="jolpica-rate"),
        pytest.param(
            {"trusted_proxies": "10.0.0.0/8, proxy.local"},
            "'proxy.local' is not an IP network",
            id="proxy-name",
        ),
        pytest.param(
            {"database_url": "postgresql://u:p@db/pypole"},
            "driver 'postgresql' is not supported",
            id="sync-driver",
        ),
        pytest.param({"database_url": "pypole.db"}, "not a database URL", id="not-a-url"),
        pytest.param({"redis_url": "localhost:6379"}, "not a Redis URL", id="redis-url"),
        pytest.param({"jolpica_url": "api.jolpi.ca"}, "not an http", id="jolpica-url"),
        pytest.param({"livetiming_url": "ftp://x"}, "not an http", id="livetiming-url"),
    ],
)
def test_invalid_values_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_valid_limits_networks_and_urls_are_kept() -> None:
    s = settings(
        rate_limit="5/second;600/minute",
        auth_rate_limit="10 per minute",
        trusted_proxies="10.0.0.0/8, 192.168.1.7, 2001:db8::/32",
        database_url="postgresql+asyncpg://pypole:pw@db:5432/pypole",
        redis_url="rediss://cache.internal:6380/2",
        schedule_url="http://127.0.0.1:8765/f1schedule",
    )

    assert (s.rate_limit, s.auth_rate_limit) == ("5/second;600/minute", "10 per minute")
    assert s.trusted_proxies == ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]
    assert s.database_url == "postgresql+asyncpg://pypole:pw@db:5432/pypole"
    assert s.redis_url == "rediss://cache.internal:6380/2"


def test_a_refused_database_url_does_not_repeat_its_password() -> None:
    with pytest.raises(ValidationError) as info:
        settings(database_url="mysql://pypole:hunter2-secret@db/pypole")

    (error,) = info.value.errors()
    assert "hunter2-secret" not in error["msg"]


# -- the JWT secret in prod ------------------------------------------------------------------


def test_prod_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="PYPOLE_JWT_SECRET is missing or a placeholder"):
        settings(env="prod")


def test_prod_with_an_empty_environment_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYPOLE_ENV", "prod")
    monkeypatch.setenv("PYPOLE_JWT_SECRET", "")

    with pytest.raises(ConfigError, match="PYPOLE_JWT_SECRET is missing"):
        settings()


@pytest.mark.parametrize(
    "secret",
    ["changeme", "secret", "  CHANGEME  ", "replace-with-a-long-random-string", "your-secret-key"],
)
def test_prod_with_a_placeholder_secret_refuses_to_start(secret: str) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        settings(env="prod", jwt_secret=secret)


def test_prod_with_a_short_secret_refuses_to_start() -> None:
    short = "x" * (MIN_SECRET_BYTES - 1)

    with pytest.raises(ConfigError, match=f"is {MIN_SECRET_BYTES - 1} bytes.*at least 32"):
        settings(env="prod", jwt_secret=short)


def test_prod_counts_bytes_not_characters() -> None:
    # 16 characters, 32 bytes in UTF-8: long enough.
    assert settings(env="prod", jwt_secret="é" * 16).resolved_jwt_secret() == "é" * 16
    with pytest.raises(ConfigError, match="is 30 bytes"):
        settings(env="prod", jwt_secret="é" * 15)


def test_prod_with_a_good_secret_uses_it_and_writes_no_file(tmp_path: Path) -> None:
    s = settings(env="prod", jwt_secret=GOOD_SECRET)

    assert s.resolved_jwt_secret() == GOOD_SECRET
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_the_secret_is_not_shown_in_the_settings_repr() -> None:
    s = settings(env="prod", jwt_secret=GOOD_SECRET)

    assert GOOD_SECRET not in repr(s)
    assert GOOD_SECRET not in str(s.model_dump())


# -- the generated dev secret ----------------------------------------------------------------


def test_dev_generates_a_secret_file_beside_the_database_and_warns(tmp_path: Path) -> None:
    s = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'pypole.db'}")

    with capture_logs() as logs:
        secret = s.resolved_jwt_secret()

    path = tmp_path / "data" / DEV_KEY_FILE
    assert path.read_text() == secret
    assert len(secret.encode()) >= MIN_SECRET_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [(e["event"], e["log_level"], e["path"]) for e in logs] == [
        ("config.jwt_secret_generated", "warning", str(path))
    ]
    assert [p.name for p in path.parent.iterdir()] == [DEV_KEY_FILE]  # no temporary left


def test_dev_reuses_the_secret_file_and_still_warns(tmp_path: Path) -> None:
    first = settings().resolved_jwt_secret()

    with capture_logs() as logs:
        second = settings().resolved_jwt_secret()

    assert second == first
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("config.jwt_secret_from_file", "warning")
    ]


def test_dev_secrets_differ_between_databases(tmp_path: Path) -> None:
    a = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a' / 'x.db'}")
    b = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'b' / 'x.db'}")

    assert a.resolved_jwt_secret() != b.resolved_jwt_secret()


def test_dev_replaces_a_short_secret_file(tmp_path: Path) -> None:
    (tmp_path / DEV_KEY_FILE).write_text("too-short\n")

    secret = settings().resolved_jwt_secret()

    assert secret != "too-short"
    assert len(secret.encode()) >= MIN_SECRET_BYTES
    assert (tmp_path / DEV_KEY_FILE).read_text() == secret


def test_dev_uses_an_explicit_secret_and_writes_no_file(tmp_path: Path) -> None:
    assert settings(jwt_secret=GOOD_SECRET).resolved_jwt_secret() == GOOD_SECRET
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_concurrent_starts_agree_on_one_secret(tmp_path: Path) -> None:
    """Several workers starting at once must not each keep a different secret."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: settings().resolved_jwt_secret(), range(32)))

    assert secrets == {(tmp_path / DEV_KEY_FILE).read_text()}


async def test_a_token_survives_a_restart_in_dev(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    async with make_client(jwt_secret=None) as client:
        registered = await gql_register(client)
    token = registered["accessToken"]
    assert (tmp_path / DEV_KEY_FILE).exists()

    async with make_client(jwt_secret=None) as client:
        after_restart = await gql(client, ME, token=token)

    assert after_restart["data"]["me"]["id"] == registered["user"]["id"]


async def test_a_lost_secret_file_invalidates_tokens(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    async with make_client(jwt_secret=None) as client:
        registered = await gql_register(client)
    (tmp_path / DEV_KEY_FILE).unlink()

    async with make_client(jwt_secret=None) as client:
        after = await gql(client, ME, token=registered["accessToken"])

    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
