"""The ``pypole`` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn

from pypole_gql.config import ConfigError, Settings

#: What ``--now`` of ``pypole serve --replay`` and ``pypole replay`` means when it is omitted.
NOW_DEFAULT_HELP = (
    "default: just after the last race with results in the fixtures' CSV, so that `current` "
    "is the fixtures' last season and `next` its following race"
)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that ends each option with its default, unless the text already says it or
    there is none to say (a flag, a required option, an option that is off unless given)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default:" in text
            or action.required
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


def _settings() -> Settings:
    """Every setting, checked: a bad one ends the command here, before anything has started."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    except ValidationError as exc:
        problems = "; ".join(
            f"PYPOLE_{'_'.join(str(part) for part in error['loc']).upper()}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        _fail(f"configuration error: {problems}")


def _fail(message: str) -> NoReturn:
    """End the command with a one-line message and status 2 (no traceback)."""
    print(f"pypole: {message}", file=sys.stderr)
    raise SystemExit(2)


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


def _iso_datetime(text: str) -> datetime:
    """``--now``: an ISO 8601 date or date and time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date-time such as 2025-07-06T16:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def _urls(host: str, port: int) -> dict[str, str]:
    """Where to go once the server runs (the ``serve.starting`` log line)."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return {
        "graphql": f"{base}/graphql",
        "docs": f"{base}/api/v1/docs",
        "health": f"{base}/health/ready",
    }


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pypole_gql.logging import configure_logging, get_logger

    if args.now is not None and not args.replay:
        _fail("serve: --now sets the replay's clock; it needs --replay DIR")
    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    log = get_logger("pypole.cli")
    if args.replay:
        from pypole_gql.replay import FIXTURES_NOW, ReplayFixturesError
        from pypole_gql.replay.server import start_in_thread

        try:
            handle = start_in_thread(Path(args.replay), now=args.now or FIXTURES_NOW)
        except ReplayFixturesError as exc:
            _fail(f"--replay: {exc}")
        except OSError as exc:
            _fail(f"--replay: cannot start the replay server: {exc}")
        # Environment, so that every worker process points at the replay as well.
        os.environ["PYPOLE_JOLPICA_URL"] = f"{handle.url}/ergast/f1"
        os.environ["PYPOLE_LIVETIMING_URL"] = handle.url
        os.environ["PYPOLE_SCHEDULE_URL"] = f"{handle.url}/f1schedule"
        # The server's services take the replay's moment as now, or they would see every
        # race of the fixtures as started (predictions closed, no next race).
        if handle.server.now is not None:
            os.environ["PYPOLE_NOW"] = handle.server.now.isoformat()
        settings = _settings()
    if settings.persisted_only:
        from pypole_gql.graphql.persisted import ManifestError, load_manifest

        try:
            load_manifest(settings.resolved_persisted_queries_file)
        except ManifestError as exc:
            _fail(f"PYPOLE_PERSISTED_ONLY is on: {exc} (write it with `pypole persist DIR`)")
    if settings.database_url.startswith("sqlite"):
        from pypole_gql.db.migrate import upgrade

        upgrade(settings.database_url)
    log.info("serve.starting", **_urls(args.host, args.port))
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; a
    # no-op handler lets a SIGINT or SIGTERM end `pypole serve` with status 0 instead.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _ignore_signal)
    uvicorn.run(
        "pypole_gql.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers or settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    from pypole_gql.db.migrate import downgrade, upgrade
    from pypole_gql.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    try:
        if args.revision.startswith("-") or args.revision == "base" or args.downgrade:
            downgrade(settings.database_url, args.revision)
        else:
            upgrade(settings.database_url, args.revision)
    except CommandError as exc:  # an unknown revision, a step past the first or the last
        _fail(f"migrate {args.revision}: {exc}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from pypole_gql.logging import configure_logging
    from pypole_gql.replay import FIXTURES_NOW
    from pypole_gql.replay.server import run_replay

    configure_logging(json=False)
    run_replay(Path(args.fixtures), args.host, args.port, args.now or FIXTURES_NOW, args.forms)
    return 0


def _write(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)


def cmd_export_schema(args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from pypole_gql.graphql.schema import build_schema

    _write(print_schema(build_schema()) + "\n", args.output)
    return 0


def cmd_persist(args: argparse.Namespace) -> int:
    import os as _os

    import orjson
    from graphql import GraphQLError, parse, validate

    from pypole_gql.graphql.persisted import (
        ManifestError,
        canonical_operations,
        manifest_document,
        manifest_operations,
        sha256_hex,
    )
    from pypole_gql.graphql.schema import build_schema

    settings = _settings()
    folder = Path(args.directory)
    if not folder.is_dir():
        _fail(f"persist: {folder} is not a directory")
    files = sorted(folder.rglob("*.graphql"))
    if not files:
        _fail(f"persist: no .graphql files in {folder}")
    documents = []
    for path in files:
        try:
            documents.append(parse(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, GraphQLError) as exc:
            _fail(f"persist: {path}: {exc}")
    try:
        operations = canonical_operations(documents)
    except ManifestError as exc:
        _fail(f"persist: {exc}")
    schema = build_schema(introspection=settings.introspection_enabled)._schema
    for name, _kind, text in operations:
        problems = validate(schema, parse(text))
        if problems:
            _fail(f"persist: operation {name or '(anonymous)'}: {problems[0].message}")
    output = Path(args.output) if args.output else settings.resolved_persisted_queries_file
    known: list[tuple[str | None, str, str]] = []
    if output.exists() and not args.replace:
        try:
            known = manifest_operations(output)
        except ManifestError as exc:
            _fail(f"persist: {exc} (use --replace to overwrite it)")
    merged = manifest_document([*known, *operations])
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".tmp")
    partial.write_bytes(orjson.dumps(merged, option=orjson.OPT_INDENT_2) + b"\n")
    _os.replace(partial, output)  # readers see the old manifest or the new, never half
    before = {sha256_hex(text) for _, _, text in known}
    for name, kind, text in operations:
        print(f"{sha256_hex(text)}  {kind} {name or '(anonymous)'}")
    new = len({sha256_hex(text) for _, _, text in operations} - before)
    print(
        f"{len(operations)} operations from {len(files)} files, {new} new; "
        f"{len(merged['operations'])} in {output}"
    )
    return 0


def cmd_export_openapi(args: argparse.Namespace) -> int:
    from pypole_gql.rest.openapi import render_openapi

    _write(render_openapi(), args.output)
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
    from pypole_gql.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.json_logs, level="WARNING")
    source: str = args.source
    try:
        if "://" in source:
            rows = asyncio.run(read_users(source, LEGACY_COLUMNS, REQUIRED_COLUMNS))
            users = [legacy_user(row) for row in rows]
        else:
            users = read_csv(Path(source))
    except (ImportSourceError, LegacySourceError) as exc:
        _fail(f"import-users: {exc}")
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


def cmd_bench(args: argparse.Namespace) -> int:
    # The harness lives beside the package in the source tree (bench/), not in the wheel.
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from bench.run import main as bench_main
    except ImportError:
        _fail("bench: run it from a source checkout (the bench/ folder is not installed)")
    result: int = bench_main(args.bench_args, prog="pypole bench")
    return result


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
    from pypole_gql.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.json_logs, level="WARNING")
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
        _fail(f"archive {args.action}: {exc}")


def cmd_warm(args: argparse.Namespace) -> int:
    from pypole_gql.services.warm import parse_rounds, parse_sessions

    try:
        kinds = parse_sessions(args.sessions)
        rounds = None if args.rounds is None else parse_rounds(args.rounds)
    except ValueError as exc:
        _fail(f"warm: {exc}")
    from pypole_gql.cli_warm import run_warm

    return run_warm(_settings(), args.season, kinds, rounds, jolpica=args.jolpica)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pypole",
        description="PyPole GQL: F1 data (Jolpica and FastF1) over GraphQL and REST.",
        epilog="Settings come from PYPOLE_* environment variables and ./.env "
        "(see .env.sample). `pypole COMMAND --help` describes each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = DefaultsHelpFormatter

    serve = sub.add_parser(
        "serve",
        help="run the HTTP server (GraphQL at /graphql, REST at /api/v1)",
        description="Run the HTTP server. On SQLite (the default database) the migrations are "
        "applied first; on PostgreSQL run `pypole migrate` before.",
        formatter_class=defaults,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="uvicorn worker processes (default: PYPOLE_WORKERS, else 1)",
    )
    serve.add_argument(
        "--replay",
        metavar="DIR",
        help="serve every upstream (Jolpica, live timing, FastF1's schedule) offline from the "
        "recorded fixtures in DIR, e.g. ../shared/fixtures (default: the real upstreams)",
    )
    serve.add_argument(
        "--now",
        type=_iso_datetime,
        metavar="ISO-DATETIME",
        help="with --replay: the moment Jolpica's `current`, `last` and `next` are resolved "
        "against, and the server's services take as now (PYPOLE_NOW), e.g. "
        f"2025-07-06T16:00:00Z ({NOW_DEFAULT_HELP})",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser(
        "migrate",
        help="apply (or undo) the database migrations",
        description="Upgrade the database named by PYPOLE_DATABASE_URL to REVISION, or "
        "downgrade it.",
        formatter_class=defaults,
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
    migrate.set_defaults(func=cmd_migrate)

    replay = sub.add_parser(
        "replay",
        help="run the offline replay upstream on its own",
        description="Serve Jolpica, the live-timing archive and FastF1's schedule files from "
        "recorded fixtures, for clients pointed at it (PYPOLE_JOLPICA_URL=URL/ergast/f1, "
        "PYPOLE_LIVETIMING_URL=URL, PYPOLE_SCHEDULE_URL=URL/f1schedule).",
        formatter_class=defaults,
    )
    replay.add_argument(
        "--fixtures",
        required=True,
        metavar="DIR",
        help="the fixtures directory, e.g. ../shared/fixtures",
    )
    replay.add_argument("--host", default="127.0.0.1", help="address to listen on")
    replay.add_argument("--port", type=_port, default=8765, help="port to listen on (0: any)")
    replay.add_argument(
        "--now",
        type=_iso_datetime,
        metavar="ISO-DATETIME",
        help="the moment Jolpica's `current`, `last` and `next` are resolved against, e.g. "
        f"2025-07-06T16:00:00Z ({NOW_DEFAULT_HELP})",
    )
    replay.add_argument(
        "--forms",
        choices=("csv", "jolpica", "recorded"),
        default="csv",
        help="how answers no recording holds are written: the CSV database as it is (Ergast's "
        "forms), the same in Jolpica's current forms where its own data shows them (Lapped, "
        "Retired, lapped cars' times, pit-lane grid slots, 2018/2019/2025 sessions), or the "
        "recorded bodies alone, re-paged",
    )
    replay.set_defaults(func=cmd_replay)

    bench = sub.add_parser(
        "bench",
        help="run the benchmarks from a source checkout; options: pypole bench --help",
        add_help=False,
    )
    bench.set_defaults(func=cmd_bench, bench_args=[])

    import_users = sub.add_parser(
        "import-users",
        help="copy the accounts of the older PyPole backend into this server's database",
        description="Copy the older PyPole backend's accounts (its users table, or a CSV "
        "export of it with a header row) into the database of PYPOLE_DATABASE_URL. bcrypt "
        "password hashes are kept and become argon2id at each user's next login; unknown "
        "themes become 'system'; rows that break the account rules or collide with an account "
        "are refused and listed. Exit status 1 when any row was refused.",
        formatter_class=defaults,
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
    import_users.set_defaults(func=cmd_import_users)

    persist = sub.add_parser(
        "persist",
        help="register the operations of a folder of .graphql files as persisted queries",
        description="Parse every .graphql file under DIR, check each operation against the "
        "schema and write it (with the fragments it uses, in canonical form) to the persisted "
        "query manifest the server reads at start (PYPOLE_PERSISTED_QUERIES_FILE; Apollo's "
        "manifest format). Clients may then send an operation by its SHA-256 alone; with "
        "PYPOLE_PERSISTED_ONLY=true only these operations run. Operations already in the "
        "manifest are kept unless --replace. Prints each operation's hash.",
        formatter_class=defaults,
    )
    persist.add_argument("directory", metavar="DIR", help="folder of .graphql files")
    persist.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="FILE",
        help="the manifest to write (default: PYPOLE_PERSISTED_QUERIES_FILE, or "
        "persisted-queries.json in the data folder)",
    )
    persist.add_argument(
        "--replace", action="store_true", help="drop the operations already in the manifest"
    )
    persist.set_defaults(func=cmd_persist)
    archive = sub.add_parser(
        "archive",
        help="see, trim and move the session archive (PYPOLE_ARCHIVE_URL)",
        description="The durable archive of extracted sessions of finished events: the "
        "application database's session_archive table, or the folder or S3 bucket "
        "PYPOLE_ARCHIVE_URL names.",
        formatter_class=defaults,
    )
    archive_sub = archive.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with the archive"
    )
    archive_sub.add_parser(
        "list",
        help="every entry: season, round, session, format version, size, when stored",
        formatter_class=defaults,
    )
    archive_prune = archive_sub.add_parser(
        "prune",
        help="drop entries of another format version (never read again) and of --season",
        formatter_class=defaults,
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
        formatter_class=defaults,
    )
    archive_export.add_argument("dir", metavar="DIR", help="the folder to write into")
    archive_import = archive_sub.add_parser(
        "import",
        help="copy the entries of folder DIR (an export) into this archive",
        formatter_class=defaults,
    )
    archive_import.add_argument("dir", metavar="DIR", help="the folder to read")
    archive.set_defaults(func=cmd_archive)

    warm = sub.add_parser(
        "warm",
        help="load a season's sessions ahead of the users (fills the archive and Redis)",
        description="Load the sessions asked through the same service the server uses, at "
        "most PYPOLE_FASTF1_WORKERS at a time and within the upstream budgets, with a progress "
        "bar, then print a summary (loaded / already archived / not available / failed). "
        "Exit status 0 only when nothing failed; Ctrl-C stops at once (status 130) and "
        "writes no partial entry.",
        formatter_class=defaults,
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
    warm.set_defaults(func=cmd_warm)

    export = sub.add_parser(
        "export-schema",
        help="write the GraphQL schema (SDL) built from the code",
        description="Write the GraphQL schema (SDL) built from the code; CI compares it with "
        "the committed schema.graphql.",
        formatter_class=defaults,
    )
    export.add_argument(
        "--output",
        "-o",
        default="schema.graphql",
        metavar="FILE",
        help="the file to write, or '-' for standard output",
    )
    export.set_defaults(func=cmd_export_schema)

    export_openapi = sub.add_parser(
        "export-openapi",
        help="write the OpenAPI document of /api/v1",
        description="Write the OpenAPI 3.1 document of the REST shim (/api/v1); CI compares "
        "it with the committed openapi.json.",
        formatter_class=defaults,
    )
    export_openapi.add_argument(
        "--output",
        "-o",
        default="openapi.json",
        metavar="FILE",
        help="the file to write, or '-' for standard output",
    )
    export_openapi.set_defaults(func=cmd_export_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["bench"]:  # every option after it belongs to the harness
        return cmd_bench(argparse.Namespace(bench_args=given[1:]))
    args = build_parser().parse_args(given)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
