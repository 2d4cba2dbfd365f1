"""Admin API for the plant's products: list, add, edit (name, nominal weight, lines, active).

Products are never deleted here (detections carry their id): deactivate them instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app_fastapi.deps import AdminPrincipal, RowId, RuntimeDep
from app_fastapi.routes.admin_common import audited_change
from app_fastapi.routes.admin_plant_bodies import ProductBody
from app_fastapi.routes.admin_plant_common import (
    CONFLICT,
    editable,
    require_new_code,
    require_same_code,
    save_entry,
    stored,
)
from core import schema_tenant as t
from ingest.plant_rows import Row, codes, product_rows

router = APIRouter(prefix="/admin/plant/products", tags=["admin plant"])


@router.get("")
def list_products(principal: AdminPrincipal, rt: RuntimeDep) -> list[Row]:
    """Every product (inactive ones too), by code, with the codes of its lines."""
    with rt.db.tenant(principal.tenant) as conn:
        return product_rows(conn)


@router.post("", status_code=201, responses=CONFLICT)
def create_product(body: ProductBody, principal: AdminPrincipal, rt: RuntimeDep, request: Request) -> Row:
    """Add a product (409 when the code exists)."""
    with audited_change(rt, principal, request, "product") as (conn, change):
        require_new_code(conn, t.products, body.code, "un producto")
        save_entry(conn, "products", body)
        row = stored(product_rows, conn, codes(conn, t.products)[body.code], "producto")
        change.done("create", row["id"], after=editable(row))
    return row


@router.put("/{row_id}", responses=CONFLICT)
def update_product(row_id: RowId, body: ProductBody, principal: AdminPrincipal, rt: RuntimeDep,
                   request: Request) -> Row:
    """Replace a product's settings and lines (its code stays); `active: false` deactivates it."""
    with audited_change(rt, principal, request, "product") as (conn, change):
        before = stored(product_rows, conn, row_id, "producto")
        require_same_code(before, body.code)
        save_entry(conn, "products", body)
        row = stored(product_rows, conn, row_id, "producto")
        change.done("update", row_id, editable(before), editable(row))
    return row
