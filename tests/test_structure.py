"""The layout guards itself: small modules, no import cycle, and the layer rules of the README.

Imports are read with the standard library's `ast` (module level and inside functions alike);
only our own packages count. `from pkg import name` is an edge to `pkg.name` when that is a
module, else to `pkg`; importing a submodule does not count as importing its package.
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.settings import PROJECT_ROOT

PACKAGES = ("core", "query", "identity", "ingest", "filters", "widgets", "broker", "jobs",
            "app_fastapi", "app_flask", "cli", "engine")
SCRIPTS = ("manage.py", "passenger_wsgi.py", "wsgi.py")
MAX_LINES = 400
# package → packages of ours it must never import (DESIGN.md, "Which folder may use which").
FORBIDDEN = {
    "core": {"query", "identity", "ingest", "filters", "widgets", "broker", "jobs", "app_fastapi",
             "app_flask", "cli"},
    "app_flask": {"filters", "widgets", "broker"},
    "widgets": {"broker"},
    "engine": {"app_fastapi", "app_flask", "cli", "jobs", "ingest"},
}


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every product module (tests and bench excluded)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    for script in SCRIPTS:
        found[script[:-3]] = PROJECT_ROOT / script
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Our modules that `name` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imports_of(name, path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path (first module repeated at the end), or [] when acyclic."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


def test_no_module_over_400_lines():
    files = module_files()
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in files.items()}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_import_cycle():
    graph = import_graph()
    assert "core.db_url" in graph["core.settings"]  # function-level imports count too
    assert find_cycle(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_layers_import_only_downwards():
    broken = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        for target in targets
        if target.split(".")[0] in FORBIDDEN.get(name.split(".")[0], set())
    )
    assert broken == []
