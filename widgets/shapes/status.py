"""The `status` shape: the live board, one tile per line."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape

STATUS_HEADER = ["Línea", "Estado", "Última detección", "Turno", "Unidades del turno", "Objetivo"]


@shape("status")
def status_rows(data: dict[str, Any]) -> Table:
    """One row per line of the live status board."""
    if is_empty(data):
        return list(STATUS_HEADER), []
    rows = [[s["name"], s["label"], s["last_detection"], s["shift"], s["units_shift"], s["target"]]
            for s in data.get("lines", [])]
    return list(STATUS_HEADER), rows
