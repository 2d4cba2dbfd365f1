"""Production days without plant data: instances, presets, enrichment, labels, YAML and migration.

A production day starts at the plant's first shift (06:00 in the demo plant), a shift
belongs to the production day on which it starts, and everything is naive wall time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, select, text

from app_flask.panel_fields import _date_state
from core import migrations
from core import schema_tenant as t
from core.errors import ImportRejected
from core.metadata_cache import Shift
from core.production_days import (
    current_instance,
    days_window,
    production_date,
    shift_instance,
    shift_windows,
    window_days,
)
from filters.date_range import DateRangeFilter
from ingest.plant_metadata import load_plant_text, parse_plant
from query.enrich import enrich
from query.grain import FrameNeed, shape_frames
from tests.filters.test_filters_unit import at_plant_time, default_set, synthetic_meta
from tests.query_support import base_frame, enrich_meta
from widgets.base import WidgetContext
from widgets.production_over_time import ProductionOverTimeWidget

SIX = timedelta(hours=6)
NIGHT = Shift(3, "noche", "Noche", time(22), time(6))
MORNING = Shift(1, "manana", "Mañana", time(6), time(14))


def test_night_instance_belongs_to_the_day_it_starts():
    assert shift_instance(NIGHT, date(2026, 10, 5), SIX) == (dt(2026, 10, 5, 22), dt(2026, 10, 6, 6))
    assert shift_instance(NIGHT, date(2026, 12, 31), SIX) == (dt(2026, 12, 31, 22), dt(2027, 1, 1, 6))
    assert production_date(datetime(2026, 10, 6, 3), SIX) == date(2026, 10, 5)
    assert production_date(datetime(2026, 10, 6, 6), SIX) == date(2026, 10, 6)


def test_a_shift_starting_before_the_day_start_opens_the_previous_day():
    # Days from 07:00: the 06:00 shift of production day 5 Oct starts on 6 Oct at 06:00.
    offset = timedelta(hours=7)
    assert shift_instance(MORNING, date(2026, 10, 5), offset) == (dt(2026, 10, 6, 6), dt(2026, 10, 6, 14))
    assert production_date(datetime(2026, 10, 6, 6), offset) == date(2026, 10, 5)


@pytest.mark.parametrize(("tz", "day", "hours"), [
    ("Europe/Madrid", date(2026, 3, 28), 7),      # clocks jump 02:00 → 03:00 on 29 March
    ("Europe/Madrid", date(2026, 10, 24), 9),     # clocks fall back 03:00 → 02:00 on 25 October
    ("America/Santiago", date(2026, 9, 5), 7),    # 24:00 → 01:00 on 6 September
    ("America/Santiago", date(2026, 4, 4), 9),    # 24:00 → 23:00 on 4/5 April
])
def test_dst_nights_are_wall_time_windows(tz, day, hours):
    start, end = shift_instance(NIGHT, day, SIX)
    assert (start, end) == (dt.combine(day, time(22)), dt.combine(day + timedelta(days=1), time(6)))
    zone, utc = ZoneInfo(tz), ZoneInfo("UTC")
    real = end.replace(tzinfo=zone).astimezone(utc) - start.replace(tzinfo=zone).astimezone(utc)
    assert real == timedelta(hours=hours)  # the naive window spans the real night, 7 or 9 hours


def test_contiguous_instances_merge_and_the_current_one_is_found():
    windows = shift_windows([MORNING, NIGHT], date(2026, 10, 30), date(2026, 11, 1), SIX)
    assert windows == [
        (datetime(2026, 10, 30, 6), datetime(2026, 10, 30, 14)),
        (datetime(2026, 10, 30, 22), datetime(2026, 10, 31, 14)),
        (datetime(2026, 10, 31, 22), datetime(2026, 11, 1, 14)),
        (datetime(2026, 11, 1, 22), datetime(2026, 11, 2, 6)),
    ]
    shift, window = current_instance([MORNING, NIGHT], datetime(2027, 1, 1, 3), SIX)
    assert shift is NIGHT and window == (datetime(2026, 12, 31, 22), datetime(2027, 1, 1, 6))
    assert current_instance([MORNING], datetime(2027, 1, 1, 15), SIX) is None


@pytest.mark.parametrize(("now", "preset", "start", "end"), [
    # "hoy" at 03:00 is the production day that began yesterday at 06:00
    (datetime(2027, 1, 1, 3), "hoy", datetime(2026, 12, 31, 6), datetime(2027, 1, 1, 6)),
    (datetime(2027, 1, 1, 3), "este_mes", datetime(2026, 12, 1, 6), datetime(2027, 1, 1, 6)),
    (datetime(2027, 1, 1, 6), "mes_anterior", datetime(2026, 12, 1, 6), datetime(2027, 1, 1, 6)),
    (datetime(2028, 3, 1, 5, 59), "ayer", datetime(2028, 2, 28, 6), datetime(2028, 2, 29, 6)),
    (datetime(2028, 3, 1, 5, 59), "turno_actual", datetime(2028, 2, 29, 22), datetime(2028, 3, 1, 6)),
])
def test_presets_select_production_days(now, preset, start, end):
    f = DateRangeFilter(param="fecha", label="Fecha", config={}, meta=synthetic_meta(),
                        clock=at_plant_time(now))
    value = f.validate(preset)
    assert (value.start, value.end) == (start, end)


def test_ayer_plus_noche_is_exactly_one_night():
    fs = default_set()
    fs.get("fecha").clock = at_plant_time(datetime(2027, 1, 1, 3))
    values = fs.validate({"fecha": "ayer", "turnos": [3]})
    assert fs.get("turnos").instances(values["turnos"]) == [(dt(2026, 12, 30, 22), dt(2026, 12, 31, 6))]


def test_iso_bounds_stay_exact_and_clip_the_instances():
    fs = default_set()
    values = fs.validate({"fecha": {"start": "2026-10-05T23:00", "end": "2026-10-06T05:00"}, "turnos": [3]})
    assert (values["fecha"].start, values["fecha"].end) == (dt(2026, 10, 5, 23), dt(2026, 10, 6, 5))
    assert fs.get("turnos").instances(values["turnos"]) == [(dt(2026, 10, 5, 23), dt(2026, 10, 6, 5))]


def test_shift_filter_is_validated_after_the_date_whatever_the_order():
    rows = [
        {"id": 1, "class_name": "ShiftFilter", "param_name": "turnos", "label": "Turnos", "config": {}},
        {"id": 2, "class_name": "DateRangeFilter", "param_name": "fecha", "label": "Fecha", "config": {}},
    ]
    from filters import build_filter_set

    fs = build_filter_set(rows, synthetic_meta(), at_plant_time(datetime(2026, 3, 15, 12)))
    values = fs.validate({"fecha": "hoy", "turnos": [3]})
    assert values["turnos"].window == (datetime(2026, 3, 15, 6), datetime(2026, 3, 16, 6))


def test_enriched_production_date_is_the_day_the_instance_starts():
    """Random instants: shift_date equals the production day of the instance containing them."""
    meta = enrich_meta()
    rng = np.random.default_rng(7)
    stamps = pd.Timestamp("2026-12-28") + pd.to_timedelta(rng.integers(0, 6 * 86_400, 400), unit="s")
    base = base_frame(list(stamps), [10] * len(stamps), [5] * len(stamps))
    out = enrich(base, meta, {"ts", "shift_id", "shift_date"})
    for ts, sid, got in zip(stamps, out.shift_id, out.shift_date, strict=True):
        shift = meta.shifts[int(sid)]
        days = [ts.date() - timedelta(days=k) for k in range(-1, 3)]
        [day] = [d for d in days if shift_instance(shift, d, SIX)[0] <= ts < shift_instance(shift, d, SIX)[1]]
        assert got == pd.Timestamp(day)


def test_day_buckets_are_production_days():
    ts = pd.Series(pd.to_datetime(["2026-03-15 03:00", "2026-03-15 07:00", "2026-03-16 05:59",
                                   "2026-03-18 06:00"]))
    rows = pd.DataFrame({
        "hour_start": ts.dt.floor("h"), "production_day": (ts - pd.Timedelta(SIX)).dt.floor("D"),
        "line_code": pd.Categorical(["L1"] * 4), "line_name": pd.Categorical(["Línea 1"] * 4),
    })
    window = (datetime(2026, 3, 14, 6), datetime(2026, 3, 19, 6))
    widget = ProductionOverTimeWidget(widget_id=1, title="x", config={"bucket": "day"},
                                      context=WidgetContext(time_range=window, day_start=SIX))
    need = FrameNeed(widget.columns(), widget.measure_columns())
    chart = widget.process_data(shape_frames(rows, [need])[need])["data"]
    assert chart["labels"] == ["2026-03-14", "2026-03-15", "2026-03-16", "2026-03-17", "2026-03-18"]
    assert chart["datasets"][0]["data"] == [1, 2, 0, 0, 1]


def test_window_days_undoes_days_window():
    d14, d15 = date(2026, 3, 14), date(2026, 3, 15)
    for first, last in [(d14, d14), (date(2026, 3, 8), d14)]:
        assert window_days(days_window(first, last, SIX), SIX) == (first, last)
    # an end inside a day keeps that day; 05:59 belongs to the production day before
    assert window_days((dt(2026, 3, 14, 6), dt(2026, 3, 15, 5, 59)), SIX) == (d14, d14)
    assert window_days((dt(2026, 3, 14, 6), dt(2026, 3, 15, 6, 1)), SIX) == (d14, d15)
    # an empty window is its first day, never a last day before the first
    assert window_days((dt(2026, 3, 14, 6), dt(2026, 3, 14, 6)), SIX) == (d14, d14)
    week = WidgetContext(time_range=(dt(2026, 3, 8, 6), dt(2026, 3, 15, 6)), day_start=SIX)
    assert week.production_days() == (date(2026, 3, 8), d14)


def test_date_panel_labels_production_days():
    today = {"preset": "hoy", "start": "2026-03-14T06:00:00", "end": "2026-03-15T06:00:00"}
    state = _date_state(today, "06:00")
    assert (state["start"], state["end"], state["label"]) == ("2026-03-14", "2026-03-14", "14/03/2026")
    week = _date_state({"preset": "x", "start": "2026-03-08T06:00:00", "end": "2026-03-15T06:00:00"}, "06:00")
    assert (week["start"], week["end"]) == ("2026-03-08", "2026-03-14")


@pytest.mark.parametrize("raw", ['"24:00"', '"6"', "360", '"06:00:00"'])
def test_yaml_day_start_is_validated(raw):
    with pytest.raises(ImportRejected) as info:
        parse_plant(f"production_day_start: {raw}\n")
    assert any("production_day_start" in d for d in info.value.details)


def test_yaml_day_start_is_stored_kept_and_defaults_to_the_first_shift(runtime, plant_tenant):
    slug, today = plant_tenant, runtime.clock.now_utc().date()
    runtime.meta.invalidate(slug)
    assert runtime.meta.get(slug).day_start == time(6)  # the demo plant says "06:00"
    with runtime.db.tenant(slug) as conn:
        conn.execute(delete(t.plant_settings))
        conn.execute(text("UPDATE shifts SET start_time = '07:00' WHERE code = 'manana'"))
    runtime.meta.invalidate(slug)
    assert runtime.meta.get(slug).day_start == time(7)  # unset: the earliest shift start
    load_plant_text(runtime.db, slug, 'production_day_start: "05:30"\n', today=today)
    load_plant_text(runtime.db, slug, "areas: []\n", today=today)  # omitted: kept
    runtime.meta.invalidate(slug)
    meta = runtime.meta.get(slug)
    assert meta.day_start == time(5, 30) and meta.day_offset == timedelta(hours=5, minutes=30)
    with runtime.db.tenant(slug) as conn:
        assert conn.execute(select(t.plant_settings.c.value)).scalars().all() == ["05:30"]


def test_plant_settings_migration_is_idempotent(runtime, plant_tenant):
    engine = runtime.db.tenant_engine(plant_tenant)
    assert migrations.upgrade_tenant(engine) == []
    latest = len(migrations.TENANT)
    with engine.begin() as conn:  # a tenant migrated before this step existed
        t.plant_settings.drop(conn)
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version >= 2))
    assert migrations.upgrade_tenant(engine) == list(range(2, latest + 1))
    assert migrations.upgrade_tenant(engine) == []
    with engine.connect() as conn:
        assert conn.dialect.has_table(conn, "plant_settings")
