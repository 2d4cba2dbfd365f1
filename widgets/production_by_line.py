"""Bar chart: units produced per line over the whole selected range."""

from __future__ import annotations

from typing import Any

import pandas as pd

from widgets import widget_registry
from widgets._chart import chart_json, dataset
from widgets.base import BaseWidget


@widget_registry.register
class ProductionByLineWidget(BaseWidget):
    """Units per line, lines in code order, lines without rows left out."""

    source_type = "internal"
    required_columns = frozenset({"line_code", "line_name"})
    shape = "chart"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Group the rows by line; one dataset of counts."""
        if len(data) == 0:
            return self.empty_result()
        counts = data.groupby(["line_code", "line_name"], observed=True).size().sort_index()
        labels = [str(name) for _code, name in counts.index]
        return chart_json("bar", labels, [dataset("Unidades", counts)], index_axis="x")


