"""Typed settings, read from the environment (prefix ``PYPOLE_``) and ``.env``."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import structlog
from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Values people paste from samples and tutorials; refused as a JWT secret in prod.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "your-secret-key",
        "your-secret-key-here",
        "replace-me",
        "replace-with-a-long-random-string",
        "dev",
        "development",
    }
)
MIN_SECRET_BYTES = 32
#: The development JWT secret's file, beside the SQLite database (see ``resolved_jwt_secret``).
DEV_KEY_FILE = ".pypole-jwt-secret"
#: Where the older PyPole web frontend runs in development (``next dev``).
DEV_CORS_ORIGINS = ("http://localhost:3000",)
#: The database drivers the app runs on (it is async throughout).
DATABASE_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: ``PYPOLE_RATE_LIMIT`` when it is not set, per environment (see the README's "Rate limits").
#: One page pass of the older web frontend makes ~70 API calls and React Query retries a
#: failed call 3 times: 300 a minute holds four clean passes a minute, or one pass in which
#: every call fails and is retried (70 x 4 = 280). In dev React's StrictMode runs every
#: effect twice (~140 calls a pass) and GraphiQL, reloads and scripts add theirs: 1200.
DEFAULT_RATE_LIMITS = {"dev": "1200/minute", "prod": "300/minute"}


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class ConfigError(RuntimeError):
    """Raised when the settings cannot run the server (for example a weak JWT secret in prod)."""


class Settings(BaseSettings):
    """Every setting of the server. Names are a contract: see ``.env.sample``."""

    model_config = SettingsConfigDict(
        env_prefix="PYPOLE_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    env: Environment = Environment.DEV
    database_url: str = "sqlite+aiosqlite:///./pypole.db"
    redis_url: str = ""
    # Prefix of every Redis key the app writes (cache entries, shared budgets); instances
    # of one deployment share it, so they share cache and budgets. Never contains ':'.
    redis_namespace: str = Field(default="pypole", pattern=r"^[A-Za-z0-9._-]+$")
    jwt_secret: SecretStr | None = None
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    jwt_issuer: str = "pypole-gql"
    jwt_audience: str = "pypole-gql"

    # Upstreams
    jolpica_url: str = "https://api.jolpi.ca/ergast/f1"
    jolpica_rate: str = "4/second;500/hour"
    jolpica_timeout: float = Field(default=10.0, gt=0)
    livetiming_url: str = "https://livetiming.formula1.com"
    schedule_url: str = "https://raw.githubusercontent.com/theOehrly/f1schedule/master"
    fastf1_cache_dir: Path | None = None
    fastf1_workers: int = Field(default=1, ge=1, le=16)
    fastf1_timeout: float = Field(default=30.0, gt=0, le=600)
    fastf1_load_timeout: float = Field(default=300.0, gt=0, le=3600)
    # Where extracted sessions of finished events are kept for good: empty, the application
    # database (a table); file:///PATH, a folder; s3://BUCKET/PREFIX, an S3-compatible bucket.
    archive_url: str = ""

    # Cache TTLs (seconds)
    jolpica_ttl: int = Field(default=900, ge=0)
    archive_ttl: int = Field(default=30 * 24 * 3600, ge=0)
    fastf1_ttl: int = Field(default=24 * 3600, ge=0)
    # A session loaded without its timing data (not published yet) is remembered as
    # NOT_AVAILABLE this long, then loaded again.
    fastf1_unavailable_ttl: int = Field(default=300, ge=0)
    # The moment the services take as now (the current season, race starts, prediction
    # windows); unset: the wall clock. `pypole serve --replay --now` sets it to the replay's.
    now: datetime | None = None
    stale_grace: int = Field(default=7 * 24 * 3600, ge=0)
    # Whole responses of anonymous GraphQL queries and REST Jolpica reads, kept as long as
    # the data under them.
    response_cache: bool = True
    # Persisted queries: the manifest `pypole persist DIR` writes and the server reads at
    # start (default: persisted-queries.json in the data folder), and whether only its
    # operations run (an allow-list for production).
    persisted_queries_file: Path | None = None
    persisted_only: bool = False

    # Edge
    # Unset: DEFAULT_RATE_LIMITS[env] (filled in by _default_rate_limit).
    rate_limit: str = DEFAULT_RATE_LIMITS["prod"]
    auth_rate_limit: str = "10/minute"
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Origins whose browser pages may call the API (CORS), comma-separated; unset: the web
    # frontend's dev origin in dev, none in prod; "none": none.
    cors_origins: Annotated[list[str] | None, NoDecode] = None
    graphiql: bool | None = None
    introspection: bool | None = None
    # Seconds one GraphQL operation may run before it is cancelled (code TIMEOUT).
    graphql_timeout: float = Field(default=30.0, gt=0, le=600)
    log_level: str = "INFO"
    log_json: bool | None = None
    # Uvicorn worker processes of `pypole serve` (the --workers default).
    workers: int = Field(default=1, ge=1, le=64)

    @field_validator("now")
    @classmethod
    def _now_in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() == "none":
                return []
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _web_origins(cls, value: list[str] | None) -> list[str] | None:
        for origin in value or ():
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(
                    f"{origin!r} is not a web origin (scheme://host[:port], such as "
                    "http://localhost:3000), nor '*'"
                )
        return value

    # Everything below is checked here, when the settings are read, so that a bad value
    # stops `pypole serve` with one line before it migrates, binds or starts anything.

    @field_validator("trusted_proxies")
    @classmethod
    def _known_networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(
                    f"{cidr!r} is not an IP network (such as 10.0.0.0/8 or 192.168.1.7)"
                ) from None
        return value

    @field_validator("rate_limit", "auth_rate_limit", "jolpica_rate")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        example = "such as '60/minute' or '4/second;500/hour'"
        try:
            items = parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit {example}") from None
        if not items:
            raise ValueError(f"empty; give a rate limit {example}")
        if any(item.amount < 1 for item in items):
            raise ValueError(f"{value!r} allows no request at all; give a rate limit {example}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        hint = "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL; {hint}") from None
        if url.drivername not in DATABASE_DRIVERS:
            raise ValueError(f"driver {url.drivername!r} is not supported; {hint}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(REDIS_SCHEMES):
            raise ValueError(
                "not a Redis URL (redis://HOST:6379/0, rediss://... or unix://...); "
                "leave it empty for the in-process stores"
            )
        return value

    @field_validator("archive_url")
    @classmethod
    def _archive_scheme(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        if value.startswith("file://") and len(value) > len("file://"):
            return value
        if value.startswith("s3://") and value[len("s3://") :].split("/", 1)[0]:
            return value
        raise ValueError(
            f"{value!r} is not an archive URL: file:///PATH (a folder) or s3://BUCKET/PREFIX; "
            "leave it empty for the application database"
        )

    @field_validator("jolpica_url", "livetiming_url", "schedule_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _default_rate_limit(self) -> Settings:
        if "rate_limit" not in self.model_fields_set:
            self.rate_limit = DEFAULT_RATE_LIMITS[self.env.value]
        return self

    @model_validator(mode="after")
    def _check_prod(self) -> Settings:
        if self.env is Environment.PROD:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if secret.strip().lower() in PLACEHOLDER_SECRETS:
                raise ConfigError(
                    "PYPOLE_JWT_SECRET is missing or a placeholder; in prod set it to at least "
                    f"{MIN_SECRET_BYTES} random bytes (for example: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"PYPOLE_JWT_SECRET is {len(secret.encode())} bytes; in prod it must be at "
                    f"least {MIN_SECRET_BYTES}"
                )
        return self

    @property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV

    @property
    def allowed_origins(self) -> list[str]:
        """The CORS origins in force: :attr:`cors_origins`, else the env's default."""
        if self.cors_origins is not None:
            return self.cors_origins
        return list(DEV_CORS_ORIGINS) if self.is_dev else []

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_dev if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.is_dev if self.introspection is None else self.introspection

    @property
    def json_logs(self) -> bool:
        return (not self.is_dev) if self.log_json is None else self.log_json

    @property
    def data_dir(self) -> Path:
        """The folder beside the SQLite database (or ``./.pypole`` for other databases)."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :]
            if path and path != ":memory:":
                return Path(path).resolve().parent
        return Path(".pypole").resolve()

    @property
    def resolved_persisted_queries_file(self) -> Path:
        return self.persisted_queries_file or self.data_dir / "persisted-queries.json"

    @property
    def resolved_fastf1_cache_dir(self) -> Path:
        return self.fastf1_cache_dir or self.data_dir / "fastf1-cache"

    def resolved_jwt_secret(self) -> str:
        """The JWT signing secret.

        In dev without ``PYPOLE_JWT_SECRET`` a random secret is generated once and kept in
        ``.pypole-jwt-secret`` beside the SQLite database, so tokens survive a restart.
        """
        if self.jwt_secret is not None and self.jwt_secret.get_secret_value():
            return self.jwt_secret.get_secret_value()
        if not self.is_dev:  # pragma: no cover - the validator refuses this already
            raise ConfigError("PYPOLE_JWT_SECRET is required in prod")
        path = self.data_dir / DEV_KEY_FILE
        log = structlog.get_logger("pypole.config")
        hint = "set PYPOLE_JWT_SECRET; generated secrets are for development only"
        value = _read_secret(path)
        if value is not None:
            log.warning("config.jwt_secret_from_file", path=str(path), hint=hint)
            return value
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a private temporary file, then linked into place: the link fails when
        # another worker process got there first, and then everyone uses that one's secret.
        fd, tmp_name = tempfile.mkstemp(prefix=".pypole-jwt-secret-", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as tmp:
                tmp.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                # Another worker linked its secret first (use it), unless the file there is
                # unusable (empty, too short): only then replace it.
                if _read_secret(path) is None:
                    os.replace(tmp_name, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        value = _read_secret(path)
        if value is None:  # pragma: no cover - only when the folder is not writable
            raise ConfigError(f"cannot keep a development JWT secret in {path}")
        log.warning("config.jwt_secret_generated", path=str(path), hint=hint)
        return value


def _read_secret(path: Path) -> str | None:
    try:
        value = path.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return value if len(value.encode()) >= MIN_SECRET_BYTES else None
