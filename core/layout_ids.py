"""Layout items reference `Widget_catalog` row ids; this converts the legacy sort_order form.

Before layouts used row ids, an item was `{"widget": S}` with S a row's `sort_order`, so
reordering the catalog moved cards between slots. The tenant migration and the installation of
the starting dashboard (whose defaults name rows by sort_order) both convert through here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Text, select, type_coerce, update
from sqlalchemy.engine import Connection

from core import schema_tenant as t


def sort_order_ids(conn: Connection) -> dict[int, int]:
    """sort_order → row id for the catalog's unambiguous sort orders (active rows win)."""
    rows = conn.execute(select(t.widget_catalog.c.id, t.widget_catalog.c.sort_order,
                               t.widget_catalog.c.active)).all()
    out: dict[int, int] = {}
    for active in (False, True):
        groups: dict[int, list[int]] = {}
        for r in rows:
            if bool(r.active) or not active:
                groups.setdefault(int(r.sort_order), []).append(int(r.id))
        out.update({order: ids[0] for order, ids in groups.items() if len(ids) == 1})
    return out


def to_row_ids(items: Any, order_to_id: Mapping[int, int]) -> list[dict[str, Any]]:  # noqa: ANN401 - JSON
    """Items in the row-id form; legacy items that name no single row are dropped."""
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if "widget_id" in item:
            out.append(dict(item))
            continue
        row_id = order_to_id.get(item.get("widget")) if isinstance(item.get("widget"), int) else None
        if row_id is not None:
            out.append({"widget_id": row_id, **{k: v for k, v in item.items() if k in ("w", "h")}})
    return out


def migrate_layouts(conn: Connection) -> int:
    """Rewrite every layout to row ids (idempotent); returns how many layouts changed."""
    order_to_id = sort_order_ids(conn)
    layouts = t.dashboard_layouts
    changed = 0
    for row in conn.execute(select(layouts.c.id, type_coerce(layouts.c["items"], Text).label("items"))).all():
        try:
            items = json.loads(row.items) if row.items else []
        except ValueError:
            items = []
        converted = to_row_ids(items, order_to_id)
        if converted != items:
            conn.execute(update(layouts).where(layouts.c.id == row.id).values(items=converted))
            changed += 1
    return changed
