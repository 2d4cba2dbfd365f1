"""One router shape for the plant entries identified by a code: list, add, edit.

Areas, lines, products, shifts and stop reasons share a life cycle (a YAML entry matched by
`code`, written by the loader's `apply_plant`, the code fixed once created); each brings what
differs as a `CodedKind`, and its own module adds what only it has (a delete, a table to
create). No `from __future__ import annotations` here: FastAPI reads the body type of the
inner functions from the kind, at definition time.
"""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from app_fastapi.admin.common import audited_change
from app_fastapi.admin.plant_common import (
    CONFLICT,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from core.runtime import Runtime
from identity.engine_tokens import Principal
from ingest.plant_rows import Row, codes

# (runtime, caller, the row just created) → nothing; runs after the audited change committed
AfterCreate = Callable[[Runtime, Principal, Row], None]


@dataclass(frozen=True)
class CodedKind:
    """What one kind of coded plant entry brings to the shared router."""

    path: str  # "lines" → /admin/plant/lines
    plant_key: str  # the PlantIn list it is written through ("lines")
    table: Table
    reader: Callable[[Connection, int | None], list[Row]]  # ingest/plant_rows
    body: type[BaseModel]  # the loader's model, strict (app_fastapi/admin/plant_bodies.py)
    noun: str  # Spanish, in "línea 7 no existe"
    a_noun: str  # Spanish, in "ya existe una línea con el código …"
    audit_what: str  # the audit log's detail.what


def coded_router(kind: CodedKind, after_create: AfterCreate | None = None) -> APIRouter:
    """GET (every row), POST (409 when the code exists), PUT /{id} (409 when the code changes)."""
    router = APIRouter(prefix=f"/admin/plant/{kind.path}", tags=["admin plant"])

    def list_rows(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
        """Every entry (inactive ones too), in the loader's shape with its id."""
        with rt.db.tenant(principal.tenant) as conn:
            return kind.reader(conn, None)

    def create(body: kind.body, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
        """Add an entry, validated like the YAML file (409 when its code exists)."""
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            require_new_code(conn, kind.table, body.code, kind.a_noun)
            save_entry(conn, kind.plant_key, body)
            row = stored(kind.reader, conn, codes(conn, kind.table)[body.code], kind.noun)
            change.done("create", row["id"], after=editable(row))
        if after_create is not None:
            after_create(rt, principal, row)
        return row

    def update(row_id: RowId, body: kind.body, principal: AdminPrincipal, rt: RuntimeDep,
               request: Request) -> Row:
        """Replace an entry (its code stays; `active: false` deactivates where there is one)."""
        with audited_change(rt, principal, request, kind.audit_what) as (conn, change):
            before = stored(kind.reader, conn, row_id, kind.noun)
            require_same_code(before, body.code)
            save_entry(conn, kind.plant_key, body)
            row = stored(kind.reader, conn, row_id, kind.noun)
            change.done("update", row_id, editable(before), editable(row))
        return row

    name = kind.path.replace("-", "_")
    router.add_api_route("", list_rows, methods=["GET"], name=f"list_{name}")
    router.add_api_route("", create, methods=["POST"], status_code=201, responses=CONFLICT,
                         name=f"create_{name}")
    router.add_api_route("/{row_id}", update, methods=["PUT"], responses=CONFLICT, name=f"update_{name}")
    return router
