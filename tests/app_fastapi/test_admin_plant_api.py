"""Engine admin API for plant metadata (both backends): areas, lines, products, shifts, calendar.

Accepted changes are checked by plain SQL, in the audit log (who, before, after), in the
gap-analysis dirty marks and in the metadata cache of a SECOND runtime (the version check every
worker does). Refused changes leave every metadata table, the version and the marks unchanged.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, inspect, select, text

from core import schema_tenant as t
from core.runtime import build_runtime
from identity.audit import list_events
from identity.users import find_user

TABLES = ("areas", "lines", "products", "line_products", "shifts", "shift_breaks", "closed_days",
          "targets", "stop_reasons", "meta_state", "stops_state")
BASE = "/api/v1/admin/plant"


@pytest.fixture
def admin(auth_world, engine_app):
    """ana (admin of acme) on the engine, with acme's gap-analysis marks cleared."""
    sql(auth_world.runtime, "UPDATE stops_state SET dirty_from = NULL")
    auth_world.runtime.meta.check_interval_s = 0  # this worker checks the version on every read
    client = TestClient(engine_app)
    client.headers.update(auth_world.auth("ana"))
    return client


def sql(rt, statement, slug="acme"):
    with rt.db.tenant(slug) as conn:
        result = conn.execute(text(statement))
        return [tuple(r) for r in result] if result.returns_rows else []


def snapshot(rt) -> dict[str, list[tuple]]:
    return {name: sorted(tuple(str(v) for v in r) for r in sql(rt, f"SELECT * FROM `{name}`"))
            for name in TABLES}


def events(rt):
    tid = find_user(rt.db, tenant="acme", username="ana").tenant_id
    return [e.detail for e in list_events(rt.db, tenant_id=tid) if e.action == "admin_edit"][::-1]


def dirty(rt) -> dict[str, str | None]:
    rows = sql(rt, "SELECT l.code, s.dirty_from FROM `lines` l LEFT JOIN stops_state s ON s.line_id = l.id")
    return {code: None if d is None else str(d) for code, d in rows}


def line_id(rt, code):
    return sql(rt, f"SELECT id FROM `lines` WHERE code = '{code}'")[0][0]


def line_body(client, code):
    row = next(r for r in client.get(f"{BASE}/lines").json() if r["code"] == code)
    return row["id"], {k: v for k, v in row.items() if k != "id"}


def test_line_edit_is_saved_audited_marked_dirty_and_seen_by_another_runtime(auth_world, admin):
    rt = auth_world.runtime
    other = build_runtime(rt.settings, clock=rt.clock)  # another worker: its own cache, same DBs
    other.meta.check_interval_s = 0
    try:
        before_meta = other.meta.get("acme").lines_by_code["L2"]
        assert (before_meta.ideal_rate_per_min, before_meta.stop_threshold_s) == (40.0, 180)
        row_id, body = line_body(admin, "L2")
        r = admin.put(f"{BASE}/lines/{row_id}", json={**body, "ideal_rate_per_min": 52.5,
                                                      "micro_stop_s": 30, "stop_threshold_s": 240})
        assert r.status_code == 200, r.text
        assert sql(rt, "SELECT ideal_rate_per_min, micro_stop_s, stop_threshold_s FROM `lines` "
                       "WHERE code = 'L2'") == [(52.5, 30, 240)]
        assert dirty(rt) == {"L1": None, "L2": "1970-01-01", "L3": None, "L4": None}
        seen = other.meta.get("acme").lines_by_code["L2"]
        assert (seen.ideal_rate_per_min, seen.micro_stop_s, seen.stop_threshold_s) == (52.5, 30, 240)
    finally:
        other.close()
    (event,) = events(rt)
    assert (event["what"], event["op"], event["id"]) == ("line", "update", row_id)
    assert event["before"]["ideal_rate_per_min"] == 40 and event["after"]["ideal_rate_per_min"] == 52.5
    assert event["before"]["stop_threshold_s"] == 180 and event["after"]["stop_threshold_s"] == 240
    sql(rt, "UPDATE stops_state SET dirty_from = NULL")
    edit = {k: v for k, v in r.json().items() if k != "id"} | {"active": False, "name": "L2 parada"}
    r = admin.put(f"{BASE}/lines/{row_id}", json=edit)
    assert r.status_code == 200 and r.json()["active"] is False
    assert sql(rt, "SELECT name, active FROM `lines` WHERE code = 'L2'") == [("L2 parada", 0)]
    assert dirty(rt) == {"L1": None, "L2": None, "L3": None, "L4": None}  # same thresholds: no re-analysis


