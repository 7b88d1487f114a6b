"""The persisted query manifest (Apollo's format): operations in canonical form, and the
manifest file written by ``pypole persist DIR`` and read at start
(``PYPOLE_PERSISTED_QUERIES_FILE``). The middleware serving them is
:mod:`pypole_gql.graphql.persisted`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    print_ast,
)

MANIFEST_FORMAT: Final = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The persisted query manifest cannot be read."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _spreads(selection_set: SelectionSetNode | None, into: list[str]) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            into.append(selection.name.value)
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            _spreads(selection.selection_set, into)


def _canonical(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> str:
    """The operation with the fragments it uses (transitively, by name), printed."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending: list[str] = []
    _spreads(operation.selection_set, pending)
    while pending:
        name = pending.pop()
        if name in used:
            continue
        fragment = fragments.get(name)
        if fragment is None:
            raise ManifestError(f"fragment {name!r} is not defined")
        used[name] = fragment
        _spreads(fragment.selection_set, pending)
    definitions = [operation, *(used[name] for name in sorted(used))]
    return print_ast(DocumentNode(definitions=tuple(definitions)))


def canonical_operations(
    documents: Iterable[DocumentNode], *, shared: Iterable[DocumentNode] = ()
) -> list[tuple[str | None, str, str]]:
    """``(name, type, text)`` of every operation in ``documents``: the operation and the
    fragments it uses (from any of ``documents`` or ``shared``), fragments sorted by name,
    printed by graphql-core. Spacing, comments and fragment order do not change it."""
    documents = list(documents)
    fragments: dict[str, FragmentDefinitionNode] = {}
    for document in [*documents, *shared]:
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments.setdefault(definition.name.value, definition)
    found = []
    for document in documents:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else None
                text = _canonical(definition, fragments)
                found.append((name, definition.operation.value, text))
    return found


def manifest_document(operations: Iterable[tuple[str | None, str, str]]) -> dict[str, Any]:
    """Apollo's persisted query manifest for ``(name, type, text)`` operations."""
    entries = {
        sha256_hex(text): {"id": sha256_hex(text), "name": name, "type": kind, "body": text}
        for name, kind, text in operations
    }
    return {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [entries[key] for key in sorted(entries)],
    }


def manifest_operations(path: Path) -> list[tuple[str | None, str, str]]:
    """``(name, type, text)`` of a manifest file's operations (:class:`ManifestError` if
    it cannot be used)."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path} is not a persisted query manifest ({MANIFEST_FORMAT})")
    operations: list[tuple[str | None, str, str]] = []
    for entry in data.get("operations") or []:
        body = entry.get("body") if isinstance(entry, dict) else None
        if not isinstance(body, str):
            raise ManifestError(f"{path}: an operation has no body")
        name = entry.get("name")
        kind = entry.get("type")
        operations.append(
            (name if isinstance(name, str) else None, kind if isinstance(kind, str) else "", body)
        )
    return operations


def load_manifest(path: Path) -> dict[str, str]:
    """Hash -> text of a manifest file (:class:`ManifestError` if it cannot be used)."""
    return {sha256_hex(text): text for _, _, text in manifest_operations(path)}
