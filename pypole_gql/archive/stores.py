"""Where archived sessions are kept: the application database, a folder, or an S3 bucket.

A store keeps opaque bytes (a zlib-compressed session payload) under an
:class:`ArchiveKey`, one entry per session, and writes each entry whole or not at all:
the database in one statement, the folder through a temporary file renamed into place, S3
with one ``PutObject``. It knows nothing of format versions or of which sessions may be
archived; :class:`~pypole_gql.archive.service.SessionArchive` decides that.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from pypole_gql.db.archive import SessionArchiveRepository
from pypole_gql.upstream.fastf1.payload import payload_version

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

    from pypole_gql.db.engine import Database

R = TypeVar("R")

#: Bytes of an entry enough to read its payload's format version once decompressed (a
#: deflate block's code tables come first, up to a few hundred bytes).
PREFIX_BYTES: Final = 4096
_SUFFIX: Final = ".ppf1.zz"
_NAME: Final = re.compile(r"^(\d{2,3})-([A-Z0-9]{1,3})" + re.escape(_SUFFIX) + "$")


class ArchiveError(Exception):
    """A store could not be read or written (unreachable, refused, misconfigured)."""


@dataclass(frozen=True, slots=True, order=True)
class ArchiveKey:
    year: int
    round: int
    session_type: str

    def __str__(self) -> str:
        return f"{self.year} round {self.round} {self.session_type}"

    @property
    def relative(self) -> str:
        """The entry's path in a folder or under a bucket prefix."""
        return f"{self.year}/{self.round:02d}-{self.session_type}{_SUFFIX}"

    @classmethod
    def from_relative(cls, relative: str) -> ArchiveKey | None:
        parts = relative.strip("/").split("/")
        if len(parts) != 2 or not parts[0].isdigit():
            return None
        match = _NAME.match(parts[1])
        if match is None:
            return None
        return cls(int(parts[0]), int(match[1]), match[2])


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as a store lists it: its first bytes tell the payload's format version."""

    key: ArchiveKey
    size: int
    stored_at: datetime
    #: The format version when the store records it (the database), else ``None``.
    format_version: int | None = None


class ArchiveStore(Protocol):
    #: What ``pypole archive list`` shows as the archive's location (no credentials).
    description: str

    async def read(self, key: ArchiveKey) -> bytes | None: ...

    async def read_prefix(self, key: ArchiveKey) -> bytes | None:
        """The first :data:`PREFIX_BYTES` (or more) of the entry."""
        ...

    async def contains(self, key: ArchiveKey, format_version: int) -> bool:
        """Whether an entry of ``format_version`` is there, without reading its payload:
        the database's recorded version, an object's metadata (S3), a file's first bytes."""
        ...

    async def write(self, key: ArchiveKey, blob: bytes, format_version: int) -> None: ...

    async def delete(self, key: ArchiveKey) -> bool: ...

    async def entries(self) -> list[StoredEntry]: ...

    async def close(self) -> None: ...


def prefix_version(prefix: bytes) -> int | None:
    """The format version of the payload an entry's first (compressed) bytes begin."""
    try:
        head = zlib.decompressobj().decompress(prefix, 8)
    except zlib.error:
        return None
    return payload_version(head)


async def _blocking(call: Callable[[], R]) -> R:
    try:
        return await asyncio.to_thread(call)
    except OSError as exc:
        raise ArchiveError(f"{type(exc).__name__}: {exc}") from exc


