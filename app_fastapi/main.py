"""FastAPI application factory. Routes live under /api/v1 in every deployment mode."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app_fastapi import docs, header_middleware
from app_fastapi.edge_guard import engine_hosts
from app_fastapi.openapi_errors import document_errors, install_http_error_handler
from app_fastapi.routes import audit, demo_external, health, tokens, users
from app_fastapi.routes import dashboard as dashboard_routes
from app_fastapi.routes import filters as filters_routes
from app_fastapi.version import VERSION
from core.errors import CametError
from core.runtime import Runtime, get_runtime, set_runtime

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """Build the engine; with `runtime` given (tests) it replaces the lazy process runtime."""
    if runtime is not None:
        set_runtime(runtime)
    app = FastAPI(
        title="Camet Analytics engine",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    for module in (health, tokens, audit, users, filters_routes, dashboard_routes, demo_external):
        app.include_router(document_errors(module.router), prefix=API_PREFIX)
    docs.install(app, openapi_url=OPENAPI_URL)
    _install_error_handlers(app)
    install_http_error_handler(app)
    header_middleware.install(app, trusted_hosts=lambda: engine_hosts((runtime or get_runtime()).settings))
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CametError)
    async def camet_error(_request: Request, exc: CametError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        body = {"error": "validation", "message": "invalid request", "details": details}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal", "message": "internal error"}, status_code=500)
