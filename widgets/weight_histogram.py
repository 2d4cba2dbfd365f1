"""Histogram of weights against the nominal: good units per band of grams above or below it.

The axis is the deviation from each unit's own product nominal (weight − nominal, g), so
products of different sizes share one chart and 0 is the nominal. Bin edges are multiples of a
round step, 0 is always an edge, and the outer 0.5 % on each side fold into the end bins, so a
bar is wholly under or wholly over the nominal. It needs every unit's weight (`raw_rows`), so
it is not in the default layout: a run that shows it reads every detection.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from widgets._chart import chart_json
from widgets.base import BaseWidget, widget_registry

WEIGHT_COLUMNS = frozenset({"weight_g", "nominal_weight_g", "is_reject"})


def weighed_good(data: pd.DataFrame) -> pd.DataFrame:
    """Good units with a weight and a nominal weight: the rows weight control is about."""
    keep = (~data["is_reject"].to_numpy(bool) & data["weight_g"].notna().to_numpy()
            & data["nominal_weight_g"].notna().to_numpy())
    return data[keep]

TARGET_BINS = 20


def round_step(span: float) -> float:
    """A 1-2-2.5-5 × 10^k step giving about TARGET_BINS bins over `span` grams."""
    raw = max(span / TARGET_BINS, 1e-3)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def bin_edges(deviation: np.ndarray) -> np.ndarray:
    """Edges k × step covering the central 99 % and keeping every value's side of 0."""
    low, high = np.quantile(deviation, [0.005, 0.995])
    step = round_step(float(high - low))
    lo = math.floor(low / step) * step
    hi = math.ceil(high / step) * step
    if (deviation < 0).any():
        lo = min(lo, -step)
    if (deviation >= 0).any():
        hi = max(hi, step)
    hi = max(hi, lo + step)
    return np.round(np.arange(lo, hi + step / 2, step), 6)


def _grams(value: float) -> str:
    return f"{value:+g}" if value else "0"


@widget_registry.register
class WeightHistogramWidget(BaseWidget):
    """Good weighed units per deviation band; the under/over split and mean giveaway in options."""

    source_type = "internal"
    required_columns = WEIGHT_COLUMNS
    raw_rows = True
    shape = "chart"
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Count the deviations per bin (outliers into the end bins)."""
        rows_in = weighed_good(data)
        if len(rows_in) == 0:
            return self.empty_result()
        deviation = rows_in["weight_g"].to_numpy("float64") - rows_in["nominal_weight_g"].to_numpy("float64")
        edges = bin_edges(deviation)
        clipped = np.clip(deviation, edges[0], edges[-1] - (edges[1] - edges[0]) / 2)
        counts, _ = np.histogram(clipped, bins=edges)
        labels = [f"{_grams(lo)} a {_grams(hi)} g" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        under = int((deviation < 0).sum())
        return chart_json("bar", labels, [{"label": "Unidades", "data": [int(c) for c in counts]}],
                          edges=[float(e) for e in edges], under_nominal=under, units=int(len(deviation)),
                          under_pct=100.0 * under / len(deviation))
