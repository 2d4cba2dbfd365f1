"""KPI cards over the master frame: units produced, kilograms, reject rate."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from widgets.base import BaseWidget, widget_registry

Metric = Literal["units", "kg", "reject_rate"]

# metric → (columns read, unit shown, decimals shown)
METRICS: dict[str, tuple[frozenset[str], str, int]] = {
    "units": (frozenset({"is_reject"}), "u", 0),
    "kg": (frozenset({"weight_g"}), "kg", 1),
    "reject_rate": (frozenset({"is_reject"}), "%", 2),
}


class KpiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric = "units"


@widget_registry.register
class KpiWidget(BaseWidget):
    """One number with its unit; `config.metric` picks units, kg or reject rate (%)."""

    source_type = "internal"
    shape = "kpi"
    config_model = KpiConfig
    default_size = (4, 1)

    @property
    def required_columns(self) -> frozenset[str]:  # type: ignore[override]
        return METRICS[self.config.metric][0]

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Count, sum or rate over every row of the scoped frame."""
        if len(data) == 0:
            return self.empty_result()
        metric = self.config.metric
        _cols, unit, decimals = METRICS[metric]
        if metric == "units":
            value: float = int(len(data))
        elif metric == "kg":
            grams = data["weight_g"].to_numpy(dtype=np.float64, na_value=np.nan)
            value = float(np.nansum(grams)) / 1000.0  # float64: float32 drifts ~0.005 kg per 100k rows
        else:
            value = float(data["is_reject"].mean()) * 100.0
        return {"value": value, "unit": unit, "decimals": decimals, "metric": metric,
                "rows": int(len(data))}
