"""Line status now: running / micro-stopped / stopped since hh:mm / no data, and the shift's units.

The status itself comes from `query.line_status` (last detection against the line's
thresholds, "now" from the injected clock); this widget adds the configured target of the
current shift and the progress against it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from widgets._plant import ratio
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


@widget_registry.register
class LineStatusWidget(BaseWidget):
    """One row per selected active line, in line-code order."""

    source_type = "plant"
    plant_parts = frozenset({"status"})
    shape = "status"
    default_size = (6, 2)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """Status label, last detection, the current shift's units, target and progress.

        "Now" belongs to the dashboard only when the selected period contains it: looking at
        last month (or a future week) the card says "Sin datos" like every other card.
        """
        if not data.status or not data.start <= data.now < data.end:
            return self.empty_result()
        lines = []
        for entry in data.status:
            target = data.target_for(entry["code"], entry.get("shift_code"))
            units_target = target.get("units_per_shift") if target else None
            units = entry["units_shift"]
            progress = ratio(units, units_target) if units is not None and units_target else None
            lines.append({
                "code": entry["code"], "name": entry["name"], "status": entry["status"],
                "label": entry["label"], "since": _iso(entry["since"]),
                "last_detection": _iso(entry["last_detection"]), "shift": entry["shift"],
                "units_shift": units, "target": units_target, "ideal_so_far": entry["target"],
                "progress_pct": progress * 100.0 if progress is not None else None,
            })
        return {"now": data.now.isoformat(), "lines": lines}
