"""Heatmap of units by hour of day × weekday, over the selected range.

Rows are hours in production-day order (the first shift's hour first), columns are calendar
weekdays of each unit's timestamp; each cell also gets a shade level 0-9 (0: no units) that
the template turns into a CSS class, so no inline style is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from widgets._chart import units_of
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
    required_columns = frozenset({"hour_start"})
    measures = frozenset({"units"})
    shape = "heatmap"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Sum units per (hour, weekday) cell of each row's clock hour."""
        if len(data) == 0:
            return self.empty_result()
        hours = pd.DatetimeIndex(pd.to_datetime(data["hour_start"]))
        first_hour = int(self.context.day_start.total_seconds() // 3600) % 24
        row = (hours.hour.to_numpy() - first_hour) % 24
        cells = np.bincount(row * 7 + hours.day_of_week.to_numpy(), weights=units_of(data),
                            minlength=24 * 7).astype(np.int64).reshape(24, 7)
        labels = [f"{(first_hour + i) % 24:02d}:00" for i in range(24)]
        return {"corner": "Hora", "columns": WEEKDAYS, "rows": labels,
                "values": cells.astype(int).tolist(), "levels": shade(cells).astype(int).tolist(),
                "units": int(cells.sum())}
