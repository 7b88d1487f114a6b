"""The ``pypole`` command: its parser, put together from the command modules (each holds its
commands and their arguments), and ``pypole bench``, which hands every option to the
harness."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pypole_gql import cli_admin, cli_export, cli_serve
from pypole_gql.cli_common import DefaultsHelpFormatter, fail

__all__ = ["DefaultsHelpFormatter", "build_parser", "main"]


def cmd_bench(args: argparse.Namespace) -> int:
    # The harness lives beside the package in the source tree (bench/), not in the wheel.
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from bench.run import main as bench_main
    except ImportError:
        fail("bench: run it from a source checkout (the bench/ folder is not installed)")
    result: int = bench_main(args.bench_args, prog="pypole bench")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pypole",
        description="PyPole GQL: F1 data (Jolpica and FastF1) over GraphQL and REST.",
        epilog="Settings come from PYPOLE_* environment variables and ./.env "
        "(see .env.sample). `pypole COMMAND --help` describes each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_serve.add_serve(sub)
    cli_admin.add_migrate(sub)
    cli_serve.add_replay(sub)
    bench = sub.add_parser(
        "bench",
        help="run the benchmarks from a source checkout; options: pypole bench --help",
        add_help=False,
    )
    bench.set_defaults(func=cmd_bench, bench_args=[])

    cli_admin.add_import_users(sub)
    cli_export.add_persist(sub)
    cli_admin.add_archive(sub)
    cli_admin.add_warm(sub)
    cli_export.add_export_schema(sub)
    cli_export.add_export_openapi(sub)
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
