"""Shift comparison: units, target, OEE and reject % per shift instance, best and worst marked."""

from __future__ import annotations

from typing import Any

from widgets._plant import Components, ratio, report_rows
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData

COLUMNS = [
    {"key": "production_date", "label": "Fecha", "decimals": None},
    {"key": "shift", "label": "Turno", "decimals": None},
    {"key": "units", "label": "Unidades", "decimals": 0},
    {"key": "target", "label": "Objetivo", "decimals": 0},
    {"key": "oee", "label": "OEE %", "decimals": 1},
    {"key": "reject_pct", "label": "Rechazo %", "decimals": 2},
    {"key": "mark", "label": "", "decimals": None},
]
MARKS = {"best": "Mejor", "worst": "Peor"}


def units_target(plant: PlantData, lines: list[str], shift: str) -> int | None:
    """The instance's target: the sum of its lines' shift targets (None if a line has none)."""
    total = 0
    for line in lines:
        target = plant.target_for(line, shift)
        if target is None or target.get("units_per_shift") is None:
            return None
        total += int(target["units_per_shift"])
    return total


@widget_registry.register
class ShiftComparisonWidget(BaseWidget):
    """One row per production date × shift (the selected lines summed), in time order."""

    source_type = "plant"
    plant_parts = frozenset({"report"})
    shape = "table"
    default_size = (6, 2)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """Sum the lines of each instance, then mark the highest and lowest OEE."""
        groups: dict[tuple[str, str], tuple[str, Components, list[str]]] = {}
        for row in report_rows(data.report):
            key = (row["production_date"], row["shift"])
            name, comps, lines = groups.setdefault(key, (row["shift_name"], Components(), []))
            comps.add(row, data.ideal_cycle_s(row["line"]))
            lines.append(row["line"])
        if not groups:
            return self.empty_result()
        rows, oees, drills = [], [], []
        for (day, shift), (name, comps, lines) in groups.items():
            drills.append({"day": day, "shift": shift})  # a click on a row shows that instance
            oee = comps.ratios()["oee"]
            reject = ratio(comps.units - comps.good, comps.units)
            rows.append([day, name, comps.units, units_target(data, lines, shift),
                         oee * 100.0 if oee is not None else None,
                         reject * 100.0 if reject is not None else None, ""])
            oees.append(oee)
        marks: list[str | None] = [None] * len(rows)
        known = [i for i, v in enumerate(oees) if v is not None]
        if len(known) >= 2:
            best = max(known, key=lambda i: oees[i])
            worst = min(known, key=lambda i: oees[i])
            if oees[best] != oees[worst]:
                marks[best], marks[worst] = "best", "worst"
        for row, mark in zip(rows, marks, strict=True):
            row[-1] = MARKS.get(mark or "", "")
        return {"columns": COLUMNS, "rows": rows, "row_marks": marks, "drill": drills}
