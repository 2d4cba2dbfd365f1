"""Small pure helpers of the plant widgets: summing shift-report components, ratios, changes.

OEE-style ratios are always computed from summed components (planned, downtime, units, good,
ideal seconds) and divided last: a plant's OEE is not the mean of its lines' OEEs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from widgets.plant_data import PlantData


def ratio(num: float, den: float) -> float | None:
    """num / den, or None when the denominator is not positive."""
    return num / den if den > 0 else None


def change_pct(value: float | None, previous: float | None) -> float | None:
    """Relative change in % against the previous value (None when there is nothing to compare)."""
    if value is None or previous is None or previous == 0:
        return None
    return (value - previous) / abs(previous) * 100.0


def trend(change: float | None) -> str:
    """'up', 'down' or 'flat': the arrow a card draws."""
    if change is None or abs(change) < 1e-9:
        return "flat"
    return "up" if change > 0 else "down"


@dataclass
class Components:
    """Summed shift-report components of a group of rows (instances × lines)."""

    planned_s: float = 0.0
    downtime_s: float = 0.0
    stops: int = 0
    micro_stops: int = 0
    units: int = 0
    good: int = 0
    ideal_s: float = 0.0  # units × ideal cycle of their line
    good_ideal_s: float = 0.0  # good units × ideal cycle of their line

    def add(self, row: dict[str, Any], cycle_s: float) -> None:
        """Add one report row, whose line makes a unit every `cycle_s` seconds at best."""
        self.planned_s += row["planned_s"]
        self.downtime_s += row["downtime_s"]
        self.stops += row["stops"]
        self.micro_stops += row["micro_stops"]
        self.units += row["units"]
        self.good += row["good"]
        self.ideal_s += row["units"] * cycle_s
        self.good_ideal_s += row["good"] * cycle_s

    @property
    def run_s(self) -> float:
        return self.planned_s - self.downtime_s

    def ratios(self) -> dict[str, float | None]:
        """Availability, performance, quality and OEE of the summed components."""
        return {"availability": ratio(self.run_s, self.planned_s),
                "performance": ratio(self.ideal_s, self.run_s),
                "quality": ratio(self.good, self.units),
                "oee": ratio(self.good_ideal_s, self.planned_s)}


def summed(rows: Iterable[dict[str, Any]], plant: PlantData) -> Components:
    """The components of every given report row."""
    total = Components()
    for row in rows:
        total.add(row, plant.ideal_cycle_s(row["line"]))
    return total


def report_rows(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rows of a loaded report; none when the part was not loaded or nothing was recorded.

    A period with planned time but neither a detection nor a stop (before a line's first data,
    a range in the distant past) has no data: widgets show "Sin datos", not an OEE of 0.
    """
    rows = list(report["rows"]) if report else []
    return rows if any(recorded(r) for r in rows) else []


def recorded(row: dict[str, Any]) -> bool:
    """True when a report row saw a unit, a stop or a micro-stop."""
    return bool(row["units"] or row["stops"] or row["micro_stops"])


def hhmm(iso: str | None) -> str | None:
    """'2026-11-18T14:05:00' → '14:05' (plant time), None stays None."""
    return iso[11:16] if iso else None
