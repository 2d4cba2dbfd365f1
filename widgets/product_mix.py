"""Doughnut chart: share of units per product, the top N and the rest as "Otros"."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from widgets._chart import chart_json, dataset, units_by
from widgets.base import BaseWidget, widget_registry

OTHERS_LABEL = "Otros"


class ProductMixConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_n: int = Field(default=6, ge=1, le=20)
    chart: Literal["doughnut", "bar"] = "doughnut"


@widget_registry.register
class ProductMixWidget(BaseWidget):
    """Units per product, largest first; products beyond `top_n` are summed into "Otros"."""

    source_type = "internal"
    required_columns = frozenset({"product_name"})
    shape = "chart"
    config_model = ProductMixConfig
    sample_configs = ({}, {"top_n": 2}, {"top_n": 2, "chart": "bar"})
    default_size = (6, 2)

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Units per product, keep the largest `top_n` (ties by name), fold the tail."""
        if len(data) == 0:
            return self.empty_result()
        counts = units_by(data, "product_name")
        counts.index = counts.index.astype(str)
        counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        top = counts.iloc[: self.config.top_n]
        rest = int(counts.iloc[self.config.top_n:].sum())
        labels = list(top.index)
        values = [int(v) for v in top.tolist()]
        if rest:
            labels.append(OTHERS_LABEL)
            values.append(rest)
        return chart_json(self.config.chart, labels, [dataset("Unidades", values)])
