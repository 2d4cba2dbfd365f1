"""The engine's route table walked: every route with its dependencies (isolation and access tests)."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def _flat_routes(app):
    """(full path, route) of every route, including those of included routers."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                yield ctx.path, ctx.original_route
        else:
            yield getattr(route, "path", ""), route


def api_routes(app):
    for path, route in _flat_routes(app):
        if path.startswith("/api/v1"):
            assert isinstance(route, APIRoute), f"{path}: not an APIRoute, walk it explicitly"
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield method, path, route


def depends_on(dependant, target) -> bool:
    return any(d.call is target or depends_on(d, target) for d in dependant.dependencies)
