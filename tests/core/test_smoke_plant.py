from sqlalchemy import func, select

from core import schema_tenant as t


def test_plant_loads(runtime, plant_tenant):
    with runtime.db.tenant(plant_tenant) as conn:
        assert conn.execute(select(func.count()).select_from(t.lines)).scalar() == 4
    meta = runtime.meta.get(plant_tenant)
    assert len(meta.products) == 18
    assert any(s.crosses_midnight for s in meta.shifts.values())
