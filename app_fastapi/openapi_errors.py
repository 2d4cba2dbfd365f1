"""One JSON error shape for every engine answer that is not a success, and its documentation.

`document_errors` adds to each operation of a router the error statuses it can return (bad Host or
unreadable body 400, 401/403 for authenticated and admin routes, 404 with path ids, 413 for
bodies, 422 for any input, 429 for rate limits), all with the `ErrorBody` schema, so the
OpenAPI document matches what the engine really answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class ErrorBody(BaseModel):
    """Every error of the engine: a stable code, a message, and per-field details for 422."""

    error: str = Field(examples=["validation"])
    message: str
    details: Any = None


DESCRIPTIONS = {
    400: "unreadable body or untrusted Host header",
    401: "missing, invalid or outdated bearer token",
    403: "admin role required",
    404: "unknown resource",
    413: "body over this route's size limit",
    422: "invalid input; `details` lists {field, message} per bad field",
    429: "too many requests (see Retry-After)",
}

_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
_HTTP_MESSAGES = {400: "el cuerpo de la solicitud no se puede leer", 404: "ruta desconocida",
                  405: "método no permitido"}


def _depends_on(dependant: Any, name: str) -> bool:
    return any(getattr(d.call, "__name__", "") == name or _depends_on(d, name)
               for d in dependant.dependencies)


def _statuses(route: APIRoute) -> list[int]:
    codes = [400]
    if route.body_field is not None or route.dependant.path_params or route.dependant.query_params:
        codes.append(422)
    if _depends_on(route.dependant, "get_principal"):
        codes += [401, 429]
    if _depends_on(route.dependant, "get_admin"):
        codes.append(403)
    if route.dependant.path_params:
        codes.append(404)
    if route.body_field is not None:
        codes.append(413)
    return codes


def document_errors(router: APIRouter) -> APIRouter:
    """Declare the error answers of every operation of `router` (before it is included)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            for code in _statuses(route):
                entry = route.responses.setdefault(code, {})
                entry.setdefault("description", DESCRIPTIONS[code])
                entry["model"] = ErrorBody
    return router


def conflict(description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry of an operation that answers 409 when a change clashes with the state."""
    return {409: {"description": description, "model": ErrorBody}}


def install_http_error_handler(app: FastAPI) -> None:
    """Starlette's own errors (unknown route, wrong method, unreadable body) in our shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = exc.status_code
        body = {"error": _HTTP_CODES.get(code, "http_error"),
                "message": _HTTP_MESSAGES.get(code, str(exc.detail))}
        headers = dict(getattr(exc, "headers", None) or {})
        if code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return JSONResponse(body, status_code=code, headers=headers)


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only one route's)."""
    routes = app.router.routes
    return [method for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)]
