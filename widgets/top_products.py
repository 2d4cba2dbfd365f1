"""Table: the top products by units, with kilograms and reject rate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from widgets._chart import units_of
from widgets.base import BaseWidget, widget_registry

COLUMNS = [
    {"key": "product", "label": "Producto", "decimals": None},
    {"key": "units", "label": "Unidades", "decimals": 0},
    {"key": "kg", "label": "Kg", "decimals": 1},
    {"key": "reject_rate", "label": "Rechazo %", "decimals": 2},
]


class TopProductsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_n: int = Field(default=10, ge=1, le=50)


@widget_registry.register
class TopProductsWidget(BaseWidget):
    """The `top_n` products with most units, largest first (ties by name)."""

    source_type = "internal"
    required_columns = frozenset({"product_name", "is_reject"})
    measures = frozenset({"units", "weight_sum_g"})
    shape = "table"
    config_model = TopProductsConfig
    sample_configs = ({}, {"top_n": 2})
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Units, weight sum (kg) and share of rejected units per product (summed over the grain);
        detections without a product are left out, as in the product mix."""
        if len(data):
            data = data[data["product_name"].notna().to_numpy()]
        if len(data) == 0:
            return self.empty_result()
        index, names = pd.factorize(data["product_name"])
        n = len(names)
        per_row = units_of(data)
        units = np.bincount(index, weights=per_row, minlength=n).astype(np.int64)
        grams = np.bincount(index, weights=data["weight_sum_g"].to_numpy("float64"), minlength=n)
        rejected = np.where(data["is_reject"].to_numpy(dtype=bool), per_row, 0)
        rejects = np.bincount(index, weights=rejected, minlength=n)
        order = sorted(range(n), key=lambda i: (-units[i], str(names[i])))[: self.config.top_n]
        rows = [[str(names[i]), int(units[i]), float(grams[i]) / 1000.0,
                 100.0 * float(rejects[i]) / int(units[i])] for i in order]
        return {"columns": COLUMNS, "rows": rows}
