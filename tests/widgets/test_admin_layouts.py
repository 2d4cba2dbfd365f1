"""Layouts reference Widget_catalog row ids: the migration, the defaults, the dashboard picker."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from cli.defaults import install_tenant_defaults
from core import migrations
from core import schema_tenant as t
from widgets.defaults import DEFAULT_LAYOUT


def _layouts(rt, slug):
    with rt.db.tenant(slug) as conn:
        return {r.name: list(r.items) for r in conn.execute(select(t.dashboard_layouts))}


def test_defaults_install_row_ids_that_survive_reordering(runtime, plant_tenant):
    install_tenant_defaults(runtime, plant_tenant, replace=True)
    with runtime.db.tenant(plant_tenant) as conn:
        rows = {r.id: r for r in conn.execute(select(t.widget_catalog))}
        (layout,) = conn.execute(select(t.dashboard_layouts)).all()
        assert layout.is_default
        placed = [rows[i["widget_id"]].sort_order for i in layout.items]
        assert placed == [item["widget"] for item in DEFAULT_LAYOUT]
        conn.execute(update(t.widget_catalog).values(sort_order=1000 - t.widget_catalog.c.sort_order))
        layout_after = conn.execute(select(t.dashboard_layouts)).first()
    assert layout_after.items == layout.items


def test_migration_rewrites_legacy_layouts_once(runtime, plant_tenant):
    with runtime.db.tenant(plant_tenant) as conn:
        ids = {}
        for order, title, active in ((10, "a", True), (20, "b", True), (30, "c", False), (30, "c2", True)):
            ids[title] = conn.execute(insert(t.widget_catalog).values(
                class_name="KpiWidget", title=title, config={"metric": "units"}, sort_order=order,
                active=active)).inserted_primary_key[0]
        conn.execute(insert(t.dashboard_layouts).values(name="viejo", is_default=True, items=[
            {"widget": 20, "w": 6}, {"widget": 10}, {"widget": 30, "h": 1}, {"widget": 99}]))
        conn.execute(insert(t.dashboard_layouts).values(name="nuevo", is_default=False,
                                                        items=[{"widget_id": ids["a"], "w": 3}]))
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version >= 2))
    applied = migrations.upgrade_tenant(runtime.db.tenant_engine(plant_tenant))
    assert applied[0] == 2
    expected = {"viejo": [{"widget_id": ids["b"], "w": 6}, {"widget_id": ids["a"]},
                          {"widget_id": ids["c2"], "h": 1}],
                "nuevo": [{"widget_id": ids["a"], "w": 3}]}
    assert _layouts(runtime, plant_tenant) == expected
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(delete(t.schema_version).where(t.schema_version.c.version >= 2))
    migrations.upgrade_tenant(runtime.db.tenant_engine(plant_tenant))
    assert _layouts(runtime, plant_tenant) == expected
