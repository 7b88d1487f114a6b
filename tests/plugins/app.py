"""Build the real app for a test and talk to it through httpx (in-process ASGI).

``make_client(**settings)`` is an async context manager: it builds ``Settings`` from the
given overrides (SQLite in the test's tmp dir unless ``database_url`` is given), runs the
app's lifespan (so every resource opens and closes as in production) and yields an
``httpx.AsyncClient`` bound to the app; ``resources_of(client)`` is that app's open
``Resources``. ``db_url`` is parametrized over SQLite and PostgreSQL. ``clock=`` (to
``make_client`` or ``running_app``) runs the app on a test's clock, e.g. a
:class:`~tests.plugins.clock.FakeClock`, instead of :func:`time.time`.

A new SQLite file is not migrated test by test: :func:`migrated` copies a file that alembic
brought to head once per test process (``migrated_sqlite_template``, in the session's tmp
dir); a file that exists already, and PostgreSQL, are upgraded by alembic as before.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from pypole_gql.app import create_app
from pypole_gql.config import Settings
from pypole_gql.resources import Resources

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
_APPS: WeakKeyDictionary[httpx.AsyncClient, Starlette] = WeakKeyDictionary()


class _Template:
    """The folder of this process's migrated SQLite template (set by the session fixture)."""

    folder: Path | None = None
    file: Path | None = None


@pytest.fixture(scope="session", autouse=True)
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where :func:`migrated` keeps the template (migrated on first use, so free if unused)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    _Template.folder, _Template.file = folder, None
    return folder


async def migrated(database_url: str) -> None:
    """``database_url`` at alembic's head: a missing SQLite file is a copy of a template
    migrated once per process (alembic's own result, byte for byte); anything else is
    upgraded by alembic in place."""
    from pypole_gql.db.migrate import upgrade_async

    url = make_url(database_url)
    target = url.database
    if url.get_backend_name() != "sqlite" or target in (None, "", ":memory:") or url.query:
        await upgrade_async(database_url)
        return
    path = Path(target)
    if path.exists() or _Template.folder is None:
        await upgrade_async(database_url)
        return
    if _Template.file is None:
        template = _Template.folder / "head.db"
        await upgrade_async(url.set(database=str(template)).render_as_string(False))
        leftovers = sorted(p.name for p in _Template.folder.iterdir() if p != template)
        assert not leftovers, f"the migrated template left {leftovers} beside it"
        _Template.file = template
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_Template.file, path)


def resources_of(client: httpx.AsyncClient) -> Resources:
    """The open resources of the app a ``make_client`` client talks to."""
    resources: Resources = _APPS[client].state.resources
    return resources


def test_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'pypole.db'}",
        "jwt_secret": TEST_SECRET,
        "fastf1_cache_dir": tmp_path / "fastf1-cache",
        "redis_url": "",
        "rate_limit": "100000/minute",
        "auth_rate_limit": "100000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_app(
    settings: Settings, *, clock: Callable[[], float] | None = None
) -> AsyncIterator[Starlette]:
    """The app with its lifespan entered (migrations applied first for SQLite and PostgreSQL),
    on ``clock`` when one is given."""
    await migrated(settings.database_url)
    app = create_app(settings, configure_logs=False, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def app_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` (its lifespan already entered), from 127.0.0.1;
    ``resources_of(client)`` is the app's resources."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        _APPS[client] = app
        yield client


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pypole.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def make_client(tmp_path: Path) -> ClientFactory:
    @asynccontextmanager
    async def factory(
        *, clock: Callable[[], float] | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = test_settings(tmp_path, **overrides)
        async with running_app(settings, clock=clock) as app, app_client(app) as client:
            yield client

    return factory
