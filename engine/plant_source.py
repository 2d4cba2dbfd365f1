"""The "plant" data source: stops, shift report and line status of the filtered selection.

Plant widgets (OEE, downtime, Pareto, timeline, shift comparison, line status) read derived
plant data instead of the master frame. This module turns the dashboard's validated filters
into a shift-instance Selection (every filter says how it narrows plant data through its
`to_plant()`; no filter class is named here) and loads, in one connection and once per run,
only the parts that the layout's plant widgets declare; every such widget then gets the same
PlantData.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.clock import plant_now
from core.db_errors import unavailable_cause
from core.metadata_cache import TenantMeta
from core.runtime import Runtime
from filters.filter_set import FilterSet
from query.line_status import current_shift, line_statuses
from query.shift_report import Selection, search_stops, selected_instances, shift_report
from query.spec import SqlFragment
from stops.reasons import minutes_by_reason
from widgets.plant_data import PlantData

log = logging.getLogger(__name__)


def selection_of(meta: TenantMeta, filter_set: FilterSet, values: dict[str, Any],
                 fragments: list[SqlFragment], window: tuple[datetime, datetime] | None
                 ) -> Selection | None:
    """The shift instances the filters choose: the date window, the lines of the fragments, and
    what every filter's `to_plant()` keeps (shifts, minutes of the day).

    None without a date window: plant data is always about a period.
    """
    if window is None:
        return None
    line_ids = {line.id for line in meta.lines.values() if line.active}
    for fragment in fragments:
        if fragment.line_ids is not None:
            line_ids &= set(fragment.line_ids)
    scope = filter_set.plant_scope(values)
    ordered = tuple(sorted(line_ids, key=lambda i: meta.lines[i].code))
    return Selection(window[0], window[1], ordered, scope.shift_ids, scope.day_minutes)


def previous_period(sel: Selection) -> Selection:
    """The period of equal length just before the selection (same lines, shifts and hours)."""
    length = sel.end - sel.start
    return replace(sel, start=sel.start - length, end=sel.start)


def calendar(meta: TenantMeta, sel: Selection, now: datetime) -> list[dict[str, Any]]:
    """The selected shift instances per line (their kept pieces) with their planned periods
    (breaks and left-out hours are the holes)."""
    out = []
    for line_id in sel.line_ids:
        line = meta.lines[line_id]
        for inst in (p for i in selected_instances(meta, sel, line_id, now) for p in sel.pieces(i)):
            out.append({
                "line": line.code, "line_name": line.name, "shift": meta.shifts[inst.shift_id].code,
                "production_date": inst.production_date.isoformat(),
                "start": inst.start.isoformat(), "end": inst.end.isoformat(),
                "planned": [[s.isoformat(), e.isoformat()] for s, e in inst.planned],
            })
    return out


def targets(meta: TenantMeta) -> list[dict[str, Any]]:
    """The tenant's targets with codes instead of ids (what widgets compare against)."""
    out = []
    for target in meta.targets:
        shift = meta.shifts.get(target.shift_id) if target.shift_id else None
        product = meta.products.get(target.product_id) if target.product_id else None
        out.append({"line": meta.lines[target.line_id].code, "shift": shift.code if shift else None,
                    "product": product.code if product else None,
                    "units_per_shift": target.units_per_shift, "oee": target.oee})
    return out


def _statuses(conn: Connection, meta: TenantMeta, rt: Runtime, sel: Selection,
              now: datetime) -> list[dict[str, Any]]:
    """The live status of the selected lines, with the current shift's code (targets key on it)."""
    codes = {meta.lines[i].code for i in sel.line_ids}
    window = current_shift(meta, now)
    shift_code = window.shift.code if window is not None else None
    return [dict(s, shift_code=shift_code) for s in line_statuses(conn, meta, rt.clock) if s["code"] in codes]


def load_plant_data(rt: Runtime, slug: str, sel: Selection, parts: Iterable[str]) -> PlantData:
    """Load the requested parts for the selection in one tenant connection."""
    wanted = set(parts)
    meta = rt.meta.get(slug)
    now = plant_now(rt.clock, meta.timezone)
    loaded: dict[str, Any] = {}
    with rt.db.tenant(slug) as conn:
        if "report" in wanted:
            loaded["report"] = shift_report(conn, meta, sel, now)
        if "previous" in wanted:
            loaded["previous"] = shift_report(conn, meta, previous_period(sel), now)
        if "stops" in wanted:
            loaded["stops"] = search_stops(conn, meta, sel, now)["stops"]
        if "reasons" in wanted:
            loaded["reasons"] = minutes_by_reason(conn, meta, sel, now)
        if "status" in wanted:
            loaded["status"] = _statuses(conn, meta, rt, sel, now)
    if "calendar" in wanted:
        loaded["calendar"] = calendar(meta, sel, now)
    lines = {meta.lines[i].code: {"name": meta.lines[i].name,
                                  "ideal_rate_per_min": meta.lines[i].ideal_rate_per_min}
             for i in sel.line_ids}
    return PlantData(start=sel.start, end=sel.end, now=now, targets=targets(meta), lines=lines, **loaded)


@dataclass(frozen=True)
class PlantUnavailable:
    """Why this run has no plant data; every plant widget shows it as its error."""

    message: str


def plant_parts(widgets: Iterable[Any]) -> set[str]:
    """The union of the plant parts that the run's plant widgets declare."""
    out: set[str] = set()
    for widget in widgets:
        if widget.source_type == "plant":
            out |= set(widget.plant_parts)
    return out


def plant_for_run(rt: Runtime, slug: str, sel: Selection | None,
                  widgets: Iterable[Any]) -> PlantData | PlantUnavailable | None:
    """The orchestrator's hook: the plant data of one run, None when no widget needs it."""
    parts = plant_parts(widgets)
    if not parts:
        return None
    if sel is None:
        return PlantUnavailable("Elija un rango de fechas para ver los datos de planta")
    try:
        return load_plant_data(rt, slug, sel, parts)
    except SQLAlchemyError as exc:
        if unavailable_cause(exc) is not None:
            raise  # the database does not answer: the whole run is a 503, not this widget's note
        log.exception("plant data of %s could not be loaded", slug)
        return PlantUnavailable("Los datos de planta no están disponibles")
