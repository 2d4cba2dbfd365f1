"""Stops and the per-shift OEE report, read from `stops` and the line tables for a selection.

A selection is a [start, end) range of plant-local time (the date filter's value), lines,
shifts and minutes of the day: it picks the shift instances that START inside the range and
have started by `now`, cut to the kept minutes of the day (query/plant_time.py). Planned time
is the kept planned time elapsed by `now`; downtime, stops and micro-stops come from `stops`
(written by the gap-analysis job); units and good units come from the rollups where complete
and from the detections elsewhere (query/instance_units.py). Ratios: availability = run /
planned, performance = units × ideal cycle / run (reported above 1 with a flag, never capped),
quality = good / units, OEE = good × ideal cycle / planned; `None` where a denominator is zero.
Totals sum the components first and divide after.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.metadata_cache import TenantMeta
from core.shift_calendar import ShiftInstance, shift_instances
from query.instance_units import units_by_instance
from query.plant_time import kept_pieces, kept_stop
from query.spec import DayMinutes

REPORT_COLUMNS = (
    "production_date", "shift", "shift_name", "line", "line_name", "planned_s", "downtime_s", "run_s",
    "stops", "micro_stops", "units", "good", "availability", "performance", "quality", "oee", "open",
)
MAX_STOPS = 10_000


@dataclass(frozen=True)
class Selection:
    """What the filters chose: a time range, lines, shifts (None: every shift) and the minutes
    of the day (None: all of them)."""

    start: datetime
    end: datetime
    line_ids: tuple[int, ...]
    shift_ids: frozenset[int] | None
    day_minutes: DayMinutes | None = None

    def pieces(self, inst: ShiftInstance) -> list[ShiftInstance]:
        """The parts of a selected instance this selection keeps."""
        return kept_pieces(inst, self.day_minutes)


def selected_instances(meta: TenantMeta, sel: Selection, line_id: int, now: datetime) -> list[ShiftInstance]:
    """The line's shift instances starting inside the range and already started."""
    first, last = sel.start.date() - timedelta(days=1), (sel.end - timedelta(microseconds=1)).date()
    return [
        i for i in shift_instances(meta, line_id, first, last)
        if sel.start <= i.start < sel.end and i.start <= now
        and (sel.shift_ids is None or i.shift_id in sel.shift_ids)
    ]


def planned_until(inst: ShiftInstance, now: datetime) -> float:
    """Planned seconds of an instance elapsed by `now`."""
    return sum(max(0.0, (min(e, now) - s).total_seconds()) for s, e in inst.planned)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def ratios(planned: float, downtime: float, units: int, good: int, ideal_s: float,
           good_ideal_s: float) -> dict[str, Any]:
    """Availability, performance (+ warning above 1), quality and OEE from summed components."""
    run = planned - downtime
    performance = _ratio(ideal_s, run)
    return {
        "availability": _ratio(run, planned), "performance": performance,
        "performance_above_1": performance is not None and performance > 1,
        "quality": _ratio(good, units), "oee": _ratio(good_ideal_s, planned),
    }


def _stop_sums(conn: Connection, line_ids: tuple[int, ...], first: date, last: date) -> dict[tuple, dict]:
    s = t.stops.c
    rows = conn.execute(
        select(s.line_id, s.production_date, s.shift_id,
               func.sum(case((s.kind == "stop", 1), else_=0)),
               func.sum(case((s.kind == "micro", 1), else_=0)),
               func.sum(s.downtime_s), func.max(case((s.is_open.is_(True), s.end_ts), else_=None)))
        .where(s.line_id.in_(line_ids), s.production_date >= first, s.production_date <= last)
        .group_by(s.line_id, s.production_date, s.shift_id)
    ).all()
    return {(r[0], r[1], r[2]): {"stops": int(r[3] or 0), "micro_stops": int(r[4] or 0),
                                 "downtime_s": float(r[5] or 0.0), "open": r[6] is not None,
                                 "open_until": _as_datetime(r[6])} for r in rows}


def _kept_stop_sums(conn: Connection, line_ids: tuple[int, ...], first: date, last: date,
                    pieces: dict[tuple, list[ShiftInstance]]) -> dict[tuple, dict]:
    """`_stop_sums` over the kept pieces of each (line, production date, shift) instance."""
    s = t.stops.c
    rows = conn.execute(
        select(s.line_id, s.production_date, s.shift_id, s.kind, s.start_ts, s.end_ts, s.downtime_s,
               s.is_open)
        .where(s.line_id.in_(line_ids), s.production_date >= first, s.production_date <= last)
    )
    out: dict[tuple, dict] = {}
    for r in rows:
        key = (r.line_id, r.production_date, r.shift_id)
        agg = out.setdefault(key, {"stops": 0, "micro_stops": 0, "downtime_s": 0.0, "open": False,
                                   "open_until": None})
        if r.is_open:
            agg["open"], agg["open_until"] = True, max(filter(None, (agg["open_until"], r.end_ts)))
        kept = kept_stop(r.kind, r.start_ts, r.end_ts, float(r.downtime_s), pieces.get(key, []))
        if kept is not None:
            agg["stops" if r.kind == "stop" else "micro_stops"] += 1
            agg["downtime_s"] += kept[0]
    return out


