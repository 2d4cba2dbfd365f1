"""FastAPI application factory. Routes live under /api/v1 in every deployment mode."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pymysql
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from app_fastapi import docs, header_middleware
from app_fastapi.deps import RuntimeDep
from app_fastapi.edge_guard import engine_hosts
from app_fastapi.openapi_errors import document_errors, install_http_error_handler
from app_fastapi.path_ids import digits_only_ids
from app_fastapi.request_db_wait import RequestDbWait
from app_fastapi.routes import (
    admin_classes,
    admin_dashboards,
    admin_filter_preview,
    admin_filters,
    admin_operations,
    admin_plant_areas,
    admin_plant_calendar,
    admin_plant_lines,
    admin_plant_products,
    admin_plant_reasons,
    admin_plant_settings,
    admin_plant_shifts,
    admin_plant_targets,
    admin_uploads,
    admin_widgets,
    audit,
    dashboards,
    demo_erp,
    demo_external,
    exports,
    external,
    health,
    ingest,
    ingest_keys,
    line_status,
    reports,
    saved_views,
    stop_labels,
    stops,
    tokens,
    users,
)
from app_fastapi.routes import dashboard as dashboard_routes
from app_fastapi.routes import filters as filters_routes
from app_fastapi.version import VERSION
from core.db_errors import as_unavailable
from core.errors import CametError, DatabaseUnavailable
from core.runtime import Runtime, default_runtime
from engine.external_clients import close_loop_client
from identity.request_limits import UPLOAD_API_PATH, engine_body_limits
from jobs.scheduler import ensure_started

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
log = logging.getLogger(__name__)


def start_jobs(rt: RuntimeDep) -> None:
    """The first request of a process starts its job scheduler (no lifespan under a2wsgi)."""
    ensure_started(rt)


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """Build the engine on `runtime` (default: one from the environment's settings)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Under uvicorn: close this loop's shared httpx client on shutdown (a2wsgi runs none)."""
        yield
        await close_loop_client(app.state.runtime)

    app = FastAPI(
        title="Camet Analytics engine",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        dependencies=[Depends(start_jobs)],
        lifespan=lifespan,
    )
    rt = app.state.runtime = runtime or default_runtime()
    routers = (health, tokens, audit, users, filters_routes, dashboard_routes, demo_external, dashboards,
               admin_classes, admin_filters, admin_widgets, admin_dashboards, stops, stop_labels, reports,
               ingest, ingest_keys, line_status, demo_erp, external, admin_plant_areas, admin_plant_lines,
               admin_plant_products, admin_plant_shifts, admin_plant_calendar, admin_plant_targets,
               admin_plant_reasons, saved_views, admin_operations, admin_uploads, admin_filter_preview,
               exports, admin_plant_settings)
    for module in routers:
        app.include_router(document_errors(digits_only_ids(module.router)), prefix=API_PREFIX)
    app.state.catalog_kinds = {"filter": admin_filters.KIND, "widget": admin_widgets.KIND}  # operations page
    docs.install(app, openapi_url=OPENAPI_URL)
    _install_error_handlers(app, rt)
    install_http_error_handler(app)
    header_middleware.install(app, trusted_hosts=lambda: engine_hosts(rt.settings),
                              body_limits=engine_body_limits(rt.settings),
                              streamed=[UPLOAD_API_PATH])
    app.add_middleware(RequestDbWait, seconds=lambda: rt.settings.db_timeout_s)
    return app


def _install_error_handlers(app: FastAPI, rt: Runtime) -> None:
    @app.exception_handler(CametError)
    async def camet_error(request: Request, exc: CametError) -> JSONResponse:
        if isinstance(exc, DatabaseUnavailable):  # the cause for the operator, one line
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                        exc.cause or exc.message)
        elif exc.status_code >= 500 and exc.log_each_5xx:
            log.error("domain error %s on %s %s: %s", type(exc).__name__, request.method,
                      request.url.path, exc.message)
        retry = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=retry)

    async def driver_error(request: Request, exc: Exception) -> JSONResponse:
        """A lost connection, a timeout or a locked file is the Spanish 503 (wherever it was
        raised); any other database error is the generic 500."""
        unavailable = as_unavailable(exc, rt.settings.db_retry_s)
        if unavailable is not None:
            return await camet_error(request, unavailable)
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal", "message": "internal error"}, status_code=500)

    for driver_errors in (SQLAlchemyError, pymysql.err.Error, sqlite3.Error):
        app.add_exception_handler(driver_errors, driver_error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        body = {"error": "validation", "message": "invalid request", "details": details}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal", "message": "internal error"}, status_code=500)
