"""Typed FastAPI dependencies: the verified caller, and the admin-only variant.

Every engine route that touches tenant data takes `CurrentPrincipal` (or `AdminPrincipal`);
the tenant comes from the verified token, never from the body or the URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.errors import AuthError, Forbidden
from core.runtime import Runtime, get_runtime
from core.tokens import Principal, verify_token

_bearer = HTTPBearer(auto_error=False)


def runtime_dep() -> Runtime:
    return get_runtime()


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


def get_principal(
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """401 unless the request carries a valid engine token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("missing bearer token")
    return verify_token(rt.settings, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: CurrentPrincipal) -> Principal:
    """403 unless the caller is an admin of its own tenant."""
    if not principal.is_admin:
        raise Forbidden("admin role required")
    return principal


AdminPrincipal = Annotated[Principal, Depends(get_admin)]
