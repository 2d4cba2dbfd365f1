"""One widget of a dashboard answer as table rows (its CSV export): the file always equals the card."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, NotFound
from widgets.shapes import Table, table_of


def widget_table(widgets: list[dict[str, Any]], widget_id: int) -> Table:
    """(header, rows) of the widget `widget_id` in a run's answer, by its shape's `rows()`.

    NotFound when the layout has no such (built) widget; Conflict when it has no data to export.
    """
    entry = next((w for w in widgets if w["id"] == widget_id), None)
    if entry is None or entry.get("shape") is None:
        raise NotFound(f"el tablero no tiene el widget {widget_id}")
    if entry.get("error"):
        raise Conflict(f"el widget no tiene datos para exportar: {entry['error']}")
    return table_of(entry["shape"], entry.get("data"))