def test_invalid_changes_and_viewers_are_refused_and_change_nothing(auth_world, admin, engine_app):
    rt = auth_world.runtime
    viewer = TestClient(engine_app)
    viewer.headers.update(auth_world.auth("vic"))
    l1, body = line_body(admin, "L1")
    snacks = sql(rt, "SELECT id FROM areas WHERE code = 'snacks'")[0][0]
    new_line = {"code": "L9", "name": "Nueva", "area": "snacks", "ideal_rate_per_min": 10}
    shift = {"code": "extra", "name": "Extra", "start": "07:00", "end": "09:00"}
    before = snapshot(rt)
    cases = [
        ("post", "lines", {**new_line, "area": "nada"}, 422, "unknown area 'nada'"),
        ("post", "lines", {**new_line, "micro_stop_s": 200, "stop_threshold_s": 100}, 422,
         "micro_stop_s must be smaller than stop_threshold_s"),
        ("post", "lines", {**new_line, "ideal_rate_per_min": 0}, 422, "greater than 0"),
        ("post", "lines", {**new_line, "code": "con espacio"}, 422, "pattern"),
        ("post", "lines", {**new_line, "color": "rojo"}, 422, "Extra inputs"),
        ("post", "lines", {**new_line, "code": "L1"}, 409, "ya existe una línea"),
        ("put", f"lines/{l1}", {**body, "code": "L1b"}, 409, "no se puede cambiar"),
        ("put", f"lines/{l1}", {**body, "ideal_rate_per_min": "70"}, 422, "valid number"),
        ("put", f"lines/{l1}", {**body, "active": 1}, 422, "valid boolean"),
        ("put", f"lines/{l1}", {**body, "no_data_after_s": 10}, 422, "no_data_after_s must be larger"),
        ("put", "lines/999999", body, 404, "no existe"),
        ("put", "lines/99999999999999999999", body, 422, ""),
        ("post", "products", {"code": "P9", "name": "P", "nominal_weight_g": 5, "lines": ["L7"]}, 422,
         "unknown line 'L7'"),
        ("post", "products", {"code": "P9", "name": "P", "nominal_weight_g": 5, "lines": ["L1", "L1"]}, 422,
         "listed twice"),
        ("post", "products", {"code": "P9", "name": "P", "nominal_weight_g": -5}, 422, "greater than 0"),
        ("post", "shifts", {**shift, "start": "25:00"}, 422, "HH:MM"),
        ("post", "shifts", {**shift, "end": "07:00"}, 422, "start and end must differ"),
        ("post", "shifts", {**shift, "weekdays": [0, 8]}, 422, "weekdays"),
        ("post", "shifts", {**shift, "code": "manana"}, 409, "ya existe un turno"),
        ("post", "closed-days", {"date": "2026-12-25", "name": "Navidad otra vez"}, 409, "ya está cerrado"),
        ("post", "closed-days", {"date": "2026-13-01", "name": "x"}, 422, "date"),
        ("post", "closed-days", {"date": 0, "name": "x"}, 422, "AAAA-MM-DD"),
        ("post", "closed-days", {"date": "2026-12-01", "name": "x", "lines": ["L7"]}, 422, "unknown line"),
        ("delete", f"areas/{snacks}", None, 409, "L1, L2"),
        ("post", "areas", {"code": "snacks", "name": "Otra"}, 409, "ya existe un área"),
    ]
    for method, path, payload, status, message in cases:
        kwargs = {} if payload is None else {"json": payload}
        r = getattr(admin, method)(f"{BASE}/{path}", **kwargs)
        assert r.status_code == status, (method, path, r.text)
        assert message in r.text, (method, path, r.text)
    for path in ("lines", "areas", "products", "shifts", "closed-days"):
        assert viewer.get(f"{BASE}/{path}").status_code == 403
        assert viewer.post(f"{BASE}/{path}", json={"code": "x", "name": "x"}).status_code == 403
    assert viewer.put(f"{BASE}/lines/{l1}", json={**body, "ideal_rate_per_min": 1}).status_code == 403
    assert snapshot(rt) == before
    assert events(rt) == []


