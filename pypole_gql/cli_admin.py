"""``pypole migrate``, ``import-users``, ``archive`` and ``warm``: the commands that look after
the data the server keeps (its database schema, the accounts, the session archive, the
sessions loaded ahead)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pypole_gql.cli_common import (
    DefaultsHelpFormatter,
    add_command,
    configured,
    fail,
    settings_or_exit,
)

if TYPE_CHECKING:
    from pypole_gql.cli_common import Subparsers


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    from pypole_gql.db.migrate import downgrade, upgrade

    settings = configured()
    try:
        if args.revision.startswith("-") or args.revision == "base" or args.downgrade:
            downgrade(settings.database_url, args.revision)
        else:
            upgrade(settings.database_url, args.revision)
    except CommandError as exc:  # an unknown revision, a step past the first or the last
        fail(f"migrate {args.revision}: {exc}")
    return 0


def cmd_import_users(args: argparse.Namespace) -> int:
    import asyncio

    from pypole_gql.auth.importer import (
        LEGACY_COLUMNS,
        REQUIRED_COLUMNS,
        ImportReport,
        ImportSourceError,
        UserImporter,
        legacy_user,
        read_csv,
    )
    from pypole_gql.db.engine import Database
    from pypole_gql.db.legacy import LegacySourceError, read_users

    settings = configured(level="WARNING")
    source: str = args.source
    try:
        if "://" in source:
            rows = asyncio.run(read_users(source, LEGACY_COLUMNS, REQUIRED_COLUMNS))
            users = [legacy_user(row) for row in rows]
        else:
            users = read_csv(Path(source))
    except (ImportSourceError, LegacySourceError) as exc:
        fail(f"import-users: {exc}")
    if settings.database_url.startswith("sqlite"):
        from pypole_gql.db.migrate import upgrade

        upgrade(settings.database_url)

    async def run() -> ImportReport:
        db = Database(settings.database_url)
        try:
            importer = UserImporter(db, keep_superusers=args.keep_superusers)
            return await importer.run(users, dry_run=args.dry_run)
        finally:
            await db.close()

    report = asyncio.run(run())
    print(report.render())
    # 1 when anything was refused, so a script notices; the report says what and why.
    return 1 if report.refused else 0


def cmd_archive(args: argparse.Namespace) -> int:
    import asyncio

    from pypole_gql.archive.admin import (
        copy_entries,
        folder_archive,
        opened_archive,
        prune,
        render_entries,
    )
    from pypole_gql.archive.stores import ArchiveError

    settings = configured(level="WARNING")
    folder_path = Path(args.dir).resolve() if args.action in ("export", "import") else None

    async def run() -> int:
        async with opened_archive(settings) as archive:
            if args.action == "list":
                print(render_entries(await archive.entries(), archive.description))
            elif args.action == "prune":
                dropped = await prune(archive, args.season or (), dry_run=args.dry_run)
                verb = "would drop" if args.dry_run else "dropped"
                for entry in dropped:
                    why = "another format version" if not entry.current else "season asked"
                    print(f"{verb} {entry.key} ({why})")
                print(f"{verb} {len(dropped)} entries")
            else:
                assert folder_path is not None
                folder = folder_archive(folder_path)
                source, target = (archive, folder) if args.action == "export" else (folder, archive)
                moved = await copy_entries(source, target)
                for key, why in moved.skipped:
                    print(f"skipped {key}: {why}")
                print(
                    f"{args.action}: {len(moved.copied)} entries copied from "
                    f"{source.description} to {target.description}, {len(moved.skipped)} skipped"
                )
        return 0

    try:
        return asyncio.run(run())
    except ArchiveError as exc:
        fail(f"archive {args.action}: {exc}")


def cmd_warm(args: argparse.Namespace) -> int:
    from pypole_gql.services.warm import parse_rounds, parse_sessions

    try:
        kinds = parse_sessions(args.sessions)
        rounds = None if args.rounds is None else parse_rounds(args.rounds)
    except ValueError as exc:
        fail(f"warm: {exc}")
    from pypole_gql.cli_warm import run_warm

    return run_warm(settings_or_exit(), args.season, kinds, rounds, jolpica=args.jolpica)


def add_migrate(sub: Subparsers) -> None:
    """The ``migrate`` command."""
    migrate = add_command(
        sub,
        "migrate",
        cmd_migrate,
        help="apply (or undo) the database migrations",
        description="Upgrade the database named by PYPOLE_DATABASE_URL to REVISION, or "
        "downgrade it.",
    )
    migrate.add_argument(
        "revision",
        nargs="?",
        default="head",
        metavar="REVISION",
        help="an alembic revision: 'head' (the latest), a revision id such as 0001, a "
        "relative step such as +1 or -1 (a negative step downgrades), or 'base' (before "
        "the first migration: downgrades, removing every table)",
    )
    migrate.add_argument(
        "--downgrade", action="store_true", help="downgrade to REVISION instead of upgrading"
    )


def add_import_users(sub: Subparsers) -> None:
    """The ``import-users`` command."""
    import_users = add_command(
        sub,
        "import-users",
        cmd_import_users,
        help="copy the accounts of the older PyPole backend into this server's database",
        description="Copy the older PyPole backend's accounts (its users table, or a CSV "
        "export of it with a header row) into the database of PYPOLE_DATABASE_URL. bcrypt "
        "password hashes are kept and become argon2id at each user's next login; unknown "
        "themes become 'system'; rows that break the account rules or collide with an account "
        "are refused and listed. Exit status 1 when any row was refused.",
    )
    import_users.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="SOURCE",
        help="the older backend's database URL (postgresql://user@host/db) or a CSV file",
    )
    import_users.add_argument(
        "--dry-run", action="store_true", help="check every row and report, writing nothing"
    )
    import_users.add_argument(
        "--keep-superusers",
        action="store_true",
        help="keep the is_superuser flag (dropped by default: any client of the older backend "
        "could set it at registration); flagged accounts are listed either way",
    )


def add_archive(sub: Subparsers) -> None:
    """The ``archive`` command and its actions."""
    archive = add_command(
        sub,
        "archive",
        cmd_archive,
        help="see, trim and move the session archive (PYPOLE_ARCHIVE_URL)",
        description="The durable archive of extracted sessions of finished events: the "
        "application database's session_archive table, or the folder or S3 bucket "
        "PYPOLE_ARCHIVE_URL names.",
    )
    archive_sub = archive.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with the archive"
    )
    archive_sub.add_parser(
        "list",
        help="every entry: season, round, session, format version, size, when stored",
        formatter_class=DefaultsHelpFormatter,
    )
    archive_prune = archive_sub.add_parser(
        "prune",
        help="drop entries of another format version (never read again) and of --season",
        formatter_class=DefaultsHelpFormatter,
    )
    archive_prune.add_argument(
        "--season",
        type=int,
        action="append",
        metavar="YEAR",
        help="also drop every entry of this season (repeatable)",
    )
    archive_prune.add_argument(
        "--dry-run", action="store_true", help="list what would be dropped, drop nothing"
    )
    archive_export = archive_sub.add_parser(
        "export",
        help="copy every entry of this format version into folder DIR (file:// layout)",
        formatter_class=DefaultsHelpFormatter,
    )
    archive_export.add_argument("dir", metavar="DIR", help="the folder to write into")
    archive_import = archive_sub.add_parser(
        "import",
        help="copy the entries of folder DIR (an export) into this archive",
        formatter_class=DefaultsHelpFormatter,
    )
    archive_import.add_argument("dir", metavar="DIR", help="the folder to read")


def add_warm(sub: Subparsers) -> None:
    """The ``warm`` command."""
    warm = add_command(
        sub,
        "warm",
        cmd_warm,
        help="load a season's sessions ahead of the users (fills the archive and Redis)",
        description="Load the sessions asked through the same service the server uses, at "
        "most PYPOLE_FASTF1_WORKERS at a time and within the upstream budgets, with a progress "
        "bar, then print a summary (loaded / already archived / not available / failed). "
        "Exit status 0 only when nothing failed; Ctrl-C stops at once (status 130) and "
        "writes no partial entry.",
    )
    warm.add_argument("--season", type=int, required=True, metavar="YEAR", help="the season")
    warm.add_argument(
        "--sessions",
        default="R,Q,S",
        metavar="TYPES",
        help="session types, comma-separated, of FP1,FP2,FP3,Q,SQ,SS,S,R",
    )
    warm.add_argument(
        "--rounds",
        default=None,
        metavar="ROUNDS",
        help="rounds such as 1-5 or 1,4,7-9 (default: every round of the season)",
    )
    warm.add_argument(
        "--jolpica",
        action="store_true",
        help="also fetch the season's Jolpica tables (results, qualifying, sprints, "
        "standings, drivers, teams, pit stops of the rounds)",
    )
