"""Table: per line, units, kilograms and reject rate over the selected range."""

from __future__ import annotations

from typing import Any

import pandas as pd

from widgets import widget_registry
from widgets.base import BaseWidget

COLUMNS = [
    {"key": "line", "label": "Línea", "decimals": None},
    {"key": "units", "label": "Unidades", "decimals": 0},
    {"key": "kg", "label": "Kg", "decimals": 1},
    {"key": "reject_rate", "label": "Rechazo %", "decimals": 2},
]


@widget_registry.register
class LineSummaryWidget(BaseWidget):
    """One row per line with data, in line-code order."""

    source_type = "internal"
    required_columns = frozenset({"line_code", "line_name", "weight_g", "status"})
    shape = "table"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Aggregate per line: count, weight sum (kg), share of status 1."""
        if len(data) == 0:
            return self.empty_result()
        frame = pd.DataFrame({
            "code": data["line_code"].to_numpy(),
            "name": data["line_name"].to_numpy(),
            "weight": data["weight_g"].astype("float64").to_numpy(),
            "reject": (data["status"] == 1).to_numpy(),
        })
        grouped = frame.groupby(["code", "name"], sort=True, observed=True).agg(
            units=("reject", "size"), weight=("weight", "sum"), rejects=("reject", "sum"),
        )
        rows = [
            [name, int(r.units), float(r.weight) / 1000.0, 100.0 * float(r.rejects) / int(r.units)]
            for (_code, name), r in grouped.iterrows()
        ]
        return {"columns": COLUMNS, "rows": rows}