def test_new_line_gets_its_table_and_products_follow_lines(auth_world, admin):
    rt = auth_world.runtime
    created = admin.post(f"{BASE}/lines", json={"code": "L5", "name": "Línea 5", "area": "envasado",
                                               "ideal_rate_per_min": 20})
    assert created.status_code == 201, created.text
    l5 = created.json()["id"]
    assert l5 == line_id(rt, "L5") and created.json()["stop_threshold_s"] == 120
    with rt.db.tenant("acme") as conn:
        assert inspect(conn).has_table(f"detections_{l5}")
    product = admin.post(f"{BASE}/products", json={"code": "MP-NEW", "name": "Caja nueva",
                                                   "nominal_weight_g": 500, "lines": ["L4", "L5"]})
    assert product.status_code == 201, product.text
    pid = product.json()["id"]
    assert sorted(sql(rt, f"SELECT l.code FROM line_products lp JOIN `lines` l ON l.id = lp.line_id "
                          f"WHERE lp.product_id = {pid}")) == [("L4",), ("L5",)]
    assert pid in rt.meta.get("acme").products and rt.meta.get("acme").products_by_line[l5] == {pid}
    edit = {k: v for k, v in product.json().items() if k != "id"} | {"lines": ["L5"], "active": False}
    assert admin.put(f"{BASE}/products/{pid}", json=edit).json() == {"id": pid, **edit}
    assert sql(rt, f"SELECT COUNT(*) FROM line_products WHERE product_id = {pid}") == [(1,)]
    rt.meta.invalidate()
    assert pid not in rt.meta.get("acme").products  # inactive: out of filters and enrichment
    assert [(e["what"], e["op"]) for e in events(rt)] == [("line", "create"), ("product", "create"),
                                                          ("product", "update")]
    assert events(rt)[2]["before"]["lines"] == ["L4", "L5"] and events(rt)[2]["after"]["lines"] == ["L5"]


def test_areas_add_rename_delete(auth_world, admin):
    rt = auth_world.runtime
    created = admin.post(f"{BASE}/areas", json={"code": "horno", "name": "Horneado"})
    assert created.status_code == 201
    area = created.json()["id"]
    renamed = admin.put(f"{BASE}/areas/{area}", json={"code": "horno", "name": "Hornos"})
    assert renamed.json()["name"] == "Hornos"
    assert sql(rt, "SELECT name FROM areas WHERE code = 'horno'") == [("Hornos",)]
    assert admin.delete(f"{BASE}/areas/{area}").status_code == 204
    assert sql(rt, "SELECT COUNT(*) FROM areas WHERE code = 'horno'") == [(0,)]
    assert [(e["op"], e["before"], e["after"]) for e in events(rt)] == [
        ("create", None, {"code": "horno", "name": "Horneado"}),
        ("update", {"code": "horno", "name": "Horneado"}, {"code": "horno", "name": "Hornos"}),
        ("delete", {"code": "horno", "name": "Hornos"}, None)]


def test_shift_and_calendar_changes_mark_the_affected_periods(auth_world, admin):
    rt = auth_world.runtime
    version = sql(rt, "SELECT value FROM meta_state WHERE `key` = 'metadata_version'")[0][0]
    closed = admin.post(f"{BASE}/closed-days", json={"date": "2026-11-27", "name": "Mantenimiento",
                                                     "lines": ["L3"]})
    assert closed.status_code == 201, closed.text
    assert closed.json() == [{"id": closed.json()[0]["id"], "date": "2026-11-27", "name": "Mantenimiento",
                              "line": "L3"}]
    assert dirty(rt) == {"L1": None, "L2": None, "L3": "2026-11-27", "L4": None}
    assert rt.meta.get("acme").is_closed(line_id(rt, "L3"), date(2026, 11, 27))
    sql(rt, "UPDATE stops_state SET dirty_from = NULL")
    assert admin.delete(f"{BASE}/closed-days/{closed.json()[0]['id']}").status_code == 204
    assert dirty(rt) == {"L1": None, "L2": None, "L3": "2026-11-27", "L4": None}
    plant_wide = admin.post(f"{BASE}/closed-days", json={"date": "2026-11-20", "name": "Puente"})
    assert plant_wide.json()[0]["line"] is None
    assert set(dirty(rt).values()) == {"2026-11-20"}

    sql(rt, "UPDATE stops_state SET dirty_from = NULL")
    shifts = admin.get(f"{BASE}/shifts").json()
    noche = next(s for s in shifts if s["code"] == "noche")
    assert noche["weekdays"] == [1, 2, 3, 4, 5, 6] and noche["breaks"][0]["start"] == "02:00"
    edit = {k: v for k, v in noche.items() if k != "id"} | {
        "breaks": [{"name": "Cena", "start": "01:30", "end": "02:00"}], "weekdays": [1, 2, 3, 4, 5]}
    r = admin.put(f"{BASE}/shifts/{noche['id']}", json=edit)
    assert r.status_code == 200 and r.json()["breaks"] == edit["breaks"]
    assert sql(rt, f"SELECT name, start_time, end_time FROM shift_breaks WHERE shift_id = {noche['id']}") == [
        ("Cena", "01:30", "02:00")]
    assert sql(rt, f"SELECT weekdays FROM shifts WHERE id = {noche['id']}") == [("12345",)]
    assert set(dirty(rt).values()) == {"1970-01-01"}
    sql(rt, "UPDATE stops_state SET dirty_from = NULL")
    assert admin.delete(f"{BASE}/shifts/{noche['id']}").status_code == 204
    assert sql(rt, f"SELECT COUNT(*) FROM shift_breaks WHERE shift_id = {noche['id']}") == [(0,)]
    assert set(dirty(rt).values()) == {"1970-01-01"}
    assert sorted(s.code for s in rt.meta.get("acme").shifts.values()) == ["manana", "tarde"]
    assert sql(rt, "SELECT value FROM meta_state WHERE `key` = 'metadata_version'")[0][0] == version + 5
    assert [(e["what"], e["op"]) for e in events(rt)] == [
        ("closed_day", "create"), ("closed_day", "delete"), ("closed_day", "create"), ("shift", "update"),
        ("shift", "delete")]


