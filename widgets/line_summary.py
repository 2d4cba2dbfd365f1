"""Table: per line, units, kilograms and reject rate over the selected range."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from widgets._chart import line_keys, units_of
from widgets.base import BaseWidget, widget_registry

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
    required_columns = frozenset({"line_code", "line_name", "is_reject"})
    measures = frozenset({"units", "weight_sum_g"})
    shape = "table"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Aggregate per line: units, weight sum (kg), share of rejected units."""
        if len(data) == 0:
            return self.empty_result()
        lines, names = line_keys(data)
        n = len(names)
        per_row = units_of(data)
        units = np.bincount(lines, weights=per_row, minlength=n).astype(np.int64)
        grams = np.bincount(lines, weights=data["weight_sum_g"].to_numpy(dtype="float64"), minlength=n)
        rejected = np.where(data["is_reject"].to_numpy(dtype=bool), per_row, 0)
        rejects = np.bincount(lines, weights=rejected, minlength=n)
        rows = [
            [name, int(units[i]), float(grams[i]) / 1000.0, 100.0 * float(rejects[i]) / int(units[i])]
            for i, name in enumerate(names)
        ]
        return {"columns": COLUMNS, "rows": rows}
