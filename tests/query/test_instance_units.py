"""Units per shift instance: rollups where complete, detections elsewhere, equal to a plain COUNT."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import func, select, text, update

from core import schema_tenant as t
from core.clock import parse_instant
from core.shift_calendar import ShiftInstance, shift_instances
from query.instance_units import slot_minutes, split, units_by_instance
from rollups.job import roll_tenant
from tests.helpers import TEST_TZ
from tests.rollup_support import insert_rows, random_rows

DAY = date(2026, 11, 18)
H = datetime(2026, 11, 18)


def _inst(start: datetime, end: datetime) -> ShiftInstance:
    return ShiftInstance(start.date(), 1, start, end, ((start, end),))


def test_split_cuts_at_the_watermark_and_around_the_dirty_range() -> None:
    s, e = H.replace(hour=6), H.replace(hour=14)
    assert split(s, e, None, None) == ([], [(s, e)])
    assert split(s, e, H.replace(hour=20), None) == ([(s, e)], [])
    assert split(s, e, H.replace(hour=10), None) == ([(s, H.replace(hour=10))], [(H.replace(hour=10), e)])
    assert split(s, e, H.replace(hour=4), None) == ([], [(s, e)])
    dirty = (H.replace(hour=7), H.replace(hour=8))
    assert split(s, e, H.replace(hour=12), dirty) == (
        [(s, H.replace(hour=7)), (H.replace(hour=8), H.replace(hour=12))],
        [dirty, (H.replace(hour=12), e)])


def test_slot_is_the_gcd_of_the_edges_and_refuses_off_grain_edges() -> None:
    assert slot_minutes([_inst(H.replace(hour=6), H.replace(hour=14))]) == 120
    assert slot_minutes([_inst(H.replace(hour=6, minute=30), H.replace(hour=14))]) == 30
    assert slot_minutes([_inst(H.replace(hour=6, minute=3), H.replace(hour=14))]) is None
    assert slot_minutes([_inst(H.replace(hour=6, second=1), H.replace(hour=14))]) is None


def _plain_counts(runtime, slug: str, line: int, instances) -> dict:
    out = {}
    with runtime.db.tenant(slug) as conn:
        for inst in instances:
            units, rejects = conn.execute(
                text(f"SELECT COUNT(*), SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END) FROM detections_{line}"
                     " WHERE ts >= :lo AND ts < :hi"), {"lo": inst.start, "hi": inst.end}).one()
            out[(inst.production_date, inst.shift_id)] = (int(units), int(units) - int(rejects or 0))
    return out


def _units(runtime, slug: str, line: int, instances) -> dict:
    with runtime.db.tenant(slug) as conn:
        return units_by_instance(conn, line, instances)


def test_units_equal_a_plain_count_with_rollups_a_dirty_range_and_a_raw_tail(runtime, clock, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    line = meta.lines_by_code["L1"].id
    products = {p.id: p.nominal_weight_g for p in meta.products.values() if line in p.line_ids}
    rng = np.random.default_rng(11)
    insert_rows(runtime, plant_tenant, line, random_rows(rng, H.replace(hour=3), 18, 3000, products))
    instances = shift_instances(meta, line, DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert slot_minutes(instances) is not None
    no_rollups = _units(runtime, plant_tenant, line, instances)
    assert no_rollups == _plain_counts(runtime, plant_tenant, line, instances)

    clock.set(parse_instant(H.replace(hour=16, minute=35).isoformat(), TEST_TZ))
    roll_tenant(runtime, plant_tenant)
    late = random_rows(rng, H.replace(hour=9, minute=12), 1, 200, products)
    insert_rows(runtime, plant_tenant, line, late)
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(update(t.rollups_state).where(t.rollups_state.c.line_id == line)
                     .values(dirty_from=H.replace(hour=9, minute=10),
                             dirty_until=H.replace(hour=10, minute=15)))
    expected = _plain_counts(runtime, plant_tenant, line, instances)
    assert sum(u for u, _ in expected.values()) == 3200
    assert _units(runtime, plant_tenant, line, instances) == expected

    with runtime.db.tenant(plant_tenant) as conn:  # proof that the hourly tier was read: tamper with it
        h = t.rollups_hourly.c
        conn.execute(update(t.rollups_hourly).where(h.line_id == line, h.bucket_start == H.replace(hour=7))
                     .values(units=h.units + 1000))
        tampered_rows = conn.execute(select(func.count()).where(h.line_id == line,
                                                                h.bucket_start == H.replace(hour=7))).scalar()
    tampered = _units(runtime, plant_tenant, line, instances)
    assert tampered_rows > 0
    assert sum(u for u, _ in tampered.values()) == 3200 + 1000 * tampered_rows
