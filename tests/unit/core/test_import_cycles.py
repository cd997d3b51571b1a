"""No import cycle between the modules of ``credit_engine``.

Every module is parsed with :mod:`ast` (nothing is imported) and every absolute
``credit_engine`` import is collected wherever it stands: at the top, inside a
function, or under ``if TYPE_CHECKING:`` (a cycle that only the type checker
sees still ties the modules together). ``from package import name`` counts as
an import of ``package.name`` when that is a module, else of ``package``.
Relative imports are banned by ruff (TID252), so they are not followed.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import credit_engine

ROOT = "credit_engine"


def module_name(path: Path, package_dir: Path) -> str:
    """Dotted name of the module at ``path`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, known: set[str]) -> set[str]:
    """``credit_engine`` modules that ``source`` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != ROOT and not node.module.startswith(ROOT + "."):
                continue
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Map every module of the package to the package modules it imports."""
    paths = {module_name(p, package_dir): p for p in package_dir.rglob("*.py")}
    known = set(paths)
    return {
        name: imported_modules(path.read_text(encoding="utf-8"), known) & known
        for name, path in sorted(paths.items())
    }


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per group of modules tied by imports."""
    return [_cycle_in(group, graph) for group in cyclic_groups(graph)]


def cyclic_groups(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of modules (more than one, or a self-import).

    Tarjan's algorithm, iterative so that deep packages cannot hit the
    recursion limit.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
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
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph.get(node, ()):
                    groups.append(group)
    return groups


def _cycle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the first module of ``group`` (breadth first)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"bug in the cycle finder: no cycle in {sorted(group)}")


def test_credit_engine_has_no_import_cycle():
    package_dir = Path(credit_engine.__file__).parent
    graph = import_graph(package_dir)
    assert len(graph) > 50, f"expected the whole package under {package_dir}"
    groups = cyclic_groups(graph)
    described = [
        f"  {' -> '.join(_cycle_in(group, graph))} (modules tied: {sorted(group)})"
        for group in groups
    ]
    assert not groups, (
        f"{len(groups)} import cycle(s) inside credit_engine ({package_dir}), "
        "TYPE_CHECKING and function-level imports included:\n"
        + "\n".join(described)
        + "\nMove what both sides need into a lower module, or pass it as an "
        "argument, so that imports point one way."
    )


def test_imports_under_type_checking_and_in_functions_are_collected():
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import credit_engine.a
        from credit_engine import b
        from credit_engine.c import Thing
        from credit_engine.pkg import mod as alias
        if TYPE_CHECKING:
            from credit_engine.d import Other
        def later():
            import credit_engine.e
        from os import path
        """
    )
    known = {"credit_engine.a", "credit_engine.b", "credit_engine.pkg.mod"}
    assert imported_modules(source, known) == {
        "credit_engine.a",
        "credit_engine.b",
        "credit_engine.c",
        "credit_engine.pkg.mod",
        "credit_engine.d",
        "credit_engine.e",
    }


def test_cycle_finder_reports_each_cycle_once():
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": set(),
        "e": {"e"},
        "f": {"g"},
        "g": {"f", "a"},
    }
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"], ["f", "g", "f"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
