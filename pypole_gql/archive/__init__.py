"""The durable session archive (``PYPOLE_ARCHIVE_URL``): see :mod:`.service` and :mod:`.stores`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pypole_gql.archive.service import (
    SESSION_SPAN,
    SETTLE,
    ArchiveEntry,
    SessionArchive,
    not_archivable,
)
from pypole_gql.archive.stores import (
    ArchiveError,
    ArchiveKey,
    ArchiveStore,
    DatabaseStore,
    FolderStore,
    S3Store,
    open_store,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pypole_gql.config import Settings
    from pypole_gql.db.engine import Database

__all__ = [
    "SESSION_SPAN",
    "SETTLE",
    "ArchiveEntry",
    "ArchiveError",
    "ArchiveKey",
    "ArchiveStore",
    "DatabaseStore",
    "FolderStore",
    "S3Store",
    "SessionArchive",
    "not_archivable",
    "open_archive",
    "open_store",
]


def open_archive(
    settings: Settings, db: Database, *, clock: Callable[[], float] = time.time
) -> SessionArchive:
    """The archive ``PYPOLE_ARCHIVE_URL`` names (the application database when it is empty).

    ``clock``: wall-clock seconds, for whether a session is old enough to archive."""
    return SessionArchive(open_store(settings.archive_url, db), clock=clock)
