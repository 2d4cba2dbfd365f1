"""The `table` shape: labelled columns and plain rows."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape


@shape("table")
def table_rows(data: dict[str, Any]) -> Table:
    """The table's own columns and rows."""
    header = [str(c["label"]) for c in data.get("columns", [])]
    return header, ([] if is_empty(data) else [list(r) for r in data.get("rows", [])])
