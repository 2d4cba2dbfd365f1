"""Integer path parameters match digits only, so a fixed path next to an id path keeps its 405.

`/stops/reasons` (GET) sits next to `/stops/{stop_id}` (PATCH): with a plain `{stop_id}` a PATCH to
`/stops/reasons` matches the id route and answers 422 ("reasons" is not an integer) instead of
405 (that path has no PATCH). Declaring every integer path parameter as `{name:int}` makes the
router itself tell ids from names: a non-numeric id is then a 404 (no such path), a too-large
one still a 422 from its bounds. Applied to every router before it is included, so new routes
get it without thinking of it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute


def digits_only_ids(router: APIRouter) -> APIRouter:
    """Rewrite `{name}` to `{name:int}` in each route path whose parameter `name` is an int."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.path_params:
            if param.field_info.annotation is int:
                route.path = route.path.replace("{" + param.alias + "}", "{" + param.alias + ":int}")
    return router
