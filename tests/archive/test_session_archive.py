"""The session archive: a session loaded once is served after Redis is flushed and the server
restarted, from the application database (SQLite, PostgreSQL), a folder or S3 (moto's server
mode on 127.0.0.1), with no FastF1 load and no live-timing request; a payload of another
format version is rebuilt; a session that is not over is not archived.

One small session (2019 Italian Grand Prix, qualifying) keeps the loads cheap; the FastF1 HTTP cache
is shared by the tests here, so only the first load reads all of the live-timing archive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
import redis.asyncio as aioredis

from pypole_gql.archive import (
    SESSION_SPAN,
    SETTLE,
    ArchiveKey,
    DatabaseStore,
    FolderStore,
    S3Store,
    SessionArchive,
    open_store,
)
from pypole_gql.db.engine import Database
from pypole_gql.db.migrate import upgrade_async
from pypole_gql.domain.race_names import match_race
from pypole_gql.resources import Resources
from pypole_gql.upstream.fastf1 import FORMAT_VERSION
from pypole_gql.upstream.fastf1.payload import (
    MAGIC,
    decode_payload,
    encode_payload,
    payload_info,
)
from tests.plugins.app import ClientFactory, resources_of
from tests.plugins.fastf1 import fastf1_app_settings
from tests.plugins.replay import Replay
from tests.serving import free_port

YEAR, EVENT, KIND = 2019, "Italian", "Q"
QUERY = """{ session(year: 2019, race: "Italian", type: Q) {
    round eventName laps { driver lapNumber lapTime } stints { driver stint } } }"""
STATUS = '{ session(year: 2019, race: "Italian", type: Q) { status { state } } }'
BUCKET = "pypole-archive-test"


@pytest.fixture(scope="module")
def fastf1_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archive-fastf1-cache")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """An S3-compatible server (moto's server mode) on 127.0.0.1, for this test session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at the moto server (its usual variables), with a bucket of the test's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3")
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=BUCKET)
    return f"s3://{BUCKET}/test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["sqlite", "postgres", "folder", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings of one archive: the database table (SQLite, PostgreSQL), a folder, S3."""
    if request.param == "sqlite":
        return {}
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("postgres_url")}
    if request.param == "folder":
        return {"archive_url": (tmp_path / "archive").as_uri()}
    return {"archive_url": request.getfixturevalue("s3_env")}


@pytest.fixture
async def namespace(redis_url: str) -> AsyncIterator[str]:
    name = f"pypole-test-{uuid.uuid4().hex[:10]}"
    yield name
    await flush(redis_url, name)


