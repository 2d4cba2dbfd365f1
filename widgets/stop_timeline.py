"""Run/stop timeline per line: a Gantt of running, micro-stop and stop periods, breaks shaded.

Running periods are the planned periods (shift windows minus breaks, up to now) minus the stop
and micro-stop periods of `stops`; the unplanned part of each shift window (breaks, closed days)
is drawn as "no planificado". The front end draws Chart.js floating bars on a time axis, so
the same JSON reads for one shift or a whole week.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from widgets._plant import recorded, report_rows
from widgets.base import BaseWidget, widget_registry
from widgets.plant_data import PlantData

MAX_PERIODS = 8000
KINDS = [{"key": "run", "label": "Produciendo"}, {"key": "micro", "label": "Micro-parada"},
         {"key": "stop", "label": "Parada"}, {"key": "break", "label": "No planificado"}]
Interval = tuple[datetime, datetime]


def subtract(base: list[Interval], holes: list[Interval]) -> list[Interval]:
    """The parts of `base` (sorted, disjoint) not covered by any of `holes` (sorted by start)."""
    out: list[Interval] = []
    for start, end in base:
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                out.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            out.append((cursor, end))
    return out


def _clip(intervals: list[Interval], now: datetime) -> list[Interval]:
    return [(s, min(e, now)) for s, e in intervals if s < now]


def _period(lane: str, kind: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"lane": lane, "kind": kind, "start": start.isoformat(), "end": end.isoformat(),
            "minutes": (end - start).total_seconds() / 60.0}


def lane_periods(lane: str, instances: list[dict[str, Any]], stops: list[dict[str, Any]],
                 now: datetime) -> list[dict[str, Any]]:
    """Every period of one line: not planned, stopped, micro-stopped, running."""
    parse = datetime.fromisoformat
    holes = sorted((parse(s["start"]), parse(s["end"])) for s in stops)
    periods = [_period(lane, s["kind"], parse(s["start"]), parse(s["end"])) for s in stops]
    for inst in instances:
        planned = _clip([(parse(a), parse(b)) for a, b in inst["planned"]], now)
        window = _clip([(parse(inst["start"]), parse(inst["end"]))], now)
        periods += [_period(lane, "break", s, e) for s, e in subtract(window, planned)]
        periods += [_period(lane, "run", s, e) for s, e in subtract(planned, holes)]
    return sorted(periods, key=lambda p: p["start"])


@widget_registry.register
class StopTimelineWidget(BaseWidget):
    """One lane per selected line over the selected shift instances."""

    source_type = "plant"
    plant_parts = frozenset({"stops", "calendar", "report"})
    shape = "timeline"
    default_size = (12, 2)

    def process_data(self, data: PlantData) -> dict[str, Any]:
        """Periods of every lane, oldest first; capped at MAX_PERIODS (flagged as truncated).

        Only shift instances that recorded a unit or a stop are drawn: without any record the
        running periods would be a guess.
        """
        rows = report_rows(data.report)
        seen = {(r["line"], r["production_date"], r["shift"]) for r in rows if recorded(r)}
        calendar = [i for i in data.calendar or [] if (i["line"], i["production_date"], i["shift"]) in seen]
        if not calendar:
            return self.empty_result()
        lanes: dict[str, str] = {}
        for inst in calendar:
            lanes.setdefault(inst["line"], inst["line_name"])
        periods: list[dict[str, Any]] = []
        for code in lanes:
            periods += lane_periods(code, [i for i in calendar if i["line"] == code],
                                    [s for s in data.stops or [] if s["line"] == code], data.now)
        if not periods:
            return self.empty_result()
        periods.sort(key=lambda p: p["start"])
        truncated = len(periods) > MAX_PERIODS
        return {
            "lanes": [{"key": k, "name": v} for k, v in lanes.items()], "kinds": KINDS,
            "periods": periods[:MAX_PERIODS], "truncated": truncated,
            "start": min(p["start"] for p in periods), "end": max(p["end"] for p in periods),
        }
