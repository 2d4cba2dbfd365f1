"""Line status now, from a light query per line: last detection, units this shift, recent rate.

Why a query and not the gap-analysis job: `MAX(ts)` over the (ts, seq) primary key and a count
over the current shift's range of that key are index-only and take milliseconds, so a stop shows
as soon as the next poll runs (seconds), whatever the job cadence, and without any derived table.
The thresholds come from the line (`micro_stop_s`, `stop_threshold_s`, `no_data_after_s`) and
"now" from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.clock import Clock, plant_now
from core.db_errors import unavailable_cause
from core.metadata_cache import Line, Shift, TenantMeta
from core.schema_tenant import STATUS_REJECT, detections_table

RATE_WINDOW_MIN = 5
LABELS = {
    "produciendo": "produciendo",
    "micro_parada": "micro-parada",
    "parada": "parada desde {since}",
    "sin_datos": "sin datos desde {since}",
    "descanso": "descanso",
    "fuera_de_turno": "fuera de turno",
}


@dataclass(frozen=True)
class ShiftWindow:
    """One shift instance in plant time, with its breaks as datetimes."""

    shift: Shift
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime], ...]

    def planned_minutes(self, until: datetime) -> float:
        """Minutes of the shift up to `until`, breaks excluded (the planned time so far)."""
        until = min(max(until, self.start), self.end)
        seconds = (until - self.start).total_seconds()
        for b_start, b_end in self.breaks:
            overlap = (min(b_end, until) - max(b_start, self.start)).total_seconds()
            seconds -= max(0.0, overlap)
        return seconds / 60.0

    def in_break(self, moment: datetime) -> bool:
        return any(b_start <= moment < b_end for b_start, b_end in self.breaks)


def _at(day: date, shift_time) -> datetime:  # noqa: ANN001 - datetime.time
    return datetime.combine(day, shift_time)


def current_shift(meta: TenantMeta, now: datetime) -> ShiftWindow | None:
    """The shift instance that contains `now` (a night shift belongs to the day it starts)."""
    minute = now.hour * 60 + now.minute
    for shift in meta.shifts.values():
        if not shift.contains_minute(minute):
            continue
        day = now.date()
        if shift.crosses_midnight and minute < shift.end_minute:
            day -= timedelta(days=1)
        start = _at(day, shift.start)
        end = _at(day + timedelta(days=1) if shift.crosses_midnight else day, shift.end)
        breaks = []
        for b in shift.breaks:
            b_start = _at(day, b.start)
            if b_start < start:
                b_start += timedelta(days=1)
            b_end = _at(b_start.date(), b.end)
            if b_end <= b_start:
                b_end += timedelta(days=1)
            breaks.append((b_start, b_end))
        return ShiftWindow(shift, start, end, tuple(breaks))
    return None


def classify(line: Line, now: datetime, last: datetime | None, window: ShiftWindow | None
             ) -> tuple[str, datetime | None]:
    """(status code, since) of a line from its last detection and the thresholds."""
    planned = window is not None and not window.in_break(now)
    gap = (now - last).total_seconds() if last is not None else None
    if planned and (gap is None or gap > line.no_data_after_s):
        return "sin_datos", last
    if gap is None or gap >= line.stop_threshold_s:
        if window is None:
            return "fuera_de_turno", last
        if not planned:
            return "descanso", last
        return "parada", last
    if gap >= line.micro_stop_s:
        return "micro_parada", last
    return "produciendo", None


def label(status: str, since: datetime | None) -> str:
    """The Spanish text of a status ('parada desde 14:05')."""
    return LABELS[status].format(since=f"{since:%H:%M}" if since else "–").replace(" desde –", "")


def _read(conn: Connection, line: Line, now: datetime, window: ShiftWindow | None,
          recent_start: datetime) -> tuple[datetime | None, int, int, int]:
    """(last ts ≤ now, units this shift, rejects this shift, units since recent_start)."""
    table = detections_table(line.id)
    try:
        last = conn.execute(select(func.max(table.c.ts)).where(table.c.ts <= now)).scalar()
        if window is None:
            return last, 0, 0, 0
        row = conn.execute(select(
            func.count(),
            func.coalesce(func.sum(case((table.c.status == STATUS_REJECT, 1), else_=0)), 0),
            func.coalesce(func.sum(case((table.c.ts >= recent_start, 1), else_=0)), 0),
        ).where(table.c.ts >= window.start, table.c.ts <= now)).one()
    except DBAPIError as exc:  # a line whose table is not created yet has no data
        if unavailable_cause(exc) is not None:
            raise  # the database does not answer: not "no data", a 503
        return None, 0, 0, 0
    if isinstance(last, str):  # SQLite returns the aggregate as text
        last = datetime.fromisoformat(last)
    return last, int(row[0]), int(row[1]), int(row[2])


def line_statuses(conn: Connection, meta: TenantMeta, clock: Clock) -> list[dict[str, object]]:
    """One entry per active line: status, last detection, units vs target, rate vs ideal, OEE."""
    now = plant_now(clock, meta.timezone)
    window = current_shift(meta, now)
    out = []
    for line in sorted((ln for ln in meta.lines.values() if ln.active), key=lambda ln: ln.code):
        recent_start = now - timedelta(minutes=RATE_WINDOW_MIN)
        if window is not None:
            recent_start = max(recent_start, window.start)
        last, units, rejects, recent = _read(conn, line, now, window, recent_start)
        status, since = classify(line, now, last, window)
        planned = window.planned_minutes(now) if window else 0.0
        target = line.ideal_rate_per_min * planned if window else None
        recent_min = (now - recent_start).total_seconds() / 60.0
        out.append({
            "code": line.code, "name": line.name, "status": status, "label": label(status, since),
            "since": since, "last_detection": last,
            "shift": window.shift.name if window else None,
            "units_shift": units if window else None, "rejects_shift": rejects if window else None,
            "target": round(target) if target is not None else None,
            "rate_per_h": round(recent * 60.0 / recent_min) if window and recent_min > 0 else None,
            "ideal_per_h": round(line.ideal_rate_per_min * 60.0),
            "oee": round((units - rejects) / target, 4) if target else None,
        })
    return out
