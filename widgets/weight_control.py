"""Weight control per product: mean weight, spread, units under the nominal, and the giveaway.

Giveaway is what a packaging plant gives away for free: the mean weight above the product's
nominal (mean − nominal, g per unit, negative when the product runs light) and its total over
the period, (Σ weight − n × nominal) in kg, so light units offset heavy ones (the grain's
`giveaway_sum_g`, the excess of the heavy units alone, is another quantity). "% bajo nominal" is
the share of weighed units lighter than the nominal (a unit exactly at it is not under). Only
good (not rejected) units with a weight of a known product count: rejects never reach a
customer. Everything comes from summable measures (n, Σw, Σw², the under-nominal count), so the
widget works at any grain and runs on the rollups, never forcing the run to read every detection.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from widgets.base import BaseWidget, widget_registry

COLUMNS = [
    {"key": "product", "label": "Producto", "decimals": None},
    {"key": "nominal_g", "label": "Nominal g", "decimals": 0},
    {"key": "weighed", "label": "Unidades pesadas", "decimals": 0},
    {"key": "mean_g", "label": "Peso medio g", "decimals": 1},
    {"key": "std_g", "label": "Desvío estándar g", "decimals": 2},
    {"key": "under_pct", "label": "% bajo nominal", "decimals": 2},
    {"key": "giveaway_g", "label": "Regalo medio g", "decimals": 2},
    {"key": "giveaway_kg", "label": "Regalo total kg", "decimals": 2},
]
WEIGHT_MEASURES = frozenset({"units", "weight_n", "weight_sum_g", "weight_sumsq_g2", "under_nominal_n"})


@widget_registry.register
class WeightControlWidget(BaseWidget):
    """One row per product with weighed good units, most weighed units first."""

    source_type = "internal"
    required_columns = frozenset({"product_name", "nominal_weight_g", "is_reject"})
    measures = WEIGHT_MEASURES
    shape = "table"
    default_size = (12, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Fold the good rows per product: n, Σw, Σw², under → mean, standard deviation, share
        under the nominal, giveaway."""
        if len(data):
            keep = (~data["is_reject"].to_numpy(dtype=bool) & (data["weight_n"].to_numpy(dtype=np.int64) > 0)
                    & data["product_name"].notna().to_numpy())
            data = data[keep]
        if len(data) == 0:
            return self.empty_result()
        index, names = pd.factorize(data["product_name"])
        n = len(names)

        def per_product(column: str) -> np.ndarray:
            return np.bincount(index, weights=data[column].to_numpy(np.float64), minlength=n)

        count, total = per_product("weight_n"), per_product("weight_sum_g")
        squares, under = per_product("weight_sumsq_g2"), per_product("under_nominal_n")
        nominal = dict(zip(data["product_name"].astype(str), data["nominal_weight_g"].astype(float),
                           strict=True))
        rows = []
        for i in sorted(range(n), key=lambda k: (-count[k], str(names[k]))):
            mean = total[i] / count[i]
            spread = math.sqrt(max(squares[i] / count[i] - mean * mean, 0.0))
            target = nominal[str(names[i])]
            rows.append([str(names[i]), target, int(count[i]), mean, spread, 100.0 * under[i] / count[i],
                         mean - target, (total[i] - count[i] * target) / 1000.0])
        return {"columns": COLUMNS, "rows": rows}
