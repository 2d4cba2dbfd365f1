"""Weight control per product: mean weight, spread, and the giveaway against the nominal.

Giveaway is what a packaging plant gives away for free: the mean weight above the product's
nominal (mean − nominal, g per unit, negative when the product runs light) and its total over
the period, (Σ weight − n × nominal) in kg. Only good (not rejected) units with a weight count:
rejects never reach a customer. Everything comes from summable measures (n, Σw, Σw²), so the
widget works at any grain and never forces the run to read every detection; the share of units
under the nominal needs each weight and lives in WeightHistogramWidget (`raw_rows`).
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
    {"key": "giveaway_g", "label": "Regalo medio g", "decimals": 2},
    {"key": "giveaway_kg", "label": "Regalo total kg", "decimals": 2},
]
WEIGHT_MEASURES = frozenset({"units", "weight_n", "weight_sum_g", "weight_sumsq_g2"})


@widget_registry.register
class WeightControlWidget(BaseWidget):
    """One row per product with weighed good units, most weighed units first."""

    source_type = "internal"
    required_columns = frozenset({"product_name", "nominal_weight_g", "is_reject"})
    measures = WEIGHT_MEASURES
    shape = "table"
    default_size = (12, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Fold the good rows per product: n, Σw, Σw² → mean, standard deviation, giveaway."""
        good = data[~data["is_reject"].to_numpy(dtype=bool)] if len(data) else data
        good = good[good["weight_n"].to_numpy(dtype=np.int64) > 0] if len(good) else good
        if len(good) == 0:
            return self.empty_result()
        index, names = pd.factorize(good["product_name"])
        n = len(names)
        count = np.bincount(index, weights=good["weight_n"].to_numpy(np.float64), minlength=n)
        total = np.bincount(index, weights=good["weight_sum_g"].to_numpy(np.float64), minlength=n)
        squares = np.bincount(index, weights=good["weight_sumsq_g2"].to_numpy(np.float64), minlength=n)
        nominal = dict(zip(good["product_name"].astype(str), good["nominal_weight_g"].astype(float),
                           strict=True))
        rows = []
        for i in sorted(range(n), key=lambda k: (-count[k], str(names[k]))):
            mean = total[i] / count[i]
            spread = math.sqrt(max(squares[i] / count[i] - mean * mean, 0.0))
            target = nominal[str(names[i])]
            rows.append([str(names[i]), target, int(count[i]), mean, spread, mean - target,
                         (total[i] - count[i] * target) / 1000.0])
        return {"columns": COLUMNS, "rows": rows}
