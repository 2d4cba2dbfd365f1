"""Reason labels of stops: read them, replace them, and sum downtime minutes by reason.

Labels live in `stop_labels`, keyed by (line, stop start) instead of `stops.id`: gap analysis
deletes and rewrites a chunk's `stops` rows, and a stop that still exists after the rewrite keeps
its start, so its labels apply again without any copying; labels of stops that vanished are
simply never matched. A stop is labelled by one or more segments (a split stop); each segment
runs from its start to the next segment's start, the last one to the stop's end, so an open stop
that grows keeps its last reason.

Downtime of a split stop is shared between its segments in proportion to their length inside
the stop; the part before the first segment, and every unlabelled stop, count as "Sin motivo".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from core import schema_tenant as t
from core.metadata_cache import TenantMeta
from query.shift_report import Selection, selected_stop_rows

UNLABELLED_NAME = "Sin motivo"
MAX_SEGMENTS = 20


@dataclass(frozen=True)
class Segment:
    """One reason over a part of a stop, from `start` to the next segment (or the stop's end)."""

    start: datetime
    reason_id: int


StopKey = tuple[int, datetime]  # (line id, stop start)


def labels_for(conn: Connection, line_ids: list[int] | tuple[int, ...], first: datetime,
               last: datetime) -> dict[StopKey, list[Segment]]:
    """Segments of the stops of these lines starting in [first, last], ordered by start."""
    if not line_ids:
        return {}
    c = t.stop_labels.c
    rows = conn.execute(
        select(c.line_id, c.stop_start, c.seg_start, c.reason_id)
        .where(c.line_id.in_(line_ids), c.stop_start >= first, c.stop_start <= last)
        .order_by(c.line_id, c.stop_start, c.seg_start)
    )
    out: dict[StopKey, list[Segment]] = defaultdict(list)
    for r in rows:
        out[(r.line_id, r.stop_start)].append(Segment(r.seg_start, r.reason_id))
    return dict(out)


def segments_of(conn: Connection, line_id: int, stop_start: datetime) -> list[Segment]:
    """The segments of one stop (empty: not labelled)."""
    return labels_for(conn, [line_id], stop_start, stop_start).get((line_id, stop_start), [])


def replace_segments(conn: Connection, line_id: int, stop_start: datetime, segments: list[Segment],
                     *, user: str, at: datetime) -> None:
    """Replace a stop's labels by `segments` (empty clears them), in the caller's transaction."""
    c = t.stop_labels.c
    conn.execute(delete(t.stop_labels).where(c.line_id == line_id, c.stop_start == stop_start))
    if segments:
        conn.execute(insert(t.stop_labels), [
            {"line_id": line_id, "stop_start": stop_start, "seg_start": seg.start,
             "reason_id": seg.reason_id, "updated_by": user[:64], "updated_at": at}
            for seg in segments
        ])


def describe(meta: TenantMeta, segments: list[Segment], stop_end: datetime) -> list[dict[str, Any]]:
    """Segments as JSON: start, end, reason code and name (for the API, the page and the audit)."""
    out = []
    for i, seg in enumerate(segments):
        end = segments[i + 1].start if i + 1 < len(segments) else stop_end
        reason = meta.stop_reasons.get(seg.reason_id)
        out.append({"start": seg.start.isoformat(), "end": end.isoformat(),
                    "reason": reason.code if reason else None,
                    "reason_name": reason.name if reason else UNLABELLED_NAME})
    return out


def downtime_shares(start: datetime, end: datetime, downtime_s: float,
                    segments: list[Segment]) -> list[tuple[int | None, float]]:
    """(reason id or None, downtime seconds) per part of one stop, proportional to length."""
    if not segments:
        return [(None, downtime_s)]
    length = (end - start).total_seconds()
    if length <= 0:
        return [(segments[0].reason_id, downtime_s)]
    bounds = [min(max(seg.start, start), end) for seg in segments] + [end]
    parts: list[tuple[int | None, float]] = []
    if bounds[0] > start:
        parts.append((None, downtime_s * (bounds[0] - start).total_seconds() / length))
    for i, seg in enumerate(segments):
        parts.append((seg.reason_id, downtime_s * (bounds[i + 1] - bounds[i]).total_seconds() / length))
    return parts


def minutes_by_reason(conn: Connection, meta: TenantMeta, sel: Selection,
                      now: datetime) -> list[dict[str, Any]]:
    """Downtime minutes and stop counts per reason over the selection's stops, largest first.

    Each entry: `reason` (code, None for unlabelled), `name`, `minutes`, `stops` (stops with at
    least part of their downtime on that reason). Micro-stops carry no downtime and are left out.
    """
    rows = list(selected_stop_rows(conn, meta, sel, now, kinds=("stop",)))
    if not rows:
        return []
    labels = labels_for(conn, sorted({r.line_id for r in rows}), rows[0].start_ts, rows[-1].start_ts)
    seconds: dict[int | None, float] = defaultdict(float)
    counts: dict[int | None, int] = defaultdict(int)
    for r in rows:
        seen: set[int | None] = set()
        for reason_id, share in downtime_shares(r.kept_start, r.kept_end, r.downtime_s,
                                                labels.get((r.line_id, r.start_ts), [])):
            seconds[reason_id] += share
            seen.add(reason_id)
        for reason_id in seen:
            counts[reason_id] += 1
    out = []
    for reason_id, total in seconds.items():
        reason = meta.stop_reasons.get(reason_id) if reason_id is not None else None
        out.append({"reason": reason.code if reason else None,
                    "name": reason.name if reason else UNLABELLED_NAME,
                    "minutes": total / 60.0, "stops": counts[reason_id]})
    out.sort(key=lambda e: (-e["minutes"], e["name"]))
    return out


def attach_segments(conn: Connection, meta: TenantMeta, stops: list[dict[str, Any]]) -> None:
    """Add `segments` (see `describe`) to each stop row of `search_stops`, in place."""
    if not stops:
        return
    starts = [datetime.fromisoformat(s["start"]) for s in stops]
    line_ids = sorted({meta.lines_by_code[s["line"]].id for s in stops})
    labels = labels_for(conn, line_ids, min(starts), max(starts))
    for stop, start in zip(stops, starts, strict=True):
        found = labels.get((meta.lines_by_code[stop["line"]].id, start), [])
        stop["segments"] = describe(meta, found, datetime.fromisoformat(stop["end"]))
