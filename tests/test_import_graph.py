"""The package has no import circle.

The graph is read from the source (``ast``): an edge for every import a module runs when it
is imported (module level and class bodies; ``if TYPE_CHECKING:`` blocks and imports inside
functions, the usual way to defer one, are left out), plus an edge to each parent package
of an imported module (importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pypole_gql

ROOT = Path(pypole_gql.__file__).resolve().parent.parent


def _modules() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in (ROOT / "pypole_gql").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _run_at_import(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
        elif isinstance(node, ast.ClassDef | ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        targets: set[str] = set()
        for node in _run_at_import(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(filter(None, (owner(alias.name) for alias in node.names)))
                continue
            base = node.module or ""
            if node.level:
                here = name if package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    here = here.rpartition(".")[0]
                base = f"{here}.{base}" if base else here
            for alias in node.names:
                targets.add(owner(f"{base}.{alias.name}") or owner(base) or "")
        edges = set()
        for target in targets - {""}:
            edges.add(target)
            parent = target.rpartition(".")[0]
            while parent:
                if not name.startswith(parent + ".") and name != parent:
                    edges.add(parent)
                parent = parent.rpartition(".")[0]
        edges.discard(name)
        graph[name] = {t for t in edges if t in modules}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_is_read() -> None:
    graph = _graph()
    # A few edges known to exist, so an empty graph cannot pass for a clean one.
    assert "pypole_gql.cache.loader" in graph["pypole_gql.cache"]
    assert "pypole_gql.cache.stores" in graph["pypole_gql.cache.loader"]
    assert "pypole_gql.cache" in graph["pypole_gql.resources"]
    # importing pypole_gql.cache.freshness runs pypole_gql/cache/__init__ first
    assert "pypole_gql.cache" in graph["pypole_gql.middleware"]


def test_a_circle_is_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_package_has_no_import_circle() -> None:
    assert _cycles(_graph()) == []


#: The package's rooms, bottom first. A module may import its own room, a room of its own
#: layer, or a room below; never one above. The edges (GraphQL, REST, health, the docs
#: pages) sit side by side: GraphQL's widget data is the REST body shape (``rest.shapes``).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"version", "config", "clock", "errors", "log_output", "logging"}),
    frozenset({"domain"}),
    frozenset({"web", "redis_mux", "redis_link", "ratelimit"}),
    frozenset({"upstream", "db"}),
    frozenset({"cache", "archive", "auth"}),
    frozenset({"services"}),
    frozenset({"resources"}),
    frozenset({"docs", "middleware", "front", "health", "graphql", "rest", "replay"}),
    frozenset({"app", "cli", "__main__"}),
)


def _room(module: str) -> str:
    room = module.split(".")[1] if "." in module else module
    return "cli" if room.startswith("cli_") else room


def _layer(room: str) -> int:
    for depth, rooms in enumerate(LAYERS):
        if room in rooms:
            return depth
    raise AssertionError(f"room {room!r} is in no layer: add it to LAYERS")


def test_every_room_has_a_layer() -> None:
    for module in _graph():
        if module != "pypole_gql":
            _layer(_room(module))


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module != "pypole_gql"
        for target in targets
        if target != "pypole_gql" and _layer(_room(target)) > _layer(_room(module))
    )


def test_no_import_points_up_a_layer() -> None:
    assert _upward(_graph()) == []


def test_an_upward_import_is_found() -> None:
    graph = {
        "pypole_gql.services.warm": {"pypole_gql.resources", "pypole_gql.domain.f1"},
        "pypole_gql.graphql.widgets": {"pypole_gql.rest.shapes"},
    }
    assert _upward(graph) == ["pypole_gql.services.warm -> pypole_gql.resources"]
