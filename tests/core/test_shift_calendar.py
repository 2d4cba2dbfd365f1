"""Shift instances and planned time: breaks, midnight, weekdays off, closed days; the YAML."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from core.errors import ImportRejected
from core.metadata_cache import ClosedDay, Line, Shift, ShiftBreak, TenantMeta
from core.shift_calendar import production_date_of, shift_instances, subtract
from ingest.plant_metadata import parse_plant

NIGHT = Shift(3, "noche", "Noche", time(22), time(6), (ShiftBreak("R", time(2), time(2, 20)),),
              frozenset({1, 2, 3, 4, 5, 6}))
MORNING = Shift(1, "manana", "Mañana", time(6), time(14), (ShiftBreak("R", time(10), time(10, 20)),))


def _meta(closed: tuple[ClosedDay, ...] = ()) -> TenantMeta:
    lines = {1: Line(1, "L1", "L1", 1, 60, 15, 120), 2: Line(2, "L2", "L2", 1, 60, 15, 120)}
    return TenantMeta("x", "UTC", 1, lines=lines, shifts={1: MORNING, 3: NIGHT}, closed_days=closed)


def test_night_instance_belongs_to_its_start_day_and_its_break_falls_after_midnight():
    morning, night = shift_instances(_meta(), 1, date(2026, 11, 17), date(2026, 11, 17))
    assert (morning.start, morning.end) == (datetime(2026, 11, 17, 6), datetime(2026, 11, 17, 14))
    assert morning.planned_s == 8 * 3600 - 20 * 60
    assert (night.production_date, night.start, night.end) == (
        date(2026, 11, 17), datetime(2026, 11, 17, 22), datetime(2026, 11, 18, 6))
    assert night.planned == (
        (datetime(2026, 11, 17, 22), datetime(2026, 11, 18, 2)),
        (datetime(2026, 11, 18, 2, 20), datetime(2026, 11, 18, 6)),
    )


def test_weekday_off_has_no_planned_time_for_that_shift_only():
    sunday = date(2026, 11, 22)
    morning, night = shift_instances(_meta(), 1, sunday, sunday)
    assert morning.planned_s == 27600  # Mañana works every day (no weekdays given)
    assert night.planned == ()


def test_closed_days_close_the_plant_or_one_line():
    day = date(2026, 11, 19)
    meta = _meta((ClosedDay(day, None, "Feriado"), ClosedDay(date(2026, 11, 20), 2, "Mantenimiento")))
    assert all(i.planned == () for i in shift_instances(meta, 1, day, day))
    next_day = date(2026, 11, 20)
    assert [i.planned_s for i in shift_instances(meta, 1, next_day, next_day)] == [27600, 27600]
    assert [i.planned_s for i in shift_instances(meta, 2, next_day, next_day)] == [0, 0]


def test_subtract_and_production_date():
    w = (datetime(2026, 1, 1, 6), datetime(2026, 1, 1, 14))
    assert subtract(w, [(datetime(2026, 1, 1, 5), datetime(2026, 1, 1, 7))]) == (
        (datetime(2026, 1, 1, 7), datetime(2026, 1, 1, 14)),)
    assert production_date_of(_meta(), datetime(2026, 11, 18, 3)) == date(2026, 11, 17)


def test_yaml_calendar_is_validated_with_paths():
    plant = parse_plant("""
shifts: [{code: n, name: N, start: "22:00", end: "06:00", weekdays: [lun, 2, sab]}]
closed_days: [{date: 2026-12-25, name: Navidad}]
""")
    assert plant.shifts[0].weekdays_text() == "126"
    assert str(plant.closed_days[0].date) == "2026-12-25"
    with pytest.raises(ImportRejected) as bad:
        parse_plant("""
shifts: [{code: n, name: N, start: "22:00", end: "06:00", weekdays: [8]}]
closed_days: [{date: 2026-12-25, name: Navidad, lines: [ZZ]}, {date: nope, name: x}]
""")
    details = "\n".join(bad.value.details)
    assert "shifts.0.weekdays" in details and "closed_days.1.date" in details
    with pytest.raises(ImportRejected) as unknown:
        parse_plant("closed_days: [{date: 2026-12-25, name: Navidad, lines: [ZZ]}]")
    assert unknown.value.details == ["closed_days[0].lines: unknown line 'ZZ'"]


def test_load_metadata_stores_the_calendar_and_a_change_marks_stops_dirty(runtime, plant_tenant):
    from sqlalchemy import select

    from core import schema_tenant as t
    from core.stops_state import FROM_START
    from ingest.plant_metadata import load_plant_text

    meta = runtime.meta.get(plant_tenant)
    assert {s.code: s.weekdays for s in meta.shifts.values()} == {
        code: frozenset(range(1, 7)) for code in ("manana", "tarde", "noche")}
    assert date(2026, 12, 25) in {c.day for c in meta.closed_days if c.line_id is None}
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(t.stops_state.delete())  # as after a gap-analysis run
    load_plant_text(runtime.db, plant_tenant, "closed_days: [{date: 2026-11-10, name: Mant., lines: [L2]}]",
                    today=date(2026, 11, 18))
    runtime.meta.invalidate(plant_tenant)
    meta = runtime.meta.get(plant_tenant)
    l2 = meta.line_by_code("L2").id
    assert meta.is_closed(l2, date(2026, 11, 10)) and not meta.is_closed(meta.line_by_code("L1").id,
                                                                        date(2026, 11, 10))
    with runtime.db.tenant(plant_tenant) as conn:
        marks = conn.execute(select(t.stops_state.c.line_id, t.stops_state.c.dirty_from)).all()
    assert sorted(marks) == [(line_id, FROM_START) for line_id in sorted(meta.lines)]
