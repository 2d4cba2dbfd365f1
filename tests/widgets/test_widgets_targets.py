"""Production targets in the plant YAML: validated, stored per tenant, read into TenantMeta."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import schema_tenant as t
from core.errors import ImportRejected
from ingest.plant_metadata import load_plant_text, parse_plant


def test_demo_targets_reach_the_metadata_snapshot(runtime, plant_tenant):
    meta = runtime.meta.get(plant_tenant)
    got = {(meta.lines[g.line_id].code, meta.shifts[g.shift_id].code if g.shift_id else None):
           (g.units_per_shift, g.oee) for g in meta.targets}
    with runtime.db.tenant(plant_tenant) as conn:
        g = t.targets.c
        rows = conn.execute(
            select(t.lines.c.code, t.shifts.c.code, g.units_per_shift, g.oee)
            .select_from(t.targets.join(t.lines, t.lines.c.id == g.line_id)
                         .outerjoin(t.shifts, t.shifts.c.id == g.shift_id))).all()
    assert got == {(r[0], r[1]): (r[2], r[3]) for r in rows}
    assert got[("L1", None)] == (22000, 0.65) and got[("L1", "noche")] == (20000, None)


def test_loading_again_replaces_a_target_by_its_key(runtime, plant_tenant):
    load_plant_text(runtime.db, plant_tenant, "targets: [{line: L1, units_per_shift: 25000, oee: 0.7}]",
                    today=runtime.clock.now_utc().date())
    runtime.meta.invalidate(plant_tenant)
    meta = runtime.meta.get(plant_tenant)
    line_one = [g for g in meta.targets if meta.lines[g.line_id].code == "L1"]
    assert sorted((g.shift_id is None, g.units_per_shift, g.oee) for g in line_one) == [
        (False, 20000, None), (True, 25000, 0.7)]


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("targets: [{line: L9, oee: 0.5}]", "targets[0].line: unknown line 'L9'"),
    ("targets: [{line: L1, shift: siesta, oee: 0.5}]", "targets[0].shift: unknown shift 'siesta'"),
    ("targets: [{line: L1, product: X-1, oee: 0.5}]", "targets[0].product: unknown product 'X-1'"),
    ("targets: [{line: L1, oee: 1.5}]", "targets.0.oee"),
    ("targets: [{line: L1, units_per_shift: 0}]", "targets.0.units_per_shift"),
    ("targets: [{line: L1}]", "a target needs units_per_shift or oee"),
    ("targets: [{line: L1, oee: 0.5}, {line: L1, units_per_shift: 9}]", "targets[1]: duplicate target"),
])
def test_a_bad_target_rejects_the_whole_file_and_writes_nothing(runtime, plant_tenant, yaml_text, message):
    with runtime.db.tenant(plant_tenant) as conn:
        before = conn.execute(select(func.count()).select_from(t.targets)).scalar()
    with pytest.raises(ImportRejected) as info:
        load_plant_text(runtime.db, plant_tenant, "areas: [{code: nueva, name: Nueva}]\n" + yaml_text,
                        today=runtime.clock.now_utc().date())
    assert any(message in d for d in info.value.details), info.value.details
    with runtime.db.tenant(plant_tenant) as conn:
        assert conn.execute(select(func.count()).select_from(t.targets)).scalar() == before
        assert conn.execute(select(t.areas.c.id).where(t.areas.c.code == "nueva")).first() is None


def test_targets_without_a_database_need_known_codes():
    plant = parse_plant("targets: [{line: L1, shift: manana, oee: 0.6}]", known_lines={"L1"},
                        known_shifts={"manana"})
    assert plant.targets[0].key == ("L1", "manana", None)
