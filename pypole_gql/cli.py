"""The ``pypole`` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn

from pypole_gql.config import ConfigError, Settings


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    except ValidationError as exc:
        problems = "; ".join(
            f"PYPOLE_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        _fail(f"configuration error: {problems}")


def _fail(message: str) -> NoReturn:
    """End the command with a one-line message and status 2 (no traceback)."""
    print(f"pypole: {message}", file=sys.stderr)
    raise SystemExit(2)


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pypole_gql.logging import configure_logging

    if args.replay:
        from pypole_gql.replay import ReplayFixturesError
        from pypole_gql.replay.server import start_in_thread

        try:
            handle = start_in_thread(Path(args.replay), now=None)
        except ReplayFixturesError as exc:
            _fail(f"--replay: {exc}")
        except OSError as exc:
            _fail(f"--replay: cannot start the replay server: {exc}")
        # Environment, so that every worker process points at the replay as well.
        os.environ["PYPOLE_JOLPICA_URL"] = f"{handle.url}/ergast/f1"
        os.environ["PYPOLE_LIVETIMING_URL"] = handle.url
        os.environ["PYPOLE_SCHEDULE_URL"] = f"{handle.url}/f1schedule"
    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    if settings.database_url.startswith("sqlite"):
        from pypole_gql.db.migrate import upgrade

        upgrade(settings.database_url)
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
    from pypole_gql.db.migrate import downgrade, upgrade
    from pypole_gql.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    if args.revision.startswith("-") or args.revision == "base" or args.downgrade:
        downgrade(settings.database_url, args.revision)
    else:
        upgrade(settings.database_url, args.revision)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from pypole_gql.logging import configure_logging
    from pypole_gql.replay.server import run_replay

    configure_logging(json=False)
    now = datetime.fromisoformat(args.now) if args.now else None
    run_replay(Path(args.fixtures), args.host, args.port, now)
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from pypole_gql.graphql.schema import build_schema

    text = print_schema(build_schema()) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def cmd_export_openapi(args: argparse.Namespace) -> int:
    from pypole_gql.rest.openapi import render_openapi

    text = render_openapi()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
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
    result: int = bench_main(args.bench_args)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pypole", description="PyPole GQL: F1 data server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: PYPOLE_WORKERS)"
    )
    serve.add_argument(
        "--replay", metavar="DIR", help="serve the upstreams from recorded fixtures in DIR"
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.add_argument("--downgrade", action="store_true", help="downgrade to REVISION")
    migrate.set_defaults(func=cmd_migrate)

    replay = sub.add_parser("replay", help="run the offline replay upstream")
    replay.add_argument("--fixtures", required=True, metavar="DIR")
    replay.add_argument("--host", default="127.0.0.1")
    replay.add_argument("--port", type=int, default=8765)
    replay.add_argument("--now", metavar="ISO-DATETIME")
    replay.set_defaults(func=cmd_replay)

    bench = sub.add_parser(
        "bench",
        help="run the benchmarks (python -m bench); options: pypole bench --help",
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

    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", default="schema.graphql")
    export.set_defaults(func=cmd_export_schema)

    export_openapi = sub.add_parser(
        "export-openapi", help="write the OpenAPI document of /api/v1 ('-': stdout)"
    )
    export_openapi.add_argument("--output", "-o", default="openapi.json")
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