def test_targets_stop_reasons_and_nominal_weights_reach_cache_and_rollups(auth_world, admin):
    rt = auth_world.runtime
    target = {"line": "L2", "shift": "manana", "units_per_shift": 15000}
    created = admin.post(f"{BASE}/targets", json=target)
    assert created.status_code == 201, created.text
    assert created.json() == {"id": created.json()["id"], "product": None, "oee": None, **target}
    for body, status, reason in (
            (target, 409, "ya hay un objetivo"),
            ({**target, "shift": "siesta"}, 422, "unknown shift 'siesta'"),
            ({"line": "L2", "product": "EX-999", "oee": 0.5}, 422, "unknown product 'EX-999'"),
            ({"line": "L2", "shift": "tarde"}, 422, "a target needs units_per_shift or oee"),
            ({"line": "L2", "shift": "tarde", "oee": 1.5}, 422, "less than or equal to 1")):
        r = admin.post(f"{BASE}/targets", json=body)
        assert r.status_code == status and reason in r.text, (body, r.text)
    tid = created.json()["id"]
    moved = admin.put(f"{BASE}/targets/{tid}", json={"line": "L2", "product": "EX-060", "oee": 0.75})
    assert moved.status_code == 200, moved.text
    assert sql(rt, "SELECT p.code, g.shift_id, g.oee, g.units_per_shift FROM targets g "
                   "JOIN products p ON p.id = g.product_id") == [("EX-060", None, 0.75, None)]
    l2 = line_id(rt, "L2")
    assert any(g.product_id is not None and g.oee == 0.75 for g in rt.meta.get("acme").targets
               if g.line_id == l2)
    assert admin.delete(f"{BASE}/targets/{moved.json()['id']}").status_code == 204
    assert sql(rt, "SELECT COUNT(*) FROM targets WHERE product_id IS NOT NULL") == [(0,)]

    reason = admin.post(f"{BASE}/stop-reasons", json={"code": "humo", "name": "Humo en sala"})
    assert reason.status_code == 201
    assert admin.post(f"{BASE}/stop-reasons", json={"code": "humo", "name": "x"}).status_code == 409
    off = admin.put(f"{BASE}/stop-reasons/{reason.json()['id']}", json={"code": "humo", "name": "Humo",
                                                                       "active": False})
    assert off.json()["active"] is False
    assert sql(rt, "SELECT name, active FROM stop_reasons WHERE code = 'humo'") == [("Humo", 0)]

    pid = sql(rt, "SELECT id FROM products WHERE code = 'PF-045'")[0][0]
    l1 = line_id(rt, "L1")
    with rt.db.tenant("acme") as conn:  # one rolled-up bucket of PF-045 on L1, rolled up to today
        conn.execute(insert(t.rollups).values(
            line_id=l1, bucket_start=datetime(2026, 11, 10, 10, 0), product_id=pid, status=0, units=3,
            weight_n=3, weight_sum_g=135.0, weight_sumsq_g2=6075.0, under_nominal_n=0, giveaway_sum_g=0.0,
            hist="[]"))
        conn.execute(delete(t.rollups_state))
        conn.execute(insert(t.rollups_state).values(line_id=l1, rolled_until=datetime(2026, 11, 18)))
    product = next(p for p in admin.get(f"{BASE}/products").json() if p["code"] == "PF-045")
    body = {k: v for k, v in product.items() if k != "id"} | {"nominal_weight_g": 46.5}
    assert admin.put(f"{BASE}/products/{pid}", json=body).status_code == 200
    with rt.db.tenant("acme") as conn:
        marks = conn.execute(select(t.rollups_state.c.dirty_from, t.rollups_state.c.dirty_until)).all()
    assert [tuple(m) for m in marks] == [(datetime(2026, 11, 10, 10, 0), datetime(2026, 11, 10, 10, 5))]
    assert [(e["what"], e["op"]) for e in events(rt)] == [
        ("target", "create"), ("target", "update"), ("target", "delete"), ("stop_reason", "create"),
        ("stop_reason", "update"), ("product", "update")]
