"""Heatmap of units by hour of day × weekday, over the selected range.

Rows are hours in production-day order (the first shift's hour first), columns are calendar
weekdays of each unit's timestamp; each cell also gets a shade level 0-9 (0: no units) that
the template turns into a CSS class, so no inline style is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from widgets.base import BaseWidget, widget_registry

WEEKDAYS = ["Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom"]
LEVELS = 9


def shade(values: np.ndarray) -> np.ndarray:
    """0 for an empty cell, else 1..LEVELS in proportion to the busiest cell."""
    top = values.max()
    if top <= 0:
        return np.zeros_like(values)
    return np.where(values > 0, 1 + np.minimum(LEVELS - 1, (values * (LEVELS - 1)) // top), 0)


@widget_registry.register
class HourHeatmapWidget(BaseWidget):
    """24 rows × 7 columns of unit counts."""

    source_type = "internal"
    required_columns = frozenset({"ts"})
    shape = "heatmap"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Count units per (hour, weekday) cell."""
        if len(data) == 0:
            return self.empty_result()
        ts = pd.DatetimeIndex(pd.to_datetime(data["ts"]))
        first_hour = int(self.context.day_start.total_seconds() // 3600) % 24
        row = (ts.hour.to_numpy() - first_hour) % 24
        cells = np.bincount(row * 7 + ts.weekday.to_numpy(), minlength=24 * 7).reshape(24, 7)
        hours = [(first_hour + i) % 24 for i in range(24)]
        return {"corner": "Hora", "columns": WEEKDAYS, "rows": [f"{h:02d}:00" for h in hours],
                "values": cells.astype(int).tolist(), "levels": shade(cells).astype(int).tolist(),
                "units": int(cells.sum())}
