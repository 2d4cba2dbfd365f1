"""Install a tenant's starting dashboard: filter rows, widget catalog rows and a default layout.

A tenant created by `create-tenant` must show a working dashboard on its first login, so the
defaults are installed then (only into empty tables: running it again never overwrites what an
admin configured). `manage.py install-defaults --tenant T` restores them on demand. The rows
themselves are data owned by filters/ and widgets/; the caller passes them in. The default
layouts name catalog rows by `sort_order` (stable in the code); they are stored with the row
ids resolved at install time, because stored layouts reference row ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.layout_ids import sort_order_ids, to_row_ids


@dataclass(frozen=True)
class DashboardDefaults:
    """What a tenant starts with: `Filters` rows, `Widget_catalog` rows and one layout."""

    filter_rows: Sequence[Mapping[str, Any]]
    widget_rows: Sequence[Mapping[str, Any]]
    layout: Sequence[Mapping[str, Any]]
    layout_name: str = "Producción"


def _count(conn: Connection, table: Any) -> int:  # noqa: ANN401 - a SQLAlchemy Table
    return conn.execute(select(func.count()).select_from(table)).scalar() or 0


def install_defaults(
    conn: Connection, defaults: DashboardDefaults, *, replace: bool = False
) -> dict[str, int]:
    """Write the defaults; without `replace` each kind is written only where the tenant has none.

    Returns how many rows of each kind were written (0 where existing rows were kept).
    """
    written = {"filters": 0, "widgets": 0, "layouts": 0}
    if replace:
        conn.execute(delete(t.filters_table))
        conn.execute(delete(t.dashboard_layouts))
        conn.execute(delete(t.widget_catalog))
    if _count(conn, t.filters_table) == 0 and defaults.filter_rows:
        conn.execute(insert(t.filters_table), [dict(r, active=True) for r in defaults.filter_rows])
        written["filters"] = len(defaults.filter_rows)
    if _count(conn, t.widget_catalog) == 0 and defaults.widget_rows:
        conn.execute(insert(t.widget_catalog), [dict(r, active=True) for r in defaults.widget_rows])
        written["widgets"] = len(defaults.widget_rows)
    if _count(conn, t.dashboard_layouts) == 0:
        items = to_row_ids([dict(i) for i in defaults.layout], sort_order_ids(conn))
        conn.execute(insert(t.dashboard_layouts).values(
            name=defaults.layout_name, is_default=True, items=items))
        written["layouts"] = 1
    return written