async def flush(redis_url: str, namespace: str) -> int:
    """Delete every key of the test's own namespace: Redis flushed, as far as the app sees."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}*", count=500)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


async def redis_holds(redis_url: str, key: str) -> bool:
    client = aioredis.Redis.from_url(redis_url)
    try:
        return bool(await client.exists(key))
    finally:
        await client.aclose()


async def ask(client: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": QUERY})
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body


def archive_of(resources: Resources) -> SessionArchive:
    archive = resources.sessions.archive
    assert archive is not None, "the app runs without a session archive"
    return archive


async def archive_key(resources: Resources) -> ArchiveKey:
    race = match_race(await resources.f1.schedule(YEAR), EVENT)
    assert race is not None
    return ArchiveKey(YEAR, race.round, KIND)


async def test_a_session_loaded_once_is_served_after_redis_is_flushed_and_a_restart(
    backend: dict[str, Any],
    make_client: ClientFactory,
    replay: Replay,
    redis_url: str,
    namespace: str,
    fastf1_cache: Path,
) -> None:
    settings = fastf1_app_settings(
        replay,
        redis_url=redis_url,
        redis_namespace=namespace,
        fastf1_cache_dir=fastf1_cache,
        **backend,
    )
    async with make_client(**settings) as client:
        resources = resources_of(client)
        archive = archive_of(resources)
        key = await archive_key(resources)
        await archive.delete(key)  # the shared PostgreSQL database may hold it from a rerun
        first = await ask(client)
        assert first["data"]["session"]["laps"]
        assert resources.sessions.client.loads == 1
        assert await archive.holds(key)
        assert [entry.key for entry in await archive.entries() if entry.current] == [key]
    redis_key = f"{namespace}:v1:fastf1:session:{YEAR}:{key.round}:{KIND}:p{FORMAT_VERSION}"
    assert await flush(redis_url, namespace) > 0
    assert not await redis_holds(redis_url, redis_key)
    replay.reset()
    # A new app (process memory gone), an empty Redis: the archive answers.
    async with make_client(**settings) as client:
        resources = resources_of(client)
        # status says READY from the archive alone: no load, and nothing read into Redis.
        status = await client.post("/graphql", json={"query": STATUS})
        assert status.json() == {"data": {"session": {"status": {"state": "READY"}}}}
        assert resources.sessions.client.loads == 0
        assert not await redis_holds(redis_url, redis_key)
        again = await ask(client)
        assert again == first
        assert resources.sessions.client.loads == 0
        assert replay.count(prefix="/static/") == 0
        # The archive hit filled Redis again.
        assert await redis_holds(redis_url, redis_key)
        await archive_of(resources).delete(key)


def other_version_payload() -> bytes:
    """The first bytes of a payload of an older format version (never decodable as this one)."""
    header = orjson.dumps({"meta": {}, "info": {"year": YEAR}})
    return struct.pack("<4sHI", MAGIC, FORMAT_VERSION - 1, len(header)) + header


async def test_a_payload_of_another_format_version_is_rebuilt_and_an_unfinished_session_is_not_archived(  # noqa: E501
    make_client: ClientFactory, replay: Replay, tmp_path: Path, fastf1_cache: Path
) -> None:
    folder = tmp_path / "archive"
    settings = fastf1_app_settings(
        replay, fastf1_cache_dir=fastf1_cache, archive_url=folder.as_uri()
    )
    async with make_client(**settings) as client:
        resources = resources_of(client)
        archive = archive_of(resources)
        key = await archive_key(resources)
        await FolderStore(folder).write(key, zlib.compress(other_version_payload()), 1)
        assert not await archive.holds(key)
        entries = await archive.entries()
        assert len(entries) == 1, entries
        entry = entries[0]
        assert entry.format_version == FORMAT_VERSION - 1 and not entry.current
        body = await ask(client)
        assert body["data"]["session"]["laps"]
        # Ignored, loaded afresh, and replaced by an entry of this version.
        assert resources.sessions.client.loads == 1
        assert await archive.holds(key)
        payload = await archive.get(key)
        assert payload is not None
    info = payload_info(payload)
    assert info.start_time_utc is not None and info.timing_available
    start = info.start_time_utc.timestamp()
    over = (SESSION_SPAN + SETTLE).total_seconds()

    async def archived(at: float, data: bytes) -> bool:
        target = tmp_path / f"other-{at}"
        written = await SessionArchive(FolderStore(target), clock=lambda: at).put(key, data)
        entries = await SessionArchive(FolderStore(target)).entries()
        assert written == bool(entries)
        return written

    # Running, or ended less than a few hours ago: not archived; once settled: archived.
    assert not await archived(start + 3600, payload)
    assert not await archived(start + over - 1, payload)
    assert await archived(start + over + 1, payload)
    # A session whose timing was not published (yet) is never archived.
    data = decode_payload(payload)
    unpublished = dataclasses.replace(
        data, info=dataclasses.replace(data.info, timing_available=False)
    )
    assert not await archived(start + 10 * over, encode_payload(unpublished))


async def test_stores_round_trip_list_and_delete(
    tmp_path: Path, postgres_url: str, s3_env: str
) -> None:
    """Every store keeps an entry whole, lists it and drops it (no FastF1 load)."""
    blob = zlib.compress(other_version_payload()[:6] + b"x" * 5000)
    key = ArchiveKey(1999, 7, "Q")
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'stores.db'}"
    await upgrade_async(sqlite_url)
    await upgrade_async(postgres_url)
    for url, archive_url in (
        (sqlite_url, ""),
        (postgres_url, ""),
        (sqlite_url, (tmp_path / "folder").as_uri()),
        (sqlite_url, s3_env),
    ):
        db = Database(url)
        try:
            store = open_store(archive_url, db)
            assert isinstance(store, DatabaseStore) == (archive_url == "")
            await store.delete(key)
            assert await store.read(key) is None
            await store.write(key, blob, FORMAT_VERSION - 1)
            assert await store.read(key) == blob
            prefix = await store.read_prefix(key)
            assert prefix is not None and blob.startswith(prefix)
            # contains: of the version written, not of another one.
            assert await store.contains(key, FORMAT_VERSION - 1)
            assert not await store.contains(key, FORMAT_VERSION)
            assert not await store.contains(ArchiveKey(1999, 8, "Q"), FORMAT_VERSION - 1)
            listed = [entry for entry in await store.entries() if entry.key == key]
            assert len(listed) == 1 and listed[0].size == len(blob)
            assert await store.delete(key)
            assert not await store.delete(key)
            assert await store.read(key) is None
            assert not await store.contains(key, FORMAT_VERSION - 1)
            await store.close()
        finally:
            await db.close()
    # An object put by another tool, without the version metadata: its first bytes tell.
    bucket, _, s3_prefix = s3_env.removeprefix("s3://").partition("/")
    s3 = S3Store(bucket, s3_prefix)
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{s3_prefix}/{key.relative}", Body=blob)
    assert await s3.contains(key, FORMAT_VERSION - 1)
    assert not await s3.contains(key, FORMAT_VERSION)
    assert await s3.delete(key)
    await s3.close()
    # Nothing but the entries is left in the folder: no temporary file.
    assert list((tmp_path / "folder").rglob("*.tmp")) == []
