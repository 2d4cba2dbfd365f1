"""The `heatmap` shape: a grid of values with row and column labels."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape


@shape("heatmap")
def heatmap_rows(data: dict[str, Any]) -> Table:
    """One row per row label, one column per column label."""
    if is_empty(data):
        return [""], []
    header = [str(data.get("corner", "")), *[str(c) for c in data.get("columns", [])]]
    pairs = zip(data.get("rows", []), data.get("values", []), strict=False)
    rows = [[label, *values] for label, values in pairs]
    return header, rows
