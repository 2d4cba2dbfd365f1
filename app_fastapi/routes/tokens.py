"""POST /auth/token: API clients trade tenant + username + password for a short-lived JWT.

Same rules as the login page: Argon2 check, DB lockout, one message for every failure, and
rate limits per IP and per tenant+username on the shared storage.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app_fastapi.deps import RuntimeDep, client_ip
from core.tenant_slugs import normalize_tenant_slug
from core.usernames import normalize_username
from identity.audit import record
from identity.engine_tokens import Principal, issue_token
from identity.passwords import MAX_LOGIN_LENGTH
from identity.ratelimit import API_LOGIN_PER_IP, API_LOGIN_PER_USER, limiter_for
from identity.users import authenticate

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    tenant: str = Field(min_length=1, max_length=32, examples=["demo"])
    username: str = Field(min_length=1, max_length=64, examples=["demo"])
    password: str = Field(min_length=1, max_length=MAX_LOGIN_LENGTH)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 type name, not a secret
    expires_in: int
    tenant: str
    role: str


@router.post("/auth/token", response_model=TokenResponse,
             responses={401: {"description": "bad credentials or locked account"},
                        429: {"description": "too many attempts (see Retry-After)"}})
def token(body: TokenRequest, request: Request, rt: RuntimeDep) -> TokenResponse:
    """A bearer token for the engine API, valid for CAMET_JWT_TTL_S seconds."""
    ip = client_ip(request)
    limiter = limiter_for(rt)
    limiter.hit(API_LOGIN_PER_IP, "api-login-ip", ip)
    limiter.hit(API_LOGIN_PER_USER, "api-login-user", normalize_tenant_slug(body.tenant),
                normalize_username(body.username))
    user = authenticate(rt.db, rt.settings, tenant=body.tenant, username=body.username,
                        password=body.password, ip=ip)
    with rt.db.central() as conn:
        record(conn, action="token_issued", tenant_id=user.tenant_id, user_id=user.id,
               username=user.username, ip=ip)
    jwt = issue_token(rt.settings, Principal(user.id, user.username, user.tenant, user.role,
                                             user.credential_version))
    return TokenResponse(access_token=jwt, expires_in=rt.settings.jwt_ttl_s, tenant=user.tenant,
                         role=user.role)
