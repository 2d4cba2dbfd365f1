"""Route modules are thin adapters that never serve each other: what two routes share lives in the
engine (engine/) or in a helper module of app_fastapi/ outside routes/."""

from __future__ import annotations

from tests.test_structure import import_graph

ROUTES = "app_fastapi.routes"


def route_to_route_imports(graph: dict[str, set[str]]) -> list[str]:
    """`a imports b` for every route module a that imports another module of the routes package."""
    def is_route(name: str) -> bool:
        return name.startswith(ROUTES + ".")

    return sorted(f"{name} imports {target}" for name, targets in graph.items() if is_route(name)
                  for target in targets if is_route(target) or target == ROUTES)


def test_no_route_module_imports_another():
    graph = import_graph()
    assert sum(name.startswith(ROUTES + ".") for name in graph) >= 20
    assert route_to_route_imports(graph) == []


def test_the_check_sees_a_route_importing_a_route():
    graph = {f"{ROUTES}.exports": {f"{ROUTES}.dashboard", "engine.resolve"}, f"{ROUTES}.dashboard": set(),
             f"{ROUTES}.ops": {ROUTES}}
    assert route_to_route_imports(graph) == [f"{ROUTES}.exports imports {ROUTES}.dashboard",
                                             f"{ROUTES}.ops imports {ROUTES}"]
