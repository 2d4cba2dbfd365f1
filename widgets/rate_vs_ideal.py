"""Production rate vs. ideal per line: units per hour of run time against the line's ideal rate."""

from __future__ import annotations

from typing import Any

from widgets._chart import chart_json
from widgets._plant import Components, ratio, report_rows
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData


@widget_registry.register
class RateVsIdealWidget(BaseWidget):
    """Bars per line: real units/h while running and over planned time, and the ideal units/h."""

    source_type = "plant"
    plant_parts = frozenset({"report"})
    shape = "chart"
    default_size = (6, 2)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """Sum each line's instances; rates are units over summed hours (never a mean of rates)."""
        per_line: dict[str, Components] = {}
        for row in report_rows(data.report):
            per_line.setdefault(row["line"], Components()).add(row, data.ideal_cycle_s(row["line"]))
        lines = [code for code in data.lines if code in per_line and per_line[code].planned_s > 0]
        if not any(per_line[c].units for c in lines):
            return self.empty_result()
        if not lines:
            return self.empty_result()
        running = [_per_hour(per_line[c].units, per_line[c].run_s) for c in lines]
        planned = [_per_hour(per_line[c].units, per_line[c].planned_s) for c in lines]
        ideal = [float(data.lines[c]["ideal_rate_per_min"]) * 60.0 for c in lines]
        return chart_json("bar", [str(data.lines[c]["name"]) for c in lines], [
            {"label": "Real en marcha (u/h)", "data": running},
            {"label": "Real sobre tiempo planificado (u/h)", "data": planned},
            {"label": "Ideal (u/h)", "data": ideal},
        ], index_axis="x")


def _per_hour(units: int, seconds: float) -> float | None:
    return ratio(units * 3600.0, seconds)