class DatabaseStore:
    """The ``session_archive`` table of the application database (migration 0003)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        url = db.engine.url
        self.description = f"database {url.get_backend_name()} ({url.database or ''})"

    async def read(self, key: ArchiveKey) -> bytes | None:
        async with self._db.session() as session:
            found = await SessionArchiveRepository(session).payload(
                key.year, key.round, key.session_type
            )
        return None if found is None else found[1]

    async def read_prefix(self, key: ArchiveKey) -> bytes | None:
        return await self.read(key)

    async def contains(self, key: ArchiveKey, format_version: int) -> bool:
        async with self._db.session() as session:
            return await SessionArchiveRepository(session).holds(
                key.year, key.round, key.session_type, format_version
            )

    async def write(self, key: ArchiveKey, blob: bytes, format_version: int) -> None:
        async with self._db.session() as session:
            await SessionArchiveRepository(session).upsert(
                key.year, key.round, key.session_type, format_version, blob, datetime.now(UTC)
            )

    async def delete(self, key: ArchiveKey) -> bool:
        async with self._db.session() as session:
            return await SessionArchiveRepository(session).delete(
                key.year, key.round, key.session_type
            )

    async def entries(self) -> list[StoredEntry]:
        async with self._db.session() as session:
            rows = await SessionArchiveRepository(session).listing()
        return [
            StoredEntry(
                ArchiveKey(year, round_, kind),
                size,
                stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC),
                version,
            )
            for year, round_, kind, version, size, stored_at in rows
        ]

    async def close(self) -> None:
        return None  # the database belongs to the app


class FolderStore:
    """One file per session under ``root``: ``2018/04-R.ppf1.zz``.

    A write goes to a hidden temporary file in the same folder, flushed to disk and then
    renamed over the entry: a reader (or an interrupted writer) never sees half a file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"folder {root}"

    def _path(self, key: ArchiveKey) -> Path:
        return self.root / key.relative

    async def read(self, key: ArchiveKey) -> bytes | None:
        path = self._path(key)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await _blocking(read)

    async def read_prefix(self, key: ArchiveKey) -> bytes | None:
        path = self._path(key)

        def read() -> bytes | None:
            try:
                with path.open("rb") as file:
                    return file.read(PREFIX_BYTES)
            except FileNotFoundError:
                return None

        return await _blocking(read)

    async def contains(self, key: ArchiveKey, format_version: int) -> bool:
        # A file records no version but in its first bytes: a few hundred of them are read
        # (PREFIX_BYTES at most), never the payload.
        prefix = await self.read_prefix(key)
        return prefix is not None and prefix_version(prefix) == format_version

    async def write(self, key: ArchiveKey, blob: bytes, format_version: int) -> None:
        await _blocking(lambda: write_atomically(self._path(key), blob))

    async def delete(self, key: ArchiveKey) -> bool:
        path = self._path(key)

        def delete() -> bool:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            return True

        return await _blocking(delete)

    async def entries(self) -> list[StoredEntry]:
        def scan() -> list[StoredEntry]:
            if not self.root.is_dir():
                return []
            found = []
            for path in self.root.glob(f"*/*{_SUFFIX}"):
                key = ArchiveKey.from_relative(path.relative_to(self.root).as_posix())
                if key is None:
                    continue
                stat = path.stat()
                found.append(
                    StoredEntry(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
                )
            return sorted(found, key=lambda entry: entry.key)

        return await _blocking(scan)

    async def close(self) -> None:
        return None


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class S3Store:
    """Objects ``PREFIX/2018/04-R.ppf1.zz`` in an S3-compatible bucket, through boto3.

    Credentials, region and endpoint (``AWS_ENDPOINT_URL`` for MinIO, moto, R2...) come
    from boto3's usual sources. A ``PutObject`` is atomic: an object is whole or absent.
    """

    def __init__(self, bucket: str, prefix: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.description = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client = client

    def _s3(self) -> S3Client:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}
            )
            self._client = boto3.session.Session().client("s3", config=config)
        return self._client

    def _name(self, key: ArchiveKey) -> str:
        return f"{self.prefix}/{key.relative}" if self.prefix else key.relative

    async def _call(self, call: Callable[[], R]) -> R:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(call)
        except (BotoCoreError, ClientError) as exc:
            raise ArchiveError(f"{type(exc).__name__}: {exc}") from exc

    async def _get(self, key: ArchiveKey, **extra: Any) -> bytes | None:
        from botocore.exceptions import ClientError

        def get() -> bytes | None:
            try:
                answer = self._s3().get_object(Bucket=self.bucket, Key=self._name(key), **extra)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            body: bytes = answer["Body"].read()
            return body

        return await self._call(get)

    async def read(self, key: ArchiveKey) -> bytes | None:
        return await self._get(key)

    async def read_prefix(self, key: ArchiveKey) -> bytes | None:
        return await self._get(key, Range=f"bytes=0-{PREFIX_BYTES - 1}")

    async def contains(self, key: ArchiveKey, format_version: int) -> bool:
        from botocore.exceptions import ClientError

        def head() -> str | None:
            try:
                answer = self._s3().head_object(Bucket=self.bucket, Key=self._name(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return ""
                raise
            return answer.get("Metadata", {}).get("format-version")

        # One HEAD: the version written as the object's metadata (every write sets it).
        recorded = await self._call(head)
        if recorded == "":
            return False
        if recorded is not None:
            return recorded == str(format_version)
        # An object put by another tool, without the metadata: its first bytes tell.
        prefix = await self.read_prefix(key)
        return prefix is not None and prefix_version(prefix) == format_version

    async def write(self, key: ArchiveKey, blob: bytes, format_version: int) -> None:
        await self._call(
            lambda: self._s3().put_object(
                Bucket=self.bucket,
                Key=self._name(key),
                Body=blob,
                ContentType="application/octet-stream",
                Metadata={"format-version": str(format_version)},
            )
        )

    async def delete(self, key: ArchiveKey) -> bool:
        name = self._name(key)

        def delete() -> bool:
            from botocore.exceptions import ClientError

            try:
                self._s3().head_object(Bucket=self.bucket, Key=name)
            except ClientError:
                return False
            self._s3().delete_object(Bucket=self.bucket, Key=name)
            return True

        return await self._call(delete)

    async def entries(self) -> list[StoredEntry]:
        def scan() -> list[StoredEntry]:
            found = []
            start = f"{self.prefix}/" if self.prefix else ""
            pages = (
                self._s3()
                .get_paginator("list_objects_v2")
                .paginate(Bucket=self.bucket, Prefix=start)
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = ArchiveKey.from_relative(item["Key"][len(start) :])
                    if key is not None:
                        found.append(StoredEntry(key, item["Size"], item["LastModified"]))
            return sorted(found, key=lambda entry: entry.key)

        return await self._call(scan)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def open_store(url: str, db: Database) -> ArchiveStore:
    """The store ``PYPOLE_ARCHIVE_URL`` names: empty, the database ``db``; ``file:///PATH``;
    ``s3://BUCKET/PREFIX``."""
    if not url:
        return DatabaseStore(db)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderStore(Path(unquote(parts.path)))
    if parts.scheme == "s3" and parts.netloc:
        return S3Store(parts.netloc, unquote(parts.path))
    raise ValueError(f"not an archive URL: {url!r}")
