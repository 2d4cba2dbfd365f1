"""Typed FastAPI dependencies: the verified caller, and the admin-only variant.

Every engine route that touches tenant data takes `CurrentPrincipal` (or `AdminPrincipal`);
the tenant comes from the verified token, never from the body or the URL. The token must
belong to a user that still exists, is active and is not locked (one primary-key lookup).
Each authenticated call also counts against the caller's per-user rate limits: a general
one, plus the one LIMITED_PATHS names for its path (several routes may share one).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator, Field, Strict

from core.errors import AuthError, Forbidden
from core.runtime import Runtime
from identity.engine_tokens import Principal, verify_active_token
from identity.ratelimit import ENGINE_DASHBOARD_RUN_PER_USER, limiter_for
from identity.request_limits import MAX_DB_INT

_bearer = HTTPBearer(auto_error=False)

API_PER_USER = "600 per minute"
DASHBOARD_RUN = "/api/v1/dashboard/run"
# Limit name (also its storage scope) → the extra per-user rate of the routes counted against it.
ROUTE_LIMITS = {DASHBOARD_RUN: ENGINE_DASHBOARD_RUN_PER_USER}
# Request path as served (matched at its end: a mount prefix may come before it) → the
# ROUTE_LIMITS entry it spends. A widget export runs the whole dashboard, so it spends a run.
LIMITED_PATHS = {re.compile(r"/api/v1/dashboard/run\Z"): DASHBOARD_RUN,
                 re.compile(r"/api/v1/exports/widgets/\d+\Z"): DASHBOARD_RUN}


def runtime_dep(request: Request) -> Runtime:
    """The runtime the app was built with (`app.state.runtime`)."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


def client_ip(request: Request) -> str:
    """The peer address (the web server in front sets it; proxies are not trusted here)."""
    return request.client.host if request.client else "-"


def get_principal(
    request: Request,
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """401 unless the request carries a valid token of a usable user; 429 over its limits."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("missing bearer token")
    principal = verify_active_token(rt.settings, credentials.credentials, rt.db)
    limiter = limiter_for(rt)
    who = (principal.tenant, str(principal.user_id))
    limiter.hit(API_PER_USER, "api-user", *who)
    path = request.scope.get("path", "")
    limited = next((name for pattern, name in LIMITED_PATHS.items() if pattern.search(path)), None)
    if limited is not None:
        limiter.hit(ROUTE_LIMITS[limited], "route:" + limited, *who)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: CurrentPrincipal) -> Principal:
    """403 unless the caller is an admin of its own tenant."""
    if not principal.is_admin:
        raise Forbidden("admin role required")
    return principal


AdminPrincipal = Annotated[Principal, Depends(get_admin)]


# Every integer id in a path is bounded (MAX_DB_INT, 2^53 - 1: see identity/request_limits.py):
# larger ones are a 422 from validation, never an overflow in the driver.
RowId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="a row id of the caller's tenant")]


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only `YYYY-MM-DD` (pydantic alone would also read `0` as 1970-01-01); a date object passes."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise ValueError("se esperaba una fecha AAAA-MM-DD")
    return value


# A calendar day in a query or body: exactly what the OpenAPI `format: date` says.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def _integral(value: object) -> object:
    """A float without a fraction (`5127.0`) as the int it is; anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A row id in a JSON body, exactly as its OpenAPI `type: integer` says (JSON Schema counts
# `5127.0` as an integer): an integral number in range passes; a string, a boolean or a fraction
# is a 422. (The bounds sit before the validator so the schema shows them.)
JsonRowId = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_INT), BeforeValidator(_integral)]
