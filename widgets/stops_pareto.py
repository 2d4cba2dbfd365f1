"""Pareto of minutes stopped: by line, by duration band or by reason, with the cumulative % line."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from widgets._chart import chart_json
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData

ParetoBy = Literal["line", "band", "reason"]
# (lower bound in minutes, label): a stop falls in the last band whose bound it reaches
BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "< 5 min"), (5.0, "5–15 min"), (15.0, "15–30 min"), (30.0, "30–60 min"), (60.0, "> 60 min"),
)


class ParetoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: ParetoBy = "line"


def duration_min(stop: dict[str, Any]) -> float:
    """Length of the stop piece (its part inside one shift instance), in minutes."""
    length = datetime.fromisoformat(stop["end"]) - datetime.fromisoformat(stop["start"])
    return length.total_seconds() / 60.0


def band_of(minutes: float) -> str:
    """The duration band label of a stop of `minutes`."""
    label = BANDS[0][1]
    for bound, name in BANDS:
        if minutes >= bound:
            label = name
    return label


def minutes_by(data: PlantData, by: str) -> dict[str, float]:
    """Downtime minutes per group; micro-stops carry no downtime and are left out."""
    minutes: dict[str, float] = {}
    if by == "reason":
        for entry in data.reasons or []:
            minutes[entry["name"]] = minutes.get(entry["name"], 0.0) + float(entry["minutes"])
        return minutes
    for stop in data.stops or []:
        if stop["kind"] != "stop":
            continue
        key = str(stop["line_name"]) if by == "line" else band_of(duration_min(stop))
        minutes[key] = minutes.get(key, 0.0) + float(stop["downtime_s"]) / 60.0
    return minutes


@widget_registry.register
class StopsParetoWidget(BaseWidget):
    """Minutes of planned time lost to stops (micro-stops cost no downtime), largest first."""

    source_type = "plant"
    shape = "chart"
    config_model = ParetoConfig
    sample_configs = tuple({"by": b} for b in get_args(ParetoBy))
    default_size = (6, 2)

    @property
    def plant_parts(self) -> frozenset[str]:  # type: ignore[override]
        """Reasons come summed per reason (split stops shared out); lines and bands from the stops."""
        return frozenset({"reasons"}) if self.config.by == "reason" else frozenset({"stops"})

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """Sum downtime per group, sort descending, add the cumulative share of the total."""
        minutes = minutes_by(data, self.config.by)
        total = sum(minutes.values())
        if total <= 0:
            return self.empty_result()
        ordered = sorted(minutes.items(), key=lambda kv: (-kv[1], kv[0]))
        running, cumulative = 0.0, []
        for _label, value in ordered:
            running += value
            cumulative.append(100.0 * running / total)
        return chart_json("bar", [k for k, _ in ordered], [
            {"label": "Minutos de parada", "data": [v for _, v in ordered]},
            {"label": "% acumulado", "data": cumulative, "type": "line", "yAxisID": "pct"},
        ], by=self.config.by, total_min=total)
