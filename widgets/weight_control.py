"""Weight control per product: % under nominal, average giveaway (g) and total giveaway (kg).

Giveaway is what a packaging plant gives away for free: the grams above the product's nominal
weight. Only good (not rejected) units with a weight count: rejects never reach a customer.
Per unit giveaway is max(weight − nominal, 0); the average is over the weighed good units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from widgets.base import BaseWidget, widget_registry

COLUMNS = [
    {"key": "product", "label": "Producto", "decimals": None},
    {"key": "nominal_g", "label": "Nominal g", "decimals": 0},
    {"key": "weighed", "label": "Unidades pesadas", "decimals": 0},
    {"key": "mean_g", "label": "Peso medio g", "decimals": 1},
    {"key": "under_pct", "label": "Bajo nominal %", "decimals": 2},
    {"key": "giveaway_g", "label": "Regalo medio g", "decimals": 2},
    {"key": "giveaway_kg", "label": "Regalo total kg", "decimals": 2},
]
WEIGHT_COLUMNS = frozenset({"product_name", "weight_g", "nominal_weight_g", "is_reject"})


def weighed_good(data: pd.DataFrame) -> pd.DataFrame:
    """Good units with a weight and a nominal weight: the rows weight control is about."""
    keep = (~data["is_reject"].to_numpy(bool) & data["weight_g"].notna().to_numpy()
            & data["nominal_weight_g"].notna().to_numpy())
    return data[keep]


@widget_registry.register
class WeightControlWidget(BaseWidget):
    """One row per product with weighed good units, most units first."""

    source_type = "internal"
    required_columns = WEIGHT_COLUMNS
    shape = "table"
    default_size = (12, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Per product: units, mean weight, share under nominal, giveaway mean (g) and total (kg)."""
        rows_in = weighed_good(data)
        if len(rows_in) == 0:
            return self.empty_result()
        weight = rows_in["weight_g"].to_numpy("float64")
        nominal = rows_in["nominal_weight_g"].to_numpy("float64")
        index, names = pd.factorize(rows_in["product_name"])
        n = len(names)
        units = np.bincount(index, minlength=n)
        total = np.bincount(index, weights=weight, minlength=n)
        under = np.bincount(index, weights=(weight < nominal).astype("float64"), minlength=n)
        giveaway = np.bincount(index, weights=np.maximum(weight - nominal, 0.0), minlength=n)
        nominal_of = np.bincount(index, weights=nominal, minlength=n) / units
        order = sorted(range(n), key=lambda i: (-units[i], str(names[i])))
        rows = [[str(names[i]), float(nominal_of[i]), int(units[i]), float(total[i]) / units[i],
                 100.0 * float(under[i]) / units[i], float(giveaway[i]) / units[i],
                 float(giveaway[i]) / 1000.0] for i in order]
        return {"columns": COLUMNS, "rows": rows}
