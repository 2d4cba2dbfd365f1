"""Short-lived engine tokens (JWT, HS256): Flask mints them, the engine verifies them.

Verification pins the algorithm and requires exp/iat/iss/aud/sub plus our tenant and role
claims. The header's `kid` picks the key, so keys rotate without logging anybody out: the
current key signs, previous keys (CAMET_JWT_PREVIOUS_KEYS) still verify until removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from core.db import DatabaseManager
from core.errors import AuthError
from core.settings import Settings
from identity.users import active_user

ALGORITHM = "HS256"
ISSUER = "camet-flask"
AUDIENCE = "camet-engine"
REQUIRED = ["exp", "iat", "iss", "aud", "sub", "tenant", "role", "uid", "cv"]
ROLES = ("viewer", "supervisor", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling the engine, taken only from a verified token."""

    user_id: int
    username: str
    tenant: str
    role: str
    credential_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_label_stops(self) -> bool:
        """Supervisors and admins give stops their reasons; viewers only read them."""
        return self.role in ("supervisor", "admin")


def _keys(settings: Settings) -> dict[str, str]:
    keys = {settings.jwt_kid: settings.secret("jwt_secret")}
    for item in filter(None, (p.strip() for p in settings.jwt_previous_keys.split(","))):
        kid, _, secret = item.partition(":")
        if kid and len(secret.encode()) >= 32:
            keys.setdefault(kid, secret)
    return keys


def issue_token(settings: Settings, principal: Principal, ttl_s: int | None = None) -> str:
    """A signed token for `principal`, valid for `ttl_s` seconds (default from settings)."""
    now = int(time.time())
    claims = {
        "sub": principal.username,
        "uid": principal.user_id,
        "tenant": principal.tenant,
        "role": principal.role,
        "cv": principal.credential_version,
        "iat": now,
        "exp": now + (ttl_s or settings.jwt_ttl_s),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, settings.secret("jwt_secret"), algorithm=ALGORITHM,
                      headers={"kid": settings.jwt_kid})


def verify_token(settings: Settings, token: str) -> Principal:
    """The principal of a valid token; any defect is one AuthError (401)."""
    try:
        header = jwt.get_unverified_header(token)
        key = _keys(settings).get(str(header.get("kid", "")))
        if key is None:
            raise AuthError("invalid token")
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            options={"require": REQUIRED},
        )
    except jwt.PyJWTError:
        raise AuthError("invalid or expired token") from None
    if claims["role"] not in ROLES or not isinstance(claims["uid"], int) \
            or not isinstance(claims["cv"], int) or isinstance(claims["cv"], bool):
        raise AuthError("invalid token")
    return Principal(claims["uid"], str(claims["sub"]), str(claims["tenant"]), claims["role"],
                     claims["cv"])


def verify_active_token(settings: Settings, token: str, db: DatabaseManager) -> Principal:
    """`verify_token`, then one primary-key lookup: a deleted, inactive or locked user, a user
    moved out of the token's tenant, or a token older than the user's last credential change
    (password reset, role change, deactivation) gets 401."""
    principal = verify_token(settings, token)
    user = active_user(db, user_id=principal.user_id, tenant=principal.tenant)
    if user is None or user.username != principal.username \
            or user.credential_version != principal.credential_version:
        raise AuthError("invalid token: user no longer active")
    return Principal(user.id, user.username, user.tenant, user.role, user.credential_version)
