"""Engine admin API: filters, widget catalog and dashboards (both backends).

Every refusal is checked against the tables themselves (plain SQL before and after: unchanged)
and every accepted change against the audit log (who, what, before, after).
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from core import schema_tenant as t
from identity.audit import list_events
from identity.users import find_user
from tests.admin_support import admin_api_client

TABLES = ("Filters", "Widget_catalog", "dashboard_layouts")


@pytest.fixture
def admin(auth_world, engine_app):
    """A client authenticated as ana (admin of acme, which has the default dashboard)."""
    return admin_api_client(auth_world, engine_app)


def snapshot(rt, slug="acme") -> dict[str, list[tuple]]:
    """Every row of the admin-editable tables, by plain SQL."""
    with rt.db.tenant(slug) as conn:
        return {name: sorted(tuple(str(v) for v in r) for r in conn.execute(text(f"SELECT * FROM {name}")))
                for name in TABLES}


def admin_events(rt, username="ana"):
    tid = find_user(rt.db, tenant="acme", username=username).tenant_id
    return [e for e in list_events(rt.db, tenant_id=tid) if e.action == "admin_edit"]


def sql_rows(rt, sql, slug="acme"):
    with rt.db.tenant(slug) as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_classes_come_with_their_json_schema(admin):
    body = admin.get("/api/v1/admin/classes").json()
    filters = {c["name"]: c for c in body["filters"]}
    widgets = {c["name"]: c for c in body["widgets"]}
    assert {"DateRangeFilter", "LineFilter", "ProductFilter", "ToggleFilter"} <= set(filters)
    assert widgets["KpiWidget"]["schema"]["properties"]["metric"]["enum"][:2] == ["units", "kg"]
    assert filters["ProductFilter"]["schema"]["properties"]["depends_on"]["type"] == "array"


def test_filter_rows_refused_before_saving(auth_world, admin):
    rt = auth_world.runtime
    before = snapshot(rt)
    cases = [
        ({"class_name": "os.system", "param_name": "x", "label": "X"}, "no está registrada"),
        ({"class_name": "ToggleFilter", "param_name": "Mal Param", "label": "X"}, "minúsculas"),
        ({"class_name": "ToggleFilter", "param_name": "t", "label": "X", "config": {"nope": 1}}, "nope"),
        ({"class_name": "ProductFilter", "param_name": "p2", "label": "P", "config": {"depends_on": ["zz"]}},
         "zz"),
    ]
    for body, reason in cases:
        r = admin.post("/api/v1/admin/filters", json=body)
        assert r.status_code == 422 and reason in r.json()["message"], (body, r.text)
    # Well formed, but clashing with the rows there are now: 409.
    r = admin.post("/api/v1/admin/filters", json={"class_name": "ToggleFilter", "param_name": "lineas",
                                                  "label": "X"})
    assert r.status_code == 409 and "ya existe" in r.json()["message"], r.text
    lineas = sql_rows(rt, "SELECT id FROM Filters WHERE param_name = 'lineas'")[0][0]
    r = admin.patch(f"/api/v1/admin/filters/{lineas}", json={"active": False})
    assert r.status_code == 409 and "productos" in r.json()["message"]
    assert admin.delete(f"/api/v1/admin/filters/{lineas}").status_code == 409
    assert admin.patch("/api/v1/admin/filters/9999", json={"label": "x"}).status_code == 404
    assert snapshot(rt) == before
    assert admin_events(rt) == []


def test_filter_changes_are_saved_and_audited(auth_world, admin):
    rt = auth_world.runtime
    created = admin.post("/api/v1/admin/filters", json={
        "class_name": "ToggleFilter", "param_name": "solo_ok", "label": "Solo OK",
        "config": {"effect": "incluir_rechazos", "default": False}})
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert sql_rows(rt, f"SELECT label, active FROM Filters WHERE id = {new_id}") == [("Solo OK", 1)]
    patched = admin.patch(f"/api/v1/admin/filters/{new_id}", json={"label": "Sólo buenas", "active": False})
    assert patched.json()["label"] == "Sólo buenas" and patched.json()["active"] is False
    ids = [r[0] for r in sql_rows(rt, "SELECT id FROM Filters ORDER BY sort_order, id")]
    reordered = admin.post("/api/v1/admin/filters/order", json={"ids": ids[::-1]})
    assert [r["id"] for r in reordered.json()] == ids[::-1]
    assert admin.post("/api/v1/admin/filters/order", json={"ids": ids[1:]}).status_code == 409
    assert admin.delete(f"/api/v1/admin/filters/{new_id}").status_code == 204
    events = admin_events(rt)[::-1]
    assert [(e.detail["what"], e.detail["op"]) for e in events] == [
        ("filter", "create"), ("filter", "update"), ("filter", "reorder"), ("filter", "delete")]
    assert all(e.username == "ana" and e.ip for e in events)
    assert events[0].detail["before"] is None and events[0].detail["after"]["param_name"] == "solo_ok"
    assert events[1].detail["before"]["label"] == "Solo OK"
    assert events[1].detail["after"]["label"] == "Sólo buenas"
    assert events[1].detail["before"]["active"] is True and events[1].detail["after"]["active"] is False
    assert events[2].detail["before"] == ids and events[2].detail["after"] == ids[::-1]
    assert events[3].detail["before"]["label"] == "Sólo buenas" and events[3].detail["after"] is None


def test_widget_rows_refused_saved_and_audited(auth_world, admin):
    rt = auth_world.runtime
    before = snapshot(rt)
    for body, reason in (({"class_name": "os.system", "title": "x"}, "no está registrada"),
                         ({"class_name": "KpiWidget", "title": "x", "config": {"metric": "x"}}, "metric"),
                         ({"class_name": "KpiWidget", "title": ""}, "")):
        r = admin.post("/api/v1/admin/widgets", json=body)
        assert r.status_code == 422 and reason in r.text
    placed = sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")[0][0]
    r = admin.patch(f"/api/v1/admin/widgets/{placed}", json={"config": {"metric": "bogus"}})
    assert r.status_code == 422
    r = admin.delete(f"/api/v1/admin/widgets/{placed}")
    assert r.status_code == 409 and "Producción" in r.json()["message"]
    assert snapshot(rt) == before
    created = admin.post("/api/v1/admin/widgets", json={"class_name": "KpiWidget", "title": "Kg totales",
                                                        "config": {"metric": "kg"}})
    assert created.status_code == 201 and created.json()["error"] is None
    new_id = created.json()["id"]
    assert admin.patch(f"/api/v1/admin/widgets/{new_id}", json={"active": False}).json()["active"] is False
    assert admin.delete(f"/api/v1/admin/widgets/{new_id}").status_code == 204
    ops = [(e.detail["what"], e.detail["op"], e.detail["id"]) for e in admin_events(rt)[::-1]]
    assert ops == [("widget", "create", new_id), ("widget", "update", new_id), ("widget", "delete", new_id)]


def test_dashboards_refuse_foreign_and_missing_rows(auth_world, admin):
    rt = auth_world.runtime
    acme_max = sql_rows(rt, "SELECT MAX(id) FROM Widget_catalog")[0][0]
    with rt.db.tenant("zeta") as conn:
        for n in range(acme_max + 2):  # zeta's ids run past acme's
            foreign = conn.execute(insert(t.widget_catalog).values(
                class_name="KpiWidget", title=f"z{n}", config={}, sort_order=n)).inserted_primary_key[0]
    assert not sql_rows(rt, f"SELECT id FROM Widget_catalog WHERE id = {foreign}")
    own = sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")[0][0]
    before = snapshot(rt)
    for items in ([{"widget_id": own}, {"widget_id": foreign}], [{"widget_id": own}, {"widget_id": own}],
                  [{"widget_id": own, "w": 13}], [{"widget_id": own, "extra": 1}]):
        r = admin.post("/api/v1/admin/dashboards", json={"name": "Nuevo", "items": items})
        assert r.status_code == 422, (items, r.text)
    r = admin.post("/api/v1/admin/dashboards", json={"name": "Producción", "items": []})
    assert r.status_code == 409 and "ya existe" in r.json()["message"]
    assert snapshot(rt) == before and admin_events(rt) == []


def test_dashboard_lifecycle_and_run(auth_world, admin):
    rt = auth_world.runtime
    ids = [r[0] for r in sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")]
    body = {"name": "Turno noche", "items": [{"widget_id": ids[2], "w": 6}, {"widget_id": ids[0]}]}
    created = admin.post("/api/v1/admin/dashboards", json=body)
    assert created.status_code == 201 and created.json()["is_default"] is False
    new_id = created.json()["id"]
    run = admin.post("/api/v1/dashboard/run", json={"layout_id": new_id}).json()
    assert [(w["id"], w["w"]) for w in run["widgets"]] == [(ids[2], 6), (ids[0], 4)]
    listed = admin.get("/api/v1/dashboards").json()
    assert [d["name"] for d in listed] == ["Producción", "Turno noche"]
    assert admin.post(f"/api/v1/admin/dashboards/{new_id}/default").json()["is_default"] is True
    assert sql_rows(rt, "SELECT name FROM dashboard_layouts WHERE is_default = 1") == [("Turno noche",)]
    run = admin.post("/api/v1/dashboard/run", json={}).json()
    assert run["meta"]["layout_id"] == new_id
    body["items"].append({"widget_id": ids[1], "h": 1})
    replaced = admin.put(f"/api/v1/admin/dashboards/{new_id}", json=body)
    assert replaced.json()["items"][-1] == {"widget_id": ids[1], "h": 1}
    assert admin.delete(f"/api/v1/admin/dashboards/{new_id}").status_code == 204
    assert sql_rows(rt, "SELECT name FROM dashboard_layouts WHERE is_default = 1") == [("Producción",)]
    only = sql_rows(rt, "SELECT id FROM dashboard_layouts")[0][0]
    assert admin.delete(f"/api/v1/admin/dashboards/{only}").status_code == 409
    events = admin_events(rt)[::-1]
    assert [e.detail["op"] for e in events] == ["create", "default", "update", "delete"]
    assert events[2].detail["before"]["items"] == created.json()["items"]
    assert events[2].detail["after"]["items"] == replaced.json()["items"]


def test_users_admin_cannot_demote_or_remove_itself(auth_world, admin):
    me = auth_world.ids["ana"]
    for change in ({"role": "viewer"}, {"active": False}):
        r = admin.patch(f"/api/v1/users/{me}", json=change)
        assert r.status_code == 409 and "sí mismo" in r.json()["message"]
    assert admin.delete(f"/api/v1/users/{me}").status_code == 409
    assert find_user(auth_world.runtime.db, tenant="acme", username="ana").role == "admin"
