"""``pypole archive list|prune|export|import``: see, trim and move the session archive."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pypole_gql.archive.service import ArchiveEntry, SessionArchive
from pypole_gql.archive.stores import ArchiveKey, FolderStore
from pypole_gql.config import Settings
from pypole_gql.db.engine import Database
from pypole_gql.upstream.fastf1.payload import FORMAT_VERSION


@asynccontextmanager
async def opened_archive(settings: Settings) -> AsyncIterator[SessionArchive]:
    """The archive of ``settings`` (the database migrated first when it is SQLite)."""
    from pypole_gql.archive import open_archive

    if settings.database_url.startswith("sqlite") and not settings.archive_url:
        from pypole_gql.db.migrate import upgrade_async

        await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    archive = open_archive(settings, db)
    try:
        yield archive
    finally:
        await archive.close()
        await db.close()


def render_entries(entries: Iterable[ArchiveEntry], where: str) -> str:
    rows = list(entries)
    lines = [f"archive: {where}"]
    if not rows:
        return "\n".join([*lines, "(empty)"])
    lines.append(f"{'SEASON':>6} {'ROUND':>5} {'SESSION':<7} {'FORMAT':<12} {'SIZE':>10}  STORED")
    for entry in rows:
        version = "?" if entry.format_version is None else str(entry.format_version)
        state = f"{version} (current)" if entry.current else f"{version} (stale)"
        lines.append(
            f"{entry.key.year:>6} {entry.key.round:>5} {entry.key.session_type:<7} "
            f"{state:<12} {entry.size:>10}  {entry.stored_at.isoformat(timespec='seconds')}"
        )
    total = sum(entry.size for entry in rows)
    stale = sum(1 for entry in rows if not entry.current)
    lines.append(f"{len(rows)} entries, {total} bytes, {stale} of another format version")
    return "\n".join(lines)


@dataclass
class Moved:
    copied: list[ArchiveKey] = field(default_factory=list)
    skipped: list[tuple[ArchiveKey, str]] = field(default_factory=list)


async def prune(
    archive: SessionArchive, seasons: Iterable[int], *, dry_run: bool
) -> list[ArchiveEntry]:
    """Drop entries of another format version (never read again) and of ``seasons``."""
    drop_seasons = set(seasons)
    doomed = [
        entry
        for entry in await archive.entries()
        if not entry.current or entry.key.year in drop_seasons
    ]
    if not dry_run:
        for entry in doomed:
            await archive.delete(entry.key)
    return doomed


async def copy_entries(source: SessionArchive, target: SessionArchive) -> Moved:
    """Every entry of this format version of ``source`` into ``target``, bytes as they are."""
    moved = Moved()
    for entry in await source.entries():
        if entry.format_version != FORMAT_VERSION:
            moved.skipped.append((entry.key, f"format version {entry.format_version}"))
            continue
        blob = await source.store.read(entry.key)
        if blob is None:
            moved.skipped.append((entry.key, "gone while copying"))
            continue
        await target.store.write(entry.key, blob, FORMAT_VERSION)
        moved.copied.append(entry.key)
    return moved


def folder_archive(path: Path) -> SessionArchive:
    return SessionArchive(FolderStore(path))
