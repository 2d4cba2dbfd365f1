"""The `kpi` shape: one value with its unit, and the previous period when the card compares."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape


@shape("kpi")
def kpi_rows(data: dict[str, Any]) -> Table:
    """One row: value and unit, plus the previous period and the change when the card has them."""
    header = ["Valor", "Unidad"]
    compared = "previous" in data
    if compared:
        header += ["Periodo anterior", "Variación %"]
    if is_empty(data):
        return header, []
    row = [data.get("value"), data.get("unit", "")]
    if compared:
        row += [data.get("previous"), data.get("change_pct")]
    return header, [row]
