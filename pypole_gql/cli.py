"""The ``pypole`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pypole_gql.config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ConfigError as exc:
        print(f"pypole: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pypole_gql.logging import configure_logging

    if args.replay:
        from pypole_gql.replay.server import start_in_thread

        handle = start_in_thread(Path(args.replay), now=None)
        # Environment, so that every worker process points at the replay as well.
        os.environ["PYPOLE_JOLPICA_URL"] = f"{handle.url}/ergast/f1"
        os.environ["PYPOLE_LIVETIMING_URL"] = handle.url
        os.environ["PYPOLE_SCHEDULE_URL"] = f"{handle.url}/f1schedule"
    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    if settings.database_url.startswith("sqlite"):
        from pypole_gql.db.migrate import upgrade

        upgrade(settings.database_url)
    uvicorn.run(
        "pypole_gql.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pypole", description="PyPole GQL: F1 data server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("PYPOLE_WORKERS", "1")))
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

    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", default="schema.graphql")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
