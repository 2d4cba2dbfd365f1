"""Saved views API: validated like a dashboard run, personal or shared, a start view per user.

Refusals are checked against the table itself (plain SQL before and after: unchanged).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from identity.audit import list_events
from identity.users import find_user

pytestmark = pytest.mark.clock  # date presets follow the clock


@pytest.fixture
def clients(auth_world, engine_app):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)

    def client(username):
        return TestClient(engine_app, headers=auth_world.auth(username))

    return client("ana"), client("vic"), client("zed")


def stored(rt) -> list[tuple]:
    with rt.db.tenant("acme") as conn:
        rows = conn.execute(text("SELECT id, owner_id, name, shared, layout_id, filters FROM saved_views "
                                 "ORDER BY id")).all()
    return [(r[0], r[1], r[2], bool(r[3]), r[4], json.loads(r[5]) if isinstance(r[5], str) else r[5])
            for r in rows]


def line_id(rt, code="L1") -> int:
    return rt.meta.get("acme").line_by_code(code).id


def test_a_viewer_saves_a_personal_view_with_only_known_filters(auth_world, clients):
    ana, vic, _zed = clients
    rt = auth_world.runtime
    lid = str(line_id(rt))
    r = vic.post("/api/v1/views", json={"name": "  Mi   línea ", "filters": {
        "lineas": [lid], "fecha": {"preset": "hoy"}, "otra_cosa": 1}})
    assert r.status_code == 201, r.text
    view = r.json()
    assert (view["name"], view["mine"], view["shared"]) == ("Mi línea", True, False)
    assert stored(rt) == [(view["id"], auth_world.ids["vic"], "Mi línea", False, None,
                           {"lineas": [lid], "fecha": {"preset": "hoy"}})]
    assert [v["name"] for v in vic.get("/api/v1/views").json()["views"]] == ["Mi línea"]
    assert ana.get("/api/v1/views").json()["views"] == []
    assert ana.get(f"/api/v1/views/{view['id']}").status_code == 404
    opened = vic.get(f"/api/v1/views/{view['id']}").json()
    assert opened["valid"] is True and opened["filters"]["lineas"] == [lid]
    tid = find_user(rt.db, tenant="acme", username="vic").tenant_id
    events = [e for e in list_events(rt.db, tenant_id=tid)
              if e.detail and e.detail.get("what") == "saved_view"]
    assert events[0].username == "vic" and events[0].detail["after"]["name"] == "Mi línea"


def test_refusals_leave_the_table_unchanged(auth_world, clients):
    ana, vic, _zed = clients
    rt = auth_world.runtime
    assert vic.post("/api/v1/views", json={"name": "Primera"}).status_code == 201
    before = stored(rt)
    cases = [
        (vic, {"name": "Compartida", "shared": True}, 403),
        (vic, {"name": "Mala", "filters": {"lineas": ["999999"]}}, 422),
        (vic, {"name": "Mala", "filters": {"fecha": {"preset": "nunca"}}}, 422),
        (vic, {"name": "x" * 81}, 422),
        (vic, {"name": "   "}, 422),
        (vic, {"name": "primera"}, 409),
        (vic, {"name": "Otro tablero", "layout_id": 999}, 422),
        (vic, {"name": "Enorme", "layout_id": 2**63}, 422),
    ]
    for client, body, status in cases:
        r = client.post("/api/v1/views", json=body)
        assert r.status_code == status, (body, r.text)
    bad = vic.post("/api/v1/views", json={"name": "Mala", "filters": {"lineas": ["999999"]}}).json()
    assert bad["details"][0]["field"] == "lineas"
    assert stored(rt) == before


def test_shared_views_and_start_view(auth_world, clients):
    ana, vic, zed = clients
    shared = ana.post("/api/v1/views", json={"name": "Turno mañana", "shared": True,
                                             "filters": {"fecha": {"preset": "ayer"}}}).json()
    listed = vic.get("/api/v1/views").json()
    assert [(v["name"], v["mine"]) for v in listed["views"]] == [("Turno mañana", False)]
    assert listed["start_id"] is None
    assert vic.put(f"/api/v1/views/{shared['id']}/start").status_code == 200
    assert vic.get("/api/v1/views").json()["start_id"] == shared["id"]
    assert ana.get("/api/v1/views").json()["start_id"] is None
    assert vic.delete(f"/api/v1/views/{shared['id']}").status_code == 403
    assert zed.get(f"/api/v1/views/{shared['id']}").status_code == 404
    assert vic.delete("/api/v1/views/start").status_code == 204
    assert vic.get("/api/v1/views").json()["start_id"] is None
    assert vic.put(f"/api/v1/views/{shared['id']}/start").status_code == 200
    assert ana.delete(f"/api/v1/views/{shared['id']}").status_code == 204
    assert vic.get("/api/v1/views").json() == {"views": [], "start_id": None}


def test_a_view_that_no_longer_validates_opens_with_its_problems(auth_world, clients):
    _ana, vic, _zed = clients
    rt = auth_world.runtime
    with rt.db.tenant("acme") as conn:
        view_id = conn.execute(insert(t.saved_views).values(
            owner_id=auth_world.ids["vic"], name="Vieja", shared=False, layout_id=77,
            filters={"lineas": ["424242"]}, created_at=rt.clock.now_utc().replace(tzinfo=None),
        )).inserted_primary_key[0]
    r = vic.get(f"/api/v1/views/{view_id}")
    assert r.status_code == 200
    assert r.json()["valid"] is False
    assert [p["field"] for p in r.json()["problems"]] == ["lineas"]
