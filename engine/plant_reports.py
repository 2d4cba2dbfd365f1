"""The plant answers of a resolved run outside the dashboard: its stops and its shift report.

Both read the shift instances the run's filters select (`ResolvedRun.require_selection`: no
date window is a 422) from derived data, in one tenant connection each. Stops, reports and the
CSV exports of the shift report all come through here, so they select exactly alike.
"""

from __future__ import annotations

from typing import Any

from core.runtime import Runtime
from engine.resolve import ResolvedRun
from query.shift_report import REPORT_COLUMNS, search_stops, shift_report
from stops.reasons import attach_segments

SHIFT_COLUMNS = (*REPORT_COLUMNS[:-1], "performance_above_1", "open")
"""The columns of the shift report's CSV, in order."""


def stops_of(rt: Runtime, run: ResolvedRun) -> dict[str, Any]:
    """The stops and micro-stops of the selected shift instances, oldest first, with their reasons."""
    sel = run.require_selection()
    with rt.db.tenant(run.tenant) as conn:
        found = search_stops(conn, run.meta, sel, run.now)
        attach_segments(conn, run.meta, found["stops"])
    return {**found, "filters": run.applied_json()}


def shift_report_of(rt: Runtime, run: ResolvedRun) -> dict[str, Any]:
    """One row per production date × shift × line of the selection, totals and the applied filters."""
    sel = run.require_selection()
    with rt.db.tenant(run.tenant) as conn:
        report = shift_report(conn, run.meta, sel, run.now)
    return {**report, "filters": run.applied_json()}


def shift_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report's rows as CSV cells, in SHIFT_COLUMNS order."""
    return [[row[c] for c in SHIFT_COLUMNS] for row in report["rows"]]
