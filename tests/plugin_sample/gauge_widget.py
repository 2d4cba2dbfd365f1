"""A widget shape the product does not ship: the share of good units as a gauge (plugin sample)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from widgets import widget_registry
from widgets.base import BaseWidget
from widgets.shapes import Table, shape


@shape("gauge")
def gauge_rows(data: dict[str, Any]) -> Table:
    """The gauge's table form: its one percentage."""
    return ["Unidades buenas %"], ([] if data.get("empty") else [[data["value"]]])


@widget_registry.register
class GoodShareGaugeWidget(BaseWidget):
    """Percentage of units that are not rejects."""

    source_type = "internal"
    required_columns = frozenset({"is_reject"})
    shape = "gauge"
    default_size = (4, 1)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        units = int(data["units"].sum()) if len(data) else 0
        if units == 0:
            return self.empty_result()
        good = int(data.loc[~data["is_reject"].astype(bool), "units"].sum())
        return {"value": round(100.0 * good / units, 2), "rows": units}
