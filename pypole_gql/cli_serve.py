"""``pypole serve`` and ``pypole replay``: the commands that run a server (the application,
or the offline replay upstream on its own)."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pypole_gql.cli_common import (
    NOW_DEFAULT_HELP,
    add_command,
    configured,
    fail,
    iso_datetime,
    port_number,
    positive,
    settings_or_exit,
)

if TYPE_CHECKING:
    from pypole_gql.cli_common import Subparsers


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


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

    from pypole_gql.logging import get_logger

    if args.now is not None and not args.replay:
        fail("serve: --now sets the replay's clock; it needs --replay DIR")
    settings = configured()
    log = get_logger("pypole.cli")
    if args.replay:
        from pypole_gql.replay import FIXTURES_NOW, ReplayFixturesError
        from pypole_gql.replay.running import start_in_thread

        try:
            handle = start_in_thread(Path(args.replay), now=args.now or FIXTURES_NOW)
        except ReplayFixturesError as exc:
            fail(f"--replay: {exc}")
        except OSError as exc:
            fail(f"--replay: cannot start the replay server: {exc}")
        # Environment, so that every worker process points at the replay as well.
        os.environ["PYPOLE_JOLPICA_URL"] = f"{handle.url}/ergast/f1"
        os.environ["PYPOLE_LIVETIMING_URL"] = handle.url
        os.environ["PYPOLE_SCHEDULE_URL"] = f"{handle.url}/f1schedule"
        # The server's services take the replay's moment as now, or they would see every
        # race of the fixtures as started (predictions closed, no next race).
        if handle.server.now is not None:
            os.environ["PYPOLE_NOW"] = handle.server.now.isoformat()
        settings = settings_or_exit()
    if settings.persisted_only:
        from pypole_gql.graphql.persisted_manifest import ManifestError, load_manifest

        try:
            load_manifest(settings.resolved_persisted_queries_file)
        except ManifestError as exc:
            fail(f"PYPOLE_PERSISTED_ONLY is on: {exc} (write it with `pypole persist DIR`)")
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


def cmd_replay(args: argparse.Namespace) -> int:
    from pypole_gql.logging import configure_logging
    from pypole_gql.replay import FIXTURES_NOW
    from pypole_gql.replay.running import run_replay

    configure_logging(json=False)
    run_replay(Path(args.fixtures), args.host, args.port, args.now or FIXTURES_NOW, args.forms)
    return 0


def add_serve(sub: Subparsers) -> None:
    """The ``serve`` command."""
    serve = add_command(
        sub,
        "serve",
        cmd_serve,
        help="run the HTTP server (GraphQL at /graphql, REST at /api/v1)",
        description="Run the HTTP server. On SQLite (the default database) the migrations are "
        "applied first; on PostgreSQL run `pypole migrate` before.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port_number, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=positive,
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
        type=iso_datetime,
        metavar="ISO-DATETIME",
        help="with --replay: the moment Jolpica's `current`, `last` and `next` are resolved "
        "against, and the server's services take as now (PYPOLE_NOW), e.g. "
        f"2025-07-06T16:00:00Z ({NOW_DEFAULT_HELP})",
    )


def add_replay(sub: Subparsers) -> None:
    """The ``replay`` command."""
    replay = add_command(
        sub,
        "replay",
        cmd_replay,
        help="run the offline replay upstream on its own",
        description="Serve Jolpica, the live-timing archive and FastF1's schedule files from "
        "recorded fixtures, for clients pointed at it (PYPOLE_JOLPICA_URL=URL/ergast/f1, "
        "PYPOLE_LIVETIMING_URL=URL, PYPOLE_SCHEDULE_URL=URL/f1schedule).",
    )
    replay.add_argument(
        "--fixtures",
        required=True,
        metavar="DIR",
        help="the fixtures directory, e.g. ../shared/fixtures",
    )
    replay.add_argument("--host", default="127.0.0.1", help="address to listen on")
    replay.add_argument("--port", type=port_number, default=8765, help="port to listen on (0: any)")
    replay.add_argument(
        "--now",
        type=iso_datetime,
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
