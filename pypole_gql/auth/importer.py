"""Accounts moved over from the older PyPole backend (``pypole import-users``).

The older backend kept its accounts in a ``users`` table (``email``, ``username``,
``hashed_password`` as passlib bcrypt, free-form ``theme``, an ``is_superuser`` flag any client
could set at registration). :class:`UserImporter` copies such rows into this server's accounts:

* emails and usernames are normalised and checked with the same rules as a registration, and
  compared the same way (case- and Unicode-form-insensitively), so a row that would collide with
  an account here, or with an earlier row of the same import, is refused with the reason;
* bcrypt hashes are kept as they are: they verify at login (:mod:`pypole_gql.auth.passwords`)
  and are replaced by argon2id then; a hash of any other scheme is refused;
* a theme other than dark, light or system becomes ``system``;
* the superuser flag is never taken silently: without ``keep_superusers`` it is dropped, and
  either way every flagged account is named in the report.

Each account is written in its own transaction: a refusal never loses the others, and running
the import twice imports nothing twice (the second run refuses the rows as already registered).
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pypole_gql.auth.passwords import is_bcrypt_hash
from pypole_gql.db.engine import Database
from pypole_gql.db.models import UserRow
from pypole_gql.db.repositories import UniqueViolation, UserRepository
from pypole_gql.domain.users import (
    FAVORITE_MAX_LENGTH,
    Theme,
    email_key,
    normalize_email,
    normalize_username,
    username_key,
    username_problem,
)
from pypole_gql.logging import get_logger

log = get_logger("pypole.import")

#: The columns of the older backend's ``users`` table that the import reads.
LEGACY_COLUMNS = (
    "id",
    "email",
    "username",
    "hashed_password",
    "is_active",
    "is_superuser",
    "created_at",
    "updated_at",
    "favorite_team",
    "favorite_driver",
    "theme",
)
#: Columns without which a row cannot be an account.
REQUIRED_COLUMNS = ("email", "username", "hashed_password")
_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "f", "false", "no", "n", "off"})


class ImportSourceError(Exception):
    """The source cannot be read as the older backend's users (missing column, bad file)."""


@dataclass(frozen=True, slots=True)
class LegacyUser:
    """One row of the older backend's ``users`` table, as read (nothing checked yet)."""

    source_id: str
    email: str
    username: str
    hashed_password: str
    is_active: bool = True
    is_superuser: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    favorite_team: str | None = None
    favorite_driver: str | None = None
    theme: str | None = None


