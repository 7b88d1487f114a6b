"""The package's import graph has no circle.

Only imports that run when a module is imported count: module-level ``import`` and
``from ... import`` statements (also inside module-level ``if``/``try``), not those under
``if TYPE_CHECKING:`` nor those inside functions (they run later, once every module is
loaded). ``from pkg import name`` counts as an import of the module ``pkg.name`` when there
is one, else of ``pkg``.

``uv run python -m tests.contract.test_import_cycles`` prints the circles, if any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pypole_gql

PACKAGE = Path(pypole_gql.__file__).parent

Graph = dict[str, set[str]]


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, whether it is a package's ``__init__``)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(
    body: Iterable[ast.stmt], module: str, is_package: bool, known: Mapping[str, object]
) -> set[str]:
    """The names of the package's modules that ``body`` imports when it runs."""
    top = module.split(".")[0]
    out: set[str] = set()
    for node in body:
        if isinstance(node, ast.If):
            if not _type_checking(node.test):
                out |= _imported(node.body, module, is_package, known)
            out |= _imported(node.orelse, module, is_package, known)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                out |= _imported(block, module, is_package, known)
        elif isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name.split(".")[0] == top}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source.split(".")[0] != top:
                continue
            for alias in node.names:
                name = f"{source}.{alias.name}"
                out.add(name if name in known else source)
    return out


def import_graph(root: Path) -> Graph:
    """Module -> the package's modules it imports at import time (itself left out)."""
    modules = _modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {resolve(i) for i in _imported(tree.body, name, is_package, modules)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def report(graph: Mapping[str, set[str]]) -> str:
    found = circles(graph)
    lines = [f"{len(found)} import circle(s)"]
    for component in found:
        members = set(component)
        lines.append(f"- {len(component)} modules:")
        lines += [f"    {m} -> {', '.join(sorted(graph[m] & members))}" for m in component]
    return "\n".join(lines)


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph(PACKAGE)
    assert circles(graph) == [], report(graph)


def test_the_graph_sees_the_package_s_imports() -> None:
    graph = import_graph(PACKAGE)
    assert "pypole_gql.graphql.sessions" in graph["pypole_gql.graphql.f1"]
    assert "pypole_gql.upstream.jolpica_parse" in graph["pypole_gql.upstream.jolpica"]
    # Imported only for type checking, or inside a function: no edge.
    assert "pypole_gql.config" not in graph["pypole_gql.upstream.fastf1.config"]
    assert "pypole_gql.cli_warm" not in graph["pypole_gql.cli_admin"]


def test_a_circle_is_found(tmp_path: Path) -> None:
    package = tmp_path / "loop"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from loop import b\n")
    (package / "b.py").write_text("from loop.inner import c\n")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "c.py").write_text("from .. import a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loop import a\n"
    )
    (package / "e.py").write_text("def later() -> None:\n    from loop import a\n")
    (package / "f.py").write_text("import loop.a\n")

    graph = import_graph(package)

    assert circles(graph) == [["loop.a", "loop.b", "loop.inner.c"]]
    assert graph["loop.d"] == set()
    assert graph["loop.e"] == set()
    assert graph["loop.f"] == {"loop.a"}


if __name__ == "__main__":
    print(report(import_graph(PACKAGE)))
    sys.exit(1 if circles(import_graph(PACKAGE)) else 0)
