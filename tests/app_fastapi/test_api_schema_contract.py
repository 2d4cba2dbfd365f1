"""The API fuzz, as fast tests: the engine answers what its OpenAPI document says.

Each test pins one kind of mismatch the schemathesis run (bench/fuzz_api.py) found: a wrong
method on a fixed path answered as if it were an id, loosely typed input accepted, plant times
without an offset, a state clash answered 422 or not documented.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from core.timeutil import zone
from filters import filter_registry
from tests.admin_support import admin_api_client
from tests.app_fastapi.test_admin_api import admin_events, snapshot, sql_rows
from tests.query_support import write_detections
from widgets import widget_registry


@pytest.fixture
def admin(auth_world, engine_app):
    """A client authenticated as ana (admin of acme, which has the default dashboard)."""
    return admin_api_client(auth_world, engine_app)


@pytest.mark.parametrize("kind", ["filters", "widgets"])
def test_wrong_method_on_order_is_405_not_an_id_error(auth_world, admin, kind):
    before = snapshot(auth_world.runtime)
    for method in ("GET", "PATCH", "DELETE", "PUT"):
        r = admin.request(method, f"/api/v1/admin/{kind}/order", json={"ids": []})
        assert r.status_code == 405, (method, r.text)
        assert r.headers["allow"] == "POST" and r.json()["error"] == "method_not_allowed"
    ids = [row["id"] for row in admin.get(f"/api/v1/admin/{kind}").json()]
    assert admin.patch(f"/api/v1/admin/{kind}/{ids[0]}", json={"active": True}).status_code == 200
    assert admin.patch(f"/api/v1/admin/{kind}/x1", json={"active": True}).status_code in (404, 405)
    assert snapshot(auth_world.runtime) == before


def test_every_integer_path_parameter_matches_digits_only(admin):
    """A name where an integer id goes is no such path (404/405), never a 422 about the id."""
    checked = 0
    for path, operations in admin.get("/api/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            ids = [p["name"] for p in operation.get("parameters", [])
                   if p["in"] == "path" and p["schema"].get("type") == "integer"]
            if not ids:
                continue
            named = path
            for name in ids:
                named = named.replace("{" + name + "}", "reasons")
            r = admin.request(method.upper(), named, json={})
            assert r.status_code in (404, 405), (method, named, r.status_code, r.text)
            checked += 1
    assert checked >= 10
    stop_reasons = admin.patch("/api/v1/stops/reasons", json={"reason": None})
    assert stop_reasons.status_code == 405 and stop_reasons.headers["allow"] == "GET"
    assert admin.delete("/api/v1/users/ana").status_code == 404
    assert admin.delete(f"/api/v1/users/{2**63}").status_code == 422


def test_ids_stop_where_every_json_client_reads_them_exactly(admin):
    limit = admin.get("/api/openapi.json").json()["components"]["schemas"]["OrderIn"]["properties"]["ids"]
    assert limit["items"]["maximum"] == 2**53 - 1 == float(2**53 - 1)
    for ids in ([2**53], [2**63 + 191]):
        r = admin.post("/api/v1/admin/widgets/order", json={"ids": ids})
        assert r.status_code == 422 and r.json()["details"][0]["field"] == "ids.0"


@pytest.mark.parametrize("kind", ["filters", "widgets"])
def test_a_patch_that_changes_nothing_answers_the_row(auth_world, admin, kind):
    rt = auth_world.runtime
    before = snapshot(rt)
    row = admin.get(f"/api/v1/admin/{kind}").json()[0]
    for body in ({}, {"label": None, "title": None, "config": None, "active": None}):
        r = admin.patch(f"/api/v1/admin/{kind}/{row['id']}", json=body)
        assert r.status_code == 200 and r.json() == row, r.text
    assert snapshot(rt) == before


def test_loosely_typed_input_is_refused(auth_world, admin):
    rt = auth_world.runtime
    before = snapshot(rt)
    widget = sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")[0][0]
    for path, body in ((f"/api/v1/admin/widgets/{widget}", {"active": 0}),
                       ("/api/v1/admin/filters", {"class_name": "ToggleFilter", "param_name": "t",
                                                  "label": "T", "active": "false"}),
                       ("/api/v1/admin/dashboards", {"name": "Cero", "is_default": 0})):
        method = admin.patch if "widgets/" in path else admin.post
        r = method(path, json=body)
        assert r.status_code == 422, (path, r.text)
    assert snapshot(rt) == before and admin_events(rt) == []
    for query in ("start=0", "start=20261118", "end=2026-1-8"):
        r = admin.get(f"/api/v1/demo/erp/plans?{query}")
        assert r.status_code == 422 and r.json()["error"] == "validation", query
    plans = admin.get("/api/v1/demo/erp/plans?start=2026-11-18").json()["plans"]
    assert {p["date"] for p in plans} == {"2026-11-18"}


def test_state_clashes_are_409_and_documented(auth_world, admin):
    rt = auth_world.runtime
    ids = [r[0] for r in sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")]
    before = snapshot(rt)
    r = admin.post("/api/v1/admin/widgets/order", json={"ids": ids + ids[:1]})
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "ids"
    name = sql_rows(rt, "SELECT name FROM dashboard_layouts")[0][0]
    made = admin.post("/api/v1/admin/dashboards", json={"name": "Otro"}).json()
    assert admin.put(f"/api/v1/admin/dashboards/{made['id']}", json={"name": name}).status_code == 409
    admin.delete(f"/api/v1/admin/dashboards/{made['id']}")
    assert snapshot(rt) == before
    first = admin.post("/api/v1/ingest-keys", json={"name": "gw", "lines": ["L1"]})
    assert first.status_code == 201
    again = admin.post("/api/v1/ingest-keys", json={"name": "gw", "lines": ["L2"]})
    assert again.status_code == 409 and "ya existe" in again.json()["message"]
    with rt.db.central() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ingest_keys WHERE name = 'gw'")).scalar() == 1
    paths = admin.get("/api/openapi.json").json()["paths"]
    for method, path in (("delete", "/admin/dashboards/{layout_id}"),
                         ("put", "/admin/dashboards/{layout_id}"), ("post", "/admin/dashboards"),
                         ("post", "/admin/filters/order"),
                         ("delete", "/admin/widgets/{row_id}"), ("patch", "/admin/filters/{row_id}"),
                         ("post", "/ingest-keys"), ("post", "/admin/jobs/{name}/run")):
        assert "409" in paths["/api/v1" + path][method]["responses"], (method, path)


def test_schema_names_the_classes_and_patterns_the_server_accepts(admin):
    schemas = admin.get("/api/openapi.json").json()["components"]["schemas"]
    filters = schemas["FilterRowIn"]["properties"]
    assert set(filters["class_name"]["enum"]) == set(filter_registry.names())
    widget_names = schemas["WidgetRowPatch"]["properties"]["class_name"]["enum"]
    assert set(widget_names) == {*widget_registry.names(), None}
    assert filters["param_name"]["pattern"] == "^[a-z][a-z0-9_]{0,63}$"
    refused = admin.post("/api/v1/admin/filters", json={"class_name": "ToggleFilter", "param_name": "9x",
                                                        "label": "X"})
    assert refused.status_code == 422 and "minúsculas" in refused.json()["message"]


@pytest.mark.clock
def test_line_status_times_carry_the_plant_offset(auth_world, admin):
    rt = auth_world.runtime
    tz = zone(rt.meta.get("acme").timezone)
    now = rt.clock.now_utc().astimezone(tz).replace(tzinfo=None, microsecond=0)
    write_detections(rt, "acme", "L1", [now - timedelta(seconds=40), now - timedelta(seconds=7.5)])
    body = admin.get("/api/v1/lines/status").json()
    with rt.db.tenant("acme") as conn:
        table = f"detections_{rt.meta.get('acme').line_by_code('L1').id}"
        last = conn.execute(text(f"SELECT MAX(ts) FROM {table}")).scalar()
    last = datetime.fromisoformat(str(last))
    l1 = next(line for line in body["lines"] if line["code"] == "L1")
    got = datetime.fromisoformat(l1["last_detection"])
    assert got.utcoffset() == tz.utcoffset(last) and got.replace(tzinfo=None) == last
    stamped = datetime.fromisoformat(body["now"])
    assert stamped.utcoffset() is not None and stamped == rt.clock.now_utc().replace(microsecond=0)
    for line in body["lines"]:
        for key in ("since", "last_detection"):
            assert line[key] is None or datetime.fromisoformat(line[key]).utcoffset() is not None


@pytest.mark.clock
def test_the_plausibility_window_carries_the_plant_offset(auth_world, admin):
    """The plant settings' accepted range is plant time with its offset (a full date-time)."""
    rt = auth_world.runtime
    body = admin.get("/api/v1/admin/plant/settings").json()
    lo, hi = datetime.fromisoformat(body["accepted_from"]), datetime.fromisoformat(body["accepted_until"])
    assert lo.utcoffset() is not None and hi.utcoffset() is not None
    assert lo < rt.clock.now_utc() < hi
    put = admin.put("/api/v1/admin/plant/settings", json={"history_start": "2026-01-05"}).json()
    assert datetime.fromisoformat(put["accepted_from"]).replace(tzinfo=None) == datetime(2026, 1, 5)
    # A day the schema allows but the plant's clock rules out is a clash (409), not a bad body;
    # the schema itself carries the 1970 bound, so a body it allows is never a 422.
    future = admin.put("/api/v1/admin/plant/settings", json={"history_start": "7640-05-01"})
    assert future.status_code == 409 and "after today" in future.json()["message"]
    schema = admin.get("/api/openapi.json").json()
    field = schema["components"]["schemas"]["PlantSettingsBody"]["properties"]["history_start"]
    assert field["pattern"].startswith("^(19[7-9]")
    assert "409" in schema["paths"]["/api/v1/admin/plant/settings"]["put"]["responses"]
    assert admin.put("/api/v1/admin/plant/settings", json={"history_start": "1969-12-31"}).status_code == 422
