"""User administration of the caller's own tenant (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, StrictBool

from app_fastapi.deps import AdminPrincipal, RuntimeDep, client_ip
from app_fastapi.openapi_errors import ErrorBody
from core.errors import Conflict, NotFound
from identity.passwords import MAX_LENGTH, MIN_LENGTH
from identity.request_limits import MAX_DB_INT
from identity.users import (
    User,
    create_user,
    delete_user,
    get_user,
    list_users,
    set_password,
    unlock_user,
    update_user,
)

router = APIRouter(tags=["users"])

# What validate_username accepts before normalising: ASCII letters (any case), digits, . _ @ -
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
CONFLICT = {409: {"description": "duplicate username, or an admin acting on itself",
                  "model": ErrorBody}}
UserId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="a user id of the caller's tenant")]


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    locked: bool
    locked_until: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN,
                          description="stored trimmed and in lower case; `Ana` and `ana` are one user")
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    role: Literal["viewer", "supervisor", "admin"] = Field(
        default="viewer", description="viewer reads; supervisor also labels stops; admin also configures")


class UserPatch(BaseModel):
    role: Literal["viewer", "supervisor", "admin"] | None = None
    active: StrictBool | None = None
    password: str | None = Field(default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH)


def _out(user: User | None) -> UserOut:
    if user is None:
        raise NotFound("unknown user")
    return UserOut(**user.to_dict())


@router.get("/users", response_model=list[UserOut])
def users(principal: AdminPrincipal, rt: RuntimeDep) -> list[UserOut]:
    """Every user of the caller's tenant."""
    return [_out(u) for u in list_users(rt.db, tenant=principal.tenant)]


@router.post("/users", response_model=UserOut, status_code=201, responses=CONFLICT)
def create(body: UserCreate, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> UserOut:
    """Add a user to the caller's tenant."""
    uid = create_user(rt.db, tenant=principal.tenant, username=body.username, password=body.password,
                      role=body.role, actor=principal.username, ip=client_ip(request))
    return _out(get_user(rt.db, tenant=principal.tenant, user_id=uid))


def _own_user(rt: RuntimeDep, principal: AdminPrincipal, user_id: int) -> User:
    user = get_user(rt.db, tenant=principal.tenant, user_id=user_id)
    if user is None:
        raise NotFound("unknown user")
    return user


@router.patch("/users/{user_id}", response_model=UserOut, responses=CONFLICT)
def patch(user_id: UserId, body: UserPatch, principal: AdminPrincipal, rt: RuntimeDep,
          request: Request) -> UserOut:
    """Change role, active flag and/or password of one user of the caller's tenant (never
    leaving it without an active admin)."""
    user = _own_user(rt, principal, user_id)
    demoted = body.role is not None and body.role != "admin"
    if user.id == principal.user_id and (body.active is False or demoted):
        raise Conflict("un administrador no puede desactivarse ni quitarse el rol a sí mismo")
    if user.id == principal.user_id and body.password is not None:
        # The own password changes only with the current one (the account page): a stolen
        # token must not be enough to take the account over for good.
        raise Conflict("la contraseña propia se cambia en Cuenta → Contraseña, con la actual")
    ip = client_ip(request)
    # Role and active flag first: their refusal (the last admin) must leave the password as it was.
    updated = update_user(rt.db, tenant=principal.tenant, user_id=user.id, role=body.role,
                          active=body.active, actor=principal.username, ip=ip)
    if body.password is not None:
        set_password(rt.db, tenant=principal.tenant, username=user.username, password=body.password,
                     actor=principal.username, ip=ip)
    return _out(updated)


@router.post("/users/{user_id}/unlock", response_model=UserOut)
def unlock(user_id: UserId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> UserOut:
    """Lift a lockout now instead of waiting for its expiry."""
    user = _own_user(rt, principal, user_id)
    unlock_user(rt.db, tenant=principal.tenant, username=user.username, actor=principal.username,
                ip=client_ip(request))
    return _out(_own_user(rt, principal, user_id))


@router.delete("/users/{user_id}", status_code=204, responses=CONFLICT)
def remove(user_id: UserId, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete one user of the caller's tenant (not oneself)."""
    user = _own_user(rt, principal, user_id)
    if user.id == principal.user_id:
        raise Conflict("un administrador no puede borrarse a sí mismo")
    delete_user(rt.db, tenant=principal.tenant, user_id=user.id, actor=principal.username,
                ip=client_ip(request))
    return Response(status_code=204)
