"""KPI cards over the master frame: units produced, kilograms, reject rate."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from widgets.base import BaseWidget, widget_registry

Metric = Literal["units", "kg", "reject_rate"]

# metric → (dimensions, measures, unit shown, decimals shown)
METRICS: dict[str, tuple[frozenset[str], frozenset[str], str, int]] = {
    "units": (frozenset(), frozenset({"units"}), "u", 0),
    "kg": (frozenset(), frozenset({"units", "weight_sum_g"}), "kg", 1),
    "reject_rate": (frozenset({"is_reject"}), frozenset({"units"}), "%", 2),
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
    sample_configs = ({"metric": "units"}, {"metric": "kg"}, {"metric": "reject_rate"})
    default_size = (4, 1)

    @property
    def required_columns(self) -> frozenset[str]:  # type: ignore[override]
        return METRICS[self.config.metric][0]

    @property
    def measures(self) -> frozenset[str]:  # type: ignore[override]
        return METRICS[self.config.metric][1]

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Units, kilograms or the rejected share over every unit of the scoped frame."""
        units = int(data["units"].sum()) if len(data) else 0
        if units == 0:
            return self.empty_result()
        metric = self.config.metric
        _dims, _measures, unit, decimals = METRICS[metric]
        if metric == "units":
            value: float = units
        elif metric == "kg":
            # float64 sums: float32 drifts ~0.005 kg per 100k rows
            value = float(data["weight_sum_g"].to_numpy(dtype=np.float64).sum()) / 1000.0
        else:
            rejected = data["units"].to_numpy(dtype=np.int64)[data["is_reject"].to_numpy(dtype=bool)]
            value = 100.0 * float(rejected.sum()) / units
        return {"value": value, "unit": unit, "decimals": decimals, "metric": metric, "rows": units}
