"""Saved views: a user's named filter values, personal or shared, and their start view.

GET    /views               the views the caller can open (own + shared) and their start view
POST   /views               save the given raw filter values under a name (validated first)
GET    /views/{id}          one view, re-validated against today's filters: `valid` false and
                            `problems` when it no longer validates (the page opens the
                            dashboard with the defaults and says why, never a 500)
DELETE /views/{id}          remove: its owner, or an admin for a shared view
PUT    /views/{id}/start    open this view at `/`;  DELETE /views/start: back to the dashboard

Any signed-in user may save personal views; sharing with the whole tenant needs the admin role
(viewers would otherwise put names in everybody's menu). Every change is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StrictBool, field_validator
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import audited_change, parse_config
from app_fastapi.api_times import UtcTime
from app_fastapi.deps import CurrentPrincipal, JsonRowId, RowId, RuntimeDep
from core import schema_tenant as t
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from engine.saved_views import checked_view_values
from identity.engine_tokens import Principal

router = APIRouter(prefix="/views", tags=["views"])
MAX_VIEWS_PER_USER = 100
views, starts = t.saved_views, t.saved_view_starts


class ViewIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    filters: dict[str, Any] = Field(default_factory=dict, description="raw values, as for /dashboard/run")
    layout_id: JsonRowId | None = Field(default=None, description="null: the default dashboard")
    shared: StrictBool = Field(default=False, description="visible to every user of the tenant (admins only)")

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("el nombre no puede estar vacío")
        return value


class ViewOut(BaseModel):
    id: int
    name: str
    shared: bool
    mine: bool
    layout_id: int | None
    filters: dict[str, Any]
    created_at: UtcTime


class ViewOpened(ViewOut):
    valid: bool = Field(description="false: the filters or dashboard no longer validate")
    problems: list[dict[str, Any]] = Field(default_factory=list, description="{field, message} per problem")


class ViewList(BaseModel):
    views: list[ViewOut]
    start_id: int | None


def _visible(principal: Principal) -> Any:  # noqa: ANN401 - a SQL condition
    return or_(views.c.owner_id == principal.user_id, views.c.shared.is_(True))


def _out(row: Any, principal: Principal) -> ViewOut:  # noqa: ANN401 - a Row
    filters = parse_config(row.filters)
    return ViewOut(id=row.id, name=row.name, shared=bool(row.shared), mine=row.owner_id == principal.user_id,
                   layout_id=row.layout_id, filters=filters if isinstance(filters, dict) else {},
                   created_at=row.created_at)


def _read(conn: Connection, principal: Principal, view_id: int) -> Any:  # noqa: ANN401
    row = conn.execute(select(views).where(views.c.id == view_id, _visible(principal))).first()
    if row is None:
        raise NotFound(f"la vista {view_id} no existe")
    return row


@router.get("", response_model=ViewList)
def list_views(principal: CurrentPrincipal, rt: RuntimeDep) -> ViewList:
    """The caller's own views and the shared ones, by name; and the caller's start view."""
    with rt.db.tenant(principal.tenant) as conn:
        rows = conn.execute(select(views).where(_visible(principal)).order_by(views.c.name, views.c.id)).all()
        start = conn.execute(select(starts.c.view_id).where(starts.c.user_id == principal.user_id)).scalar()
    return ViewList(views=[_out(r, principal) for r in rows], start_id=start)


@router.post("", response_model=ViewOut, status_code=201,
             responses={403: {"description": "sharing needs the admin role"},
                        409: {"description": "the caller already has a view with that name, or too many"}})
def create(body: ViewIn, principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> ViewOut:
    """Save the filter values under a name (422 with per-field messages when they are invalid)."""
    if body.shared and not principal.is_admin:
        raise Forbidden("sólo un administrador puede compartir vistas con toda la empresa")
    with audited_change(rt, principal, request, "saved_view") as (conn, change):
        kept = checked_view_values(rt, conn, principal.tenant, body.filters, body.layout_id)
        mine = conn.execute(select(views.c.name).where(views.c.owner_id == principal.user_id)).scalars().all()
        if body.name.casefold() in {n.casefold() for n in mine}:
            raise Conflict(f"ya tiene una vista llamada «{body.name}»",
                           details=[{"field": "name", "message": "nombre repetido"}])
        if len(mine) >= MAX_VIEWS_PER_USER:
            raise Conflict(f"máximo {MAX_VIEWS_PER_USER} vistas por usuario: borre alguna")
        values = {"owner_id": principal.user_id, "name": body.name, "shared": body.shared,
                  "layout_id": body.layout_id, "filters": kept,
                  "created_at": rt.clock.now_utc().replace(tzinfo=None, microsecond=0)}
        view_id = conn.execute(insert(views).values(**values)).inserted_primary_key[0]
        row = _read(conn, principal, view_id)
        change.done("create", view_id, after={k: v for k, v in values.items() if k != "created_at"})
    return _out(row, principal)


@router.get("/{view_id}", response_model=ViewOpened)
def open_view(view_id: RowId, principal: CurrentPrincipal, rt: RuntimeDep) -> ViewOpened:
    """One view and whether its filters and dashboard still validate."""
    with rt.db.tenant(principal.tenant) as conn:
        view = _out(_read(conn, principal, view_id), principal)
        try:
            checked_view_values(rt, conn, principal.tenant, view.filters, view.layout_id)
            problems: list[dict[str, Any]] = []
        except ValidationFailed as exc:
            details = exc.details if isinstance(exc.details, list) else []
            problems = ([d for d in details if isinstance(d, dict)]
                        or [{"field": "filters", "message": exc.message}])
    return ViewOpened(**view.model_dump(), valid=not problems, problems=problems)


@router.delete("/start", status_code=204)
def clear_start(principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """`/` opens the dashboard with its defaults again."""
    with audited_change(rt, principal, request, "start_view") as (conn, change):
        before = conn.execute(select(starts.c.view_id).where(starts.c.user_id == principal.user_id)).scalar()
        conn.execute(delete(starts).where(starts.c.user_id == principal.user_id))
        change.done("delete", before, before=before)
    return Response(status_code=204)


@router.delete("/{view_id}", status_code=204,
               responses={403: {"description": "a shared view of someone else (admins only)"}})
def remove(view_id: RowId, principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> Response:
    """Delete a view: its owner, or an admin when it is shared; start pages using it are cleared."""
    with audited_change(rt, principal, request, "saved_view") as (conn, change):
        row = _read(conn, principal, view_id)
        if row.owner_id != principal.user_id and not principal.is_admin:
            raise Forbidden("sólo su autor o un administrador pueden borrar esta vista")
        before = _out(row, principal).model_dump(mode="json", exclude={"mine"})
        conn.execute(delete(starts).where(starts.c.view_id == view_id))
        conn.execute(delete(views).where(views.c.id == view_id))
        change.done("delete", view_id, before=before)
    return Response(status_code=204)


@router.put("/{view_id}/start", response_model=ViewOut)
def set_start(view_id: RowId, principal: CurrentPrincipal, rt: RuntimeDep, request: Request) -> ViewOut:
    """Open this view whenever the caller opens `/`."""
    with audited_change(rt, principal, request, "start_view") as (conn, change):
        row = _read(conn, principal, view_id)
        before = conn.execute(select(starts.c.view_id).where(starts.c.user_id == principal.user_id)).scalar()
        conn.execute(delete(starts).where(starts.c.user_id == principal.user_id))
        conn.execute(insert(starts).values(user_id=principal.user_id, view_id=view_id))
        change.done("update", view_id, before=before, after=view_id)
    return _out(row, principal)

