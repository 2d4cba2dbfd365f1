"""The layout guards itself: small modules, no import cycle, and the layer rules of the README.

Imports are read with the standard library's `ast` (module level and inside functions alike);
only our own packages count. `from pkg import name` is an edge to `pkg.name` when that is a
module, else to `pkg`; importing a submodule does not count as importing its package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.settings import PROJECT_ROOT

PACKAGES = ("core", "query", "identity", "ingest", "filters", "widgets", "broker", "rollups", "stops",
            "jobs", "engine", "app_fastapi", "app_flask", "cli")
SCRIPTS = ("manage.py", "passenger_wsgi.py", "wsgi.py")
MAX_LINES = 400
# folder (or script) → the folders of ours it may import: DESIGN.md, "Which folder may use which".
# Scripts are the composition root: they build the Runtime (core) and may start one another.
DOMAINS = ("filters", "widgets", "broker", "query", "rollups", "stops", "ingest", "identity")
COMPOSITION_ROOT = {"app_flask", "app_fastapi", "cli", "core", *(s[:-3] for s in SCRIPTS)}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    **{domain: {"core"} for domain in DOMAINS},
    "jobs": {"rollups", "stops", "core"},
    "engine": {"filters", "query", "rollups", "stops", "broker", "widgets", "core"},
    "app_fastapi": {"engine", "identity", "core"},
    "app_flask": {"identity", "core"},
    "cli": {"engine", "jobs", "ingest", "identity", "core"},
    **{s[:-3]: COMPOSITION_ROOT for s in SCRIPTS},
}
# Module-precise: filters may use query's spec types (the SqlFragment they return).
ALLOWED_MODULES = {"filters": {"query.spec"}}
# Today's code where it breaks the rules above: module → folders it still imports. Each entry is a
# debt to pay, never a pattern to copy; a test fails when an entry is no longer needed.
KNOWN_EXCEPTIONS: dict[str, set[str]] = {
    # FastAPI routes that still do the work themselves instead of calling engine/
    "app_fastapi.main": {"jobs"},
    "app_fastapi.routes.admin_operations": {"jobs"},
    "app_fastapi.routes.admin_plant_areas": {"ingest"},
    "app_fastapi.admin.plant_bodies": {"ingest"},
    "app_fastapi.routes.admin_plant_calendar": {"ingest"},
    "app_fastapi.admin.plant_coded": {"ingest"},
    "app_fastapi.admin.plant_common": {"ingest"},
    "app_fastapi.routes.admin_plant_lines": {"ingest"},
    "app_fastapi.routes.admin_plant_products": {"ingest"},
    "app_fastapi.routes.admin_plant_reasons": {"ingest"},
    "app_fastapi.routes.admin_plant_settings": {"ingest"},
    "app_fastapi.routes.admin_plant_shifts": {"ingest"},
    "app_fastapi.routes.admin_plant_targets": {"ingest"},
    "app_fastapi.routes.admin_uploads": {"ingest"},
    "app_fastapi.routes.ingest": {"ingest"},
    # the page app builds the in-process engine when no engine URL is set
    "app_flask.engine_client": {"app_fastapi"},
    # the command line seeds default rows and rebuilds rollups by hand
    "cli.defaults": {"filters", "widgets"},
    "cli.demo": {"filters", "widgets"},
    "cli.rollups": {"rollups"},
    # SQL time predicates and the stop selection still live in query/
    "filters.shifts": {"query"},
    "stops.reasons": {"query"},
}
DATABASE_LIBRARIES = ("sqlalchemy", "pymysql", "MySQLdb", "connectorx", "sqlite3")


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


def _package(module: str) -> str:
    return module.split(".")[0]


def rule_breaks(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """module → the folders it imports against ALLOWED (and ALLOWED_MODULES)."""
    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        source = _package(name)
        for target in targets:
            folder = _package(target)
            if folder == source or folder in ALLOWED[source] or target in ALLOWED_MODULES.get(source, ()):
                continue
            out.setdefault(name, set()).add(folder)
    return out


def test_every_folder_and_script_has_a_rule():
    assert set(ALLOWED) == set(PACKAGES) | {s[:-3] for s in SCRIPTS}
    assert all((PROJECT_ROOT / package / "__init__.py").exists() for package in PACKAGES)


def test_layers_import_only_downwards():
    """Every import follows DESIGN.md's folder rules, but for the named exceptions."""
    breaks = rule_breaks(import_graph())
    new = {name: folders - KNOWN_EXCEPTIONS.get(name, set()) for name, folders in breaks.items()}
    assert {name: sorted(folders) for name, folders in new.items() if folders} == {}


def test_every_known_exception_is_still_needed():
    breaks = rule_breaks(import_graph())
    stale = {name: sorted(folders - breaks.get(name, set())) for name, folders in KNOWN_EXCEPTIONS.items()}
    assert {name: folders for name, folders in stale.items() if folders} == {}


def test_core_has_no_exception():
    """core/ imports nothing of ours, without exception."""
    assert [name for name in KNOWN_EXCEPTIONS if _package(name) == "core"] == []


def test_the_rule_checker_catches_a_forbidden_import():
    graph = {"core.db": {"query.spec"}, "filters.lines": {"query.spec", "core.db"},
             "widgets.kpi": {"broker.external"}, "jobs.rollups": {"rollups.job"}}
    assert rule_breaks(graph) == {"core.db": {"query"}, "widgets.kpi": {"broker"}}


def test_widgets_never_import_a_database_module():
    """A widget gets its data handed in: neither a database library nor a module of ours that
    uses one directly."""
    files = module_files()
    database_modules = set()
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] in DATABASE_LIBRARIES for n in names):
                database_modules.add(name)
    assert "core.db" in database_modules
    widget_modules = [name for name in files if _package(name) == "widgets"]
    assert set(widget_modules).isdisjoint(database_modules)
    graph = import_graph()
    assert {name: sorted(graph[name] & database_modules) for name in widget_modules
            if graph[name] & database_modules} == {}


TRACKER_REFERENCE = re.compile(r"\b[Ii]ssue\s+\d|\u00a7")


def test_comments_state_rules_not_tracker_references():
    """Code, tests and benchmarks say the rule itself, never where a tracker asked for it."""
    assert TRACKER_REFERENCE.search("see issue" + " 9") and TRACKER_REFERENCE.search("\u00a74")
    roots = [*PACKAGES, "tests", "bench"]
    files = [p for root in roots for p in (PROJECT_ROOT / root).rglob("*.py")]
    files += [PROJECT_ROOT / s for s in SCRIPTS]
    assert len(files) > 200
    found = [f"{p.relative_to(PROJECT_ROOT)}:{n}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if TRACKER_REFERENCE.search(line)]
    assert found == []