Status = Literal["imported", "refused"]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What became of one source row; ``notes`` name anything changed on the way."""

    source_id: str
    email: str
    status: Status
    reason: str | None = None
    notes: tuple[str, ...] = ()
    user_id: int | None = None


@dataclass(slots=True)
class ImportReport:
    outcomes: list[ImportOutcome] = field(default_factory=list)
    dry_run: bool = False

    @property
    def imported(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.status == "imported"]

    @property
    def refused(self) -> list[ImportOutcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    def render(self) -> str:
        """The report as the command prints it."""
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{verb}: {len(self.imported)}", f"refused: {len(self.refused)}"]
        for outcome in self.outcomes:
            mark = "+" if outcome.status == "imported" else "-"
            text = f"  {mark} #{outcome.source_id} {outcome.email}"
            if outcome.reason:
                text += f": {outcome.reason}"
            if outcome.notes:
                text += f" ({'; '.join(outcome.notes)})"
            lines.append(text)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Prepared:
    row: UserRow
    notes: tuple[str, ...]


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UserImporter:
    """Copies older-backend accounts into the database (see the module docstring)."""

    def __init__(self, db: Database, *, keep_superusers: bool = False) -> None:
        self.db = db
        self.keep_superusers = keep_superusers

    async def run(self, users: Iterable[LegacyUser], *, dry_run: bool = False) -> ImportReport:
        """Import ``users`` in order; with ``dry_run`` check everything and write nothing."""
        report = ImportReport(dry_run=dry_run)
        seen_emails: set[str] = set()
        seen_usernames: set[str] = set()
        for user in users:
            outcome = await self._one(user, seen_emails, seen_usernames, dry_run=dry_run)
            report.outcomes.append(outcome)
        log.info(
            "users.imported",
            imported=len(report.imported),
            refused=len(report.refused),
            dry_run=dry_run,
        )
        return report

    async def _one(
        self,
        user: LegacyUser,
        seen_emails: set[str],
        seen_usernames: set[str],
        *,
        dry_run: bool,
    ) -> ImportOutcome:
        try:
            prepared = self._prepare(user)
        except _Refused as exc:
            return ImportOutcome(user.source_id, user.email, "refused", exc.reason)
        row = prepared.row
        # Earlier rows of this import count as taken, as the database would say once written.
        if row.email_normalized in seen_emails:
            return self._refused(user, "email already in this import", prepared)
        if row.username_normalized in seen_usernames:
            return self._refused(user, "username already in this import", prepared)
        seen_emails.add(row.email_normalized)
        seen_usernames.add(row.username_normalized)
        async with self.db.session() as session:
            users = UserRepository(session)
            taken = await users.taken(
                email_key=row.email_normalized, username_key=row.username_normalized
            )
            if taken is not None:
                return self._refused(user, f"{taken} already registered here", prepared)
            if dry_run:
                return ImportOutcome(user.source_id, row.email, "imported", notes=prepared.notes)
            try:
                added = await users.add(row)
            except UniqueViolation as exc:  # registered meanwhile
                return self._refused(user, f"{exc.field} already registered here", prepared)
            user_id = added.id
        return ImportOutcome(
            user.source_id, row.email, "imported", notes=prepared.notes, user_id=user_id
        )

    @staticmethod
    def _refused(user: LegacyUser, reason: str, prepared: _Prepared) -> ImportOutcome:
        return ImportOutcome(user.source_id, user.email, "refused", reason, prepared.notes)

    def _prepare(self, user: LegacyUser) -> _Prepared:
        notes: list[str] = []
        try:
            email = normalize_email(user.email.strip())
        except ValueError as exc:
            raise _Refused(f"invalid email: {exc}") from None
        username = normalize_username(user.username)
        problem = username_problem(username)
        if problem is not None:
            raise _Refused(f"invalid username {user.username!r}: {problem}")
        if username != user.username:
            notes.append(f"username stored as {username!r}")
        if not (is_bcrypt_hash(user.hashed_password) or user.hashed_password.startswith("$argon2")):
            raise _Refused("password hash is neither bcrypt nor argon2")
        theme = _theme(user.theme)
        if user.theme is not None and theme.value != user.theme:
            notes.append(f"theme {user.theme!r} -> {theme.value}")
        superuser = user.is_superuser and self.keep_superusers
        if user.is_superuser:
            notes.append(
                "superuser flag kept" if superuser else "superuser flag dropped (--keep-superusers)"
            )
        if not user.is_active:
            notes.append("inactive")
        favorite_team = _favorite(user.favorite_team, "favorite team", notes)
        favorite_driver = _favorite(user.favorite_driver, "favorite driver", notes)
        created = _utc(user.created_at)
        updated = _utc(user.updated_at) or created
        row = UserRow(
            email=email,
            email_normalized=email_key(email),
            username=username,
            username_normalized=username_key(username),
            password_hash=user.hashed_password,
            is_active=user.is_active,
            is_superuser=superuser,
            favorite_team=favorite_team,
            favorite_driver=favorite_driver,
            theme=theme.value,
        )
        if created is not None:
            row.created_at = created
        if updated is not None:
            row.updated_at = updated
        return _Prepared(row, tuple(notes))


def _theme(value: str | None) -> Theme:
    if value is None:
        return Theme.DARK  # the older backend's default
    try:
        return Theme(value.strip().lower())
    except ValueError:
        return Theme.SYSTEM


def _favorite(value: str | None, what: str, notes: list[str]) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > FAVORITE_MAX_LENGTH or any(unicodedata.category(c) == "Cc" for c in text):
        notes.append(f"{what} dropped: over {FAVORITE_MAX_LENGTH} characters or unprintable")
        return None
    return text


def _utc(value: datetime | None) -> datetime | None:
    """The older backend wrote naive UTC timestamps."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def legacy_user(values: Mapping[str, object]) -> LegacyUser:
    """A :class:`LegacyUser` from one row of the source, by column name."""
    return LegacyUser(
        source_id=str(values.get("id") or "?"),
        email=str(values.get("email") or ""),
        username=str(values.get("username") or ""),
        hashed_password=str(values.get("hashed_password") or ""),
        is_active=_flag(values.get("is_active"), default=True),
        is_superuser=_flag(values.get("is_superuser"), default=False),
        created_at=_timestamp(values.get("created_at")),
        updated_at=_timestamp(values.get("updated_at")),
        favorite_team=_text(values.get("favorite_team")),
        favorite_driver=_text(values.get("favorite_driver")),
        theme=_text(values.get("theme")),
    )


def read_csv(path: Path) -> list[LegacyUser]:
    """The rows of a CSV export of the ``users`` table (a header row naming the columns, as
    ``COPY users TO STDOUT WITH CSV HEADER`` writes it)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            absent = [name for name in REQUIRED_COLUMNS if name not in header]
            if absent:
                raise ImportSourceError(f"{path}: no column {absent[0]!r} in the header row")
            return [legacy_user(row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportSourceError(f"{path}: {exc}") from exc


def _flag(value: object, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else default
    raise ImportSourceError(f"not a boolean: {value!r}")


def _timestamp(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ImportSourceError(f"not a timestamp: {value!r}") from None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
