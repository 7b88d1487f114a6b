"""``pypole export-schema``, ``export-openapi`` and ``persist``: the documents built from the
code (the GraphQL SDL, the OpenAPI document, the persisted query manifest)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pypole_gql.cli_common import (
    add_command,
    fail,
    settings_or_exit,
    write_output,
)

if TYPE_CHECKING:
    from pypole_gql.cli_common import Subparsers


def cmd_export_schema(args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from pypole_gql.graphql.schema import build_schema

    write_output(print_schema(build_schema()) + "\n", args.output)
    return 0


def cmd_export_openapi(args: argparse.Namespace) -> int:
    from pypole_gql.rest.openapi import render_openapi

    write_output(render_openapi(), args.output)
    return 0


def cmd_persist(args: argparse.Namespace) -> int:
    import os as _os

    import orjson
    from graphql import GraphQLError, parse, validate

    from pypole_gql.graphql.persisted_manifest import (
        ManifestError,
        canonical_operations,
        manifest_document,
        manifest_operations,
        sha256_hex,
    )
    from pypole_gql.graphql.schema import build_schema

    settings = settings_or_exit()
    folder = Path(args.directory)
    if not folder.is_dir():
        fail(f"persist: {folder} is not a directory")
    files = sorted(folder.rglob("*.graphql"))
    if not files:
        fail(f"persist: no .graphql files in {folder}")
    documents = []
    for path in files:
        try:
            documents.append(parse(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, GraphQLError) as exc:
            fail(f"persist: {path}: {exc}")
    try:
        operations = canonical_operations(documents)
    except ManifestError as exc:
        fail(f"persist: {exc}")
    schema = build_schema(introspection=settings.introspection_enabled)._schema
    for name, _kind, text in operations:
        problems = validate(schema, parse(text))
        if problems:
            fail(f"persist: operation {name or '(anonymous)'}: {problems[0].message}")
    output = Path(args.output) if args.output else settings.resolved_persisted_queries_file
    known: list[tuple[str | None, str, str]] = []
    if output.exists() and not args.replace:
        try:
            known = manifest_operations(output)
        except ManifestError as exc:
            fail(f"persist: {exc} (use --replace to overwrite it)")
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


def add_persist(sub: Subparsers) -> None:
    """The ``persist`` command."""
    persist = add_command(
        sub,
        "persist",
        cmd_persist,
        help="register the operations of a folder of .graphql files as persisted queries",
        description="Parse every .graphql file under DIR, check each operation against the "
        "schema and write it (with the fragments it uses, in canonical form) to the persisted "
        "query manifest the server reads at start (PYPOLE_PERSISTED_QUERIES_FILE; Apollo's "
        "manifest format). Clients may then send an operation by its SHA-256 alone; with "
        "PYPOLE_PERSISTED_ONLY=true only these operations run. Operations already in the "
        "manifest are kept unless --replace. Prints each operation's hash.",
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


def _add_export(
    sub: Subparsers,
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    output: str,
) -> None:
    """An ``export-*`` command: writes one document to ``--output`` (default ``output``)."""
    export = add_command(sub, name, func, help=help, description=description)
    export.add_argument(
        "--output",
        "-o",
        default=output,
        metavar="FILE",
        help="the file to write, or '-' for standard output",
    )


def add_export_schema(sub: Subparsers) -> None:
    """The ``export-schema`` command."""
    _add_export(
        sub,
        "export-schema",
        cmd_export_schema,
        help="write the GraphQL schema (SDL) built from the code",
        description="Write the GraphQL schema (SDL) built from the code; CI compares it with "
        "the committed schema.graphql.",
        output="schema.graphql",
    )


def add_export_openapi(sub: Subparsers) -> None:
    """The ``export-openapi`` command."""
    _add_export(
        sub,
        "export-openapi",
        cmd_export_openapi,
        help="write the OpenAPI document of /api/v1",
        description="Write the OpenAPI 3.1 document of the REST shim (/api/v1); CI compares "
        "it with the committed openapi.json.",
        output="openapi.json",
    )
