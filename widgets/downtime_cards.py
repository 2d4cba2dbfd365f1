"""KPI cards of downtime: stops, minutes stopped, micro-stops, MTBF and MTTR, vs. the period before."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from widgets._cards import kpi_card, now_and_before
from widgets._plant import Components, ratio
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData

DowntimeMetric = Literal["stops", "downtime_min", "micro_stops", "mtbf_min", "mttr_min"]


class DowntimeCardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: DowntimeMetric = "stops"


def _mtbf(c: Components) -> float | None:
    """Mean run time between stops (min): run time / number of stops."""
    value = ratio(c.run_s, c.stops)
    return value / 60.0 if value is not None else None


def _mttr(c: Components) -> float | None:
    """Mean time to restart (min): minutes stopped / number of stops."""
    value = ratio(c.downtime_s, c.stops)
    return value / 60.0 if value is not None else None


# metric → (value of the summed components, unit, decimals, higher is better)
METRICS: dict[str, tuple[Any, str, int, bool]] = {
    "stops": (lambda c: c.stops, "paradas", 0, False),
    "downtime_min": (lambda c: c.downtime_s / 60.0, "min", 0, False),
    "micro_stops": (lambda c: c.micro_stops, "micro-paradas", 0, False),
    "mtbf_min": (_mtbf, "min", 1, True),
    "mttr_min": (_mttr, "min", 1, False),
}


@widget_registry.register
class DowntimeCardWidget(BaseWidget):
    """One downtime figure of the filtered shift instances (from `stops`, via the shift report)."""

    source_type = "plant"
    plant_parts = frozenset({"report", "previous"})
    shape = "kpi"
    config_model = DowntimeCardConfig
    sample_configs = tuple({"metric": m} for m in get_args(DowntimeMetric))
    default_size = (3, 1)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """The metric now and over the previous equal period (None: no stop to divide by)."""
        compute, unit, decimals, higher_is_better = METRICS[self.config.metric]
        figures = now_and_before(data, compute)
        if figures is None:
            return self.empty_result()
        _, value, previous = figures
        return kpi_card(self.config.metric, value, previous, unit=unit, decimals=decimals,
                        higher_is_better=higher_is_better)
