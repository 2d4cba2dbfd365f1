"""The engine's routers are one explicit list in its factory: none of the route modules is left out.

Routers are composed by hand (their order and prefixes make the public URL space), not found by
a registry; this guard makes forgetting one a failing test instead of a silent 404.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import app_fastapi.routes
from app_fastapi.main import API_PREFIX


def _route_modules_with_a_router() -> dict[str, APIRouter]:
    found = {}
    for info in pkgutil.iter_modules(app_fastapi.routes.__path__):
        module = importlib.import_module(f"app_fastapi.routes.{info.name}")
        if isinstance(getattr(module, "router", None), APIRouter):
            found[info.name] = module.router
    return found


@pytest.mark.parametrize("backend", ["sqlite"])  # the app's routes do not depend on the database
def test_every_route_module_is_included_in_the_engine(engine_app):
    served = engine_app.openapi()["paths"]
    routers = _route_modules_with_a_router()
    assert len(routers) >= 20
    for name, router in routers.items():
        documented = [r for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
        assert documented, name
        for route in documented:
            methods = {m.lower() for m in route.methods}
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", API_PREFIX + route.path)  # {id:int} → {id}
            assert methods <= set(served.get(path, {})), (name, route.path)
