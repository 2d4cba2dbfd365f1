"""The `timeline` shape: a Gantt of periods per lane (a line's states over time)."""

from __future__ import annotations

from typing import Any

from widgets.shapes.base import Table, is_empty, shape

TIMELINE_HEADER = ["Línea", "Estado", "Inicio", "Fin", "Minutos"]


@shape("timeline")
def timeline_rows(data: dict[str, Any]) -> Table:
    """One row per period of the Gantt: line, state, start, end (ISO plant time), minutes."""
    if is_empty(data):
        return list(TIMELINE_HEADER), []
    names = {lane["key"]: lane["name"] for lane in data.get("lanes", [])}
    kinds = {k["key"]: k["label"] for k in data.get("kinds", [])}
    rows = [[names.get(p["lane"], p["lane"]), kinds.get(p["kind"], p["kind"]), p["start"], p["end"],
             p["minutes"]] for p in data.get("periods", [])]
    return list(TIMELINE_HEADER), rows
