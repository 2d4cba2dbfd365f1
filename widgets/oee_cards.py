"""KPI cards of OEE, availability, performance and quality, with the change vs. the period before."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from widgets._cards import kpi_card, now_and_before
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData

OeeMetric = Literal["oee", "availability", "performance", "quality"]


class OeeCardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: OeeMetric = "oee"


def planned_weighted_target(plant: PlantData, rows: list[dict[str, Any]]) -> float | None:
    """The OEE target of the selection: each line's target weighted by its planned time.

    None unless every line with planned time has an OEE target.
    """
    planned: dict[str, float] = {}
    for row in rows:
        planned[row["line"]] = planned.get(row["line"], 0.0) + row["planned_s"]
    weighted = total = 0.0
    for line, seconds in planned.items():
        if seconds <= 0:
            continue
        target = plant.target_for(line)
        if target is None or target.get("oee") is None:
            return None
        weighted += seconds * target["oee"]
        total += seconds
    return weighted / total if total > 0 else None


@widget_registry.register
class OeeCardWidget(BaseWidget):
    """One ratio of the filtered shift instances, in %, components summed before dividing."""

    source_type = "plant"
    plant_parts = frozenset({"report", "previous"})
    shape = "kpi"
    config_model = OeeCardConfig
    sample_configs = tuple({"metric": m} for m in get_args(OeeMetric))
    default_size = (3, 1)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """The metric now and over the previous equal period; the change in % of the previous."""
        figures = now_and_before(data, lambda c: c.ratios()[self.config.metric])
        if figures is None or figures[1] is None:
            return self.empty_result()
        rows, value, previous = figures
        out = kpi_card(self.config.metric, value, previous, unit="%", decimals=1, higher_is_better=True,
                       scale=100.0)
        if self.config.metric == "oee":
            target = planned_weighted_target(data, rows)
            out["target"] = target * 100.0 if target is not None else None
        return out
