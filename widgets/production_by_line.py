"""Bar chart: units produced per line over the whole selected range."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from widgets._chart import chart_json, dataset, drill, line_groups, units_of
from widgets.base import BaseWidget, widget_registry


@widget_registry.register
class ProductionByLineWidget(BaseWidget):
    """Units per line, lines in code order, lines without rows left out."""

    source_type = "internal"
    required_columns = frozenset({"line_code", "line_name"})
    shape = "chart"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Sum the units per line; one dataset of unit counts."""
        if len(data) == 0:
            return self.empty_result()
        lines, names, codes = line_groups(data)
        counts = np.bincount(lines, weights=units_of(data), minlength=len(names)).astype(np.int64)
        body = chart_json("bar", names, [dataset("Unidades", counts.tolist())], index_axis="x")
        body["drill"] = drill("line", codes)  # a click on a bar keeps only that line
        return body