def _as_datetime(value: object) -> datetime | None:
    """MAX() over a DATETIME comes back as text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def shift_report(conn: Connection, meta: TenantMeta, sel: Selection, now: datetime) -> dict[str, Any]:
    """One row per production date × shift × line, plus component-wise totals."""
    first, last = sel.start.date() - timedelta(days=1), sel.end.date()
    chosen = {line_id: selected_instances(meta, sel, line_id, now) for line_id in sel.line_ids}
    pieces = {(line_id, i.production_date, i.shift_id): sel.pieces(i)
              for line_id, instances in chosen.items() for i in instances}
    if not sel.line_ids:
        sums: dict[tuple, dict] = {}
    elif sel.day_minutes is None:
        sums = _stop_sums(conn, sel.line_ids, first, last)
    else:
        sums = _kept_stop_sums(conn, sel.line_ids, first, last, pieces)
    rows: list[dict[str, Any]] = []
    total = {"planned_s": 0.0, "downtime_s": 0.0, "stops": 0, "micro_stops": 0, "units": 0, "good": 0}
    ideal_total = good_ideal_total = 0.0
    for line_id in sel.line_ids:
        line = meta.lines[line_id]
        instances = chosen[line_id]
        kept = {(i.production_date, i.shift_id): pieces[(line_id, i.production_date, i.shift_id)]
                for i in instances}
        counts = units_by_instance(conn, line_id, [p for parts in kept.values() for p in parts])
        for inst in instances:
            parts = kept[(inst.production_date, inst.shift_id)]
            planned = sum(planned_until(p, now) for p in parts)
            agg = sums.get((line_id, inst.production_date, inst.shift_id),
                           {"stops": 0, "micro_stops": 0, "downtime_s": 0.0, "open": False})
            units, good = counts.get((inst.production_date, inst.shift_id), (0, 0))
            if planned == 0 and units == 0 and agg["stops"] == 0:
                continue
            shift = meta.shifts[inst.shift_id]
            downtime = agg["downtime_s"]
            if agg["open"] and agg["open_until"] is not None:  # the open stop goes on until now
                downtime += sum(max(0.0, (min(e, now) - max(s, agg["open_until"])).total_seconds())
                                for p in parts for s, e in p.planned)
            downtime = min(downtime, planned)
            row = {
                "production_date": inst.production_date.isoformat(), "shift": shift.code,
                "shift_name": shift.name, "line": line.code, "line_name": line.name,
                "planned_s": planned, "downtime_s": downtime, "run_s": planned - downtime,
                "stops": agg["stops"], "micro_stops": agg["micro_stops"], "units": units, "good": good,
                **ratios(planned, downtime, units, good, units * line.ideal_cycle_s,
                         good * line.ideal_cycle_s),
                "open": agg["open"],
            }
            rows.append(row)
            for key in total:
                total[key] += row[key]
            ideal_total += units * line.ideal_cycle_s
            good_ideal_total += good * line.ideal_cycle_s
    rows.sort(key=lambda r: (r["production_date"], meta.shifts_by_code[r["shift"]].start, r["line"]))
    totals = {**total, "run_s": total["planned_s"] - total["downtime_s"],
              **ratios(total["planned_s"], total["downtime_s"], total["units"], total["good"],
                       ideal_total, good_ideal_total),
              "open": any(r["open"] for r in rows)}
    return {"rows": rows, "totals": totals}


class StopRow(NamedTuple):
    """One `stops` row of a selection; `downtime_s` counts only its kept part, which runs from
    `kept_start` to `kept_end` (the stored start and end without a time-of-day restriction)."""

    id: int
    line_id: int
    kind: str
    start_ts: datetime
    end_ts: datetime
    downtime_s: float
    production_date: date
    shift_id: int
    is_open: bool
    kept_start: datetime
    kept_end: datetime


def selected_stop_rows(conn: Connection, meta: TenantMeta, sel: Selection, now: datetime,
                       kinds: tuple[str, ...] = ("stop", "micro")) -> Iterator[StopRow]:
    """`stops` rows of the selected shift instances inside their kept pieces, oldest first."""
    wanted = {(line_id, i.production_date, i.shift_id): sel.pieces(i)
              for line_id in sel.line_ids for i in selected_instances(meta, sel, line_id, now)}
    if not wanted:
        return
    s = t.stops.c
    days = {key[1] for key in wanted}
    result = conn.execute(
        select(s.id, s.line_id, s.kind, s.start_ts, s.end_ts, s.downtime_s, s.production_date,
               s.shift_id, s.is_open)
        .where(s.line_id.in_(sel.line_ids), s.production_date >= min(days), s.production_date <= max(days),
               s.kind.in_(kinds))
        .order_by(s.start_ts, s.line_id)
    )
    for r in result:
        pieces = wanted.get((r.line_id, r.production_date, r.shift_id))
        if pieces is None:
            continue
        kept = (float(r.downtime_s), r.start_ts, r.end_ts) if sel.day_minutes is None else \
            kept_stop(r.kind, r.start_ts, r.end_ts, float(r.downtime_s), pieces)
        if kept is not None:
            yield StopRow(r.id, r.line_id, r.kind, r.start_ts, r.end_ts, kept[0], r.production_date,
                          r.shift_id, bool(r.is_open), kept[1], kept[2])


def search_stops(conn: Connection, meta: TenantMeta, sel: Selection, now: datetime) -> dict[str, Any]:
    """The stop and micro-stop rows of the selected shift instances, oldest first (a stop cut
    by a time-of-day restriction keeps its stored start and end, with its kept downtime)."""
    out: list[dict[str, Any]] = []
    truncated = False
    for r in selected_stop_rows(conn, meta, sel, now):
        if len(out) >= MAX_STOPS:
            truncated = True
            break
        line, shift = meta.lines[r.line_id], meta.shifts.get(r.shift_id)
        out.append({
            "id": r.id, "line": line.code, "line_name": line.name, "kind": r.kind,
            "start": r.start_ts.isoformat(), "end": r.end_ts.isoformat(),
            "downtime_s": r.downtime_s, "production_date": r.production_date.isoformat(),
            "shift": shift.code if shift else None, "open": bool(r.is_open),
        })
    return {"stops": out, "truncated": truncated}
