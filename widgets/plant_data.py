"""What a "plant" widget receives: plain stops / shift-report / status data, never a connection.

The orchestrator loads the parts that the layout's plant widgets declare (`plant_parts`) once
per run and hands every such widget the same PlantData. Widgets stay pure: they only read it.

Parts:
- "report": the shift report of the selection (`query.shift_report.shift_report`: rows per
  production date × shift × line, components and ratios, plus component-wise totals);
- "previous": the same report over the previous period of equal length (for "vs. anterior");
- "stops": the stop and micro-stop rows of the selection (`search_stops`);
- "calendar": the selected shift instances per line, with their planned periods;
- "status": the live status of each selected line now (`query.line_status`);
- "reasons": downtime minutes per stop reason over the selection (`stops.reasons`: name,
  minutes, stops; unlabelled downtime under "Sin motivo");
`targets` (the tenant's production targets: units per shift and OEE per line, optionally per
shift/product) and `lines` (the selected lines' names and ideal rates) always come along: they are
metadata, no query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PLANT_PARTS: frozenset[str] = frozenset({"report", "previous", "stops", "calendar", "status", "reasons"})


@dataclass(frozen=True)
class PlantData:
    """The parts one run loaded; a part nobody asked for stays None."""

    start: datetime
    end: datetime
    now: datetime
    report: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    stops: list[dict[str, Any]] | None = None
    calendar: list[dict[str, Any]] | None = None
    status: list[dict[str, Any]] | None = None
    reasons: list[dict[str, Any]] | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # code → name, ideal_rate_per_min

    def ideal_cycle_s(self, line: str) -> float:
        """Seconds per unit at the line's ideal rate (the OEE performance reference)."""
        return 60.0 / float(self.lines[line]["ideal_rate_per_min"])

    def target_for(self, line: str, shift: str | None = None) -> dict[str, Any] | None:
        """The most specific target of a line (its shift's when there is one, else the line's)."""
        best: dict[str, Any] | None = None
        for target in self.targets:
            if target["line"] != line or target.get("product"):
                continue
            if target.get("shift") == shift and shift is not None:
                return target
            if target.get("shift") is None:
                best = target
        return best
