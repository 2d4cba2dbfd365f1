"""The HTTP edge of both apps: Passenger mode under two WSGI servers (an empty CONTENT_LENGTH is
no length), one rule for trusted Host names in the pages and the engine (one log line per
refusal), JSON nested past MAX_JSON_DEPTH refused with a 422 at every entry point, and integer
body fields that take what their OpenAPI `type: integer` says."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi.testclient import TestClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app_fastapi.main import create_app as create_engine
from app_fastapi.wsgi import LazyEngineWSGI
from app_flask.engine_client import EngineClient
from app_flask.factory import create_app as create_pages
from cli.defaults import install_tenant_defaults
from identity.ingest_keys import create_key
from identity.json_depth import TOO_DEEP, json_too_deep
from identity.request_limits import MAX_JSON_DEPTH
from tests.admin_support import signed_in_admin
from tests.servers import asgi_server, wsgi_server
from wsgi import PathDispatcher


@pytest.fixture
def backend() -> str:
    """The edge answers before any database work: SQLite is enough."""
    return "sqlite"


GOOD_HOSTS = ("[::1]", "[::1]:8000", "LOCALHOST", "LocalHost:8000", "127.0.0.1:8000")
BAD_HOSTS = ("evil.com", "evil.com:8000", "[::2]", "localhost.evil.com", "local host")


def _passenger_app(runtime) -> PathDispatcher:
    engine = LazyEngineWSGI(lambda: create_engine(runtime))
    return PathDispatcher(engine, lambda: create_pages(runtime, engine=EngineClient(wsgi_app=engine)))


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- Passenger mode under waitress and wsgiref -----------------------------------------------

def test_passenger_mode_reads_an_empty_content_length_as_none(auth_world, runtime, wsgi_kind):
    login = {"tenant": "acme", "username": "ana", "password": auth_world.password}
    with wsgi_server(_passenger_app(runtime), kind=wsgi_kind) as base:
        health = httpx.get(base + "/api/v1/health")
        token = httpx.post(base + "/api/v1/auth/token", json=login)
        filters = httpx.get(base + "/api/v1/filters",
                            headers={"Authorization": f"Bearer {token.json().get('access_token')}"})
        big_token = httpx.post(base + "/api/v1/auth/token", json={**login, "pad": "x" * 100_000})
        big_login = httpx.post(base + "/login", data={"pad": "x" * 100_000})
    assert health.status_code == 200, health.text
    assert token.status_code == 200, token.text
    assert filters.status_code == 200, filters.text
    assert big_token.status_code == 413 and big_token.json()["error"] == "too_large"
    assert big_login.status_code == 413


def test_passenger_app_refuses_by_content_length_without_reading_the_body(auth_world, runtime):
    """Under real Passenger the web server buffers the body; the app must not read it too."""

    class Unreadable:
        def read(self, *_args: object) -> bytes:
            raise AssertionError("the body was read")

        readline = read

    app = _passenger_app(runtime)
    for path in ("/login", "/api/v1/auth/token", "/api/v1/dashboard/run", "/api/v1/ingest/detections"):
        environ = EnvironBuilder(method="POST", path=path, content_type="application/json").get_environ()
        environ.update({"wsgi.input": Unreadable(), "CONTENT_LENGTH": str(100 * 1024 * 1024)})
        body, status, _headers = run_wsgi_app(app, environ, buffered=True)
        assert status.startswith("413"), (path, status, b"".join(body)[:200])


# --- trusted hosts: one rule for both apps ---------------------------------------------------

def _status_by_host(base: str, path: str) -> dict[str, int]:
    hosts = GOOD_HOSTS + BAD_HOSTS
    return {host: httpx.get(base + path, headers={"Host": host}).status_code for host in hosts}


def _expected() -> dict[str, int]:
    return {**dict.fromkeys(GOOD_HOSTS, 200), **dict.fromkeys(BAD_HOSTS, 400)}


def test_pages_and_engine_agree_on_trusted_hosts(runtime, wsgi_kind):
    with wsgi_server(_passenger_app(runtime), kind=wsgi_kind) as base:
        assert _status_by_host(base, "/health") == _expected(), "pages"
        assert _status_by_host(base, "/api/v1/health") == _expected(), "engine under Passenger"
    with asgi_server(create_engine(runtime)) as base:
        assert _status_by_host(base, "/api/v1/health") == _expected(), "engine under uvicorn"


@pytest.mark.settings(trusted_hosts="Camet.Example.com, .plants.example, [::1]")
def test_configured_names_match_case_ports_subdomains_and_ipv6(runtime):
    pages, engine = create_pages(runtime).test_client(), TestClient(create_engine(runtime))
    cases = {"camet.example.com": 200, "CAMET.EXAMPLE.COM:443": 200, "a.plants.example": 200,
             "plants.example": 200, "[0:0::1]:8443": 200, "localhost": 400, "example.com": 400,
             "xplants.example": 400}
    for host, status in cases.items():
        assert pages.get("/health", headers={"Host": host}).status_code == status, ("pages", host)
        assert engine.get("/api/v1/health", headers={"Host": host}).status_code == status, ("engine", host)


def test_an_untrusted_host_costs_one_log_line(runtime, caplog):
    caplog.set_level(logging.INFO)
    with wsgi_server(_passenger_app(runtime)) as base:
        httpx.get(base + "/health")  # build both apps first: their start-up may log
        httpx.get(base + "/api/v1/health")
        for path in ("/login", "/api/v1/health"):
            caplog.clear()
            response = httpx.get(base + path, headers={"Host": "evil.com"})
            assert response.status_code == 400
            assert len(caplog.records) == 1, [r.getMessage() for r in caplog.records]
            record = caplog.records[0]
            assert record.exc_info is None and "evil.com" in record.getMessage()
            assert len(caplog.text) < 300, caplog.text


# --- JSON nesting ----------------------------------------------------------------------------

def test_depth_scan_counts_structure_not_strings():
    assert not json_too_deep(_nested(MAX_JSON_DEPTH))
    assert json_too_deep(_nested(MAX_JSON_DEPTH + 1))
    assert json_too_deep("[" * 100_000), "never closed: a parser recurses before it fails"
    assert not json_too_deep('{"a": "' + "[" * 500 + '"}'), "brackets inside strings do not nest"
    assert not json_too_deep('["\\"[[[[", {"b": "\\\\"}]' * 3)
    fooled = "[" + '"]",[' * 40 + "1" + ',"["]' * 40 + "]"  # strings that would cancel brackets
    assert json_too_deep(fooled)
    assert not json_too_deep("]]]" + "[" * MAX_JSON_DEPTH), "malformed and shallow: the parser says why"
    ndjson = "\n".join(['{"a": [1]}'] * 1000)
    assert not json_too_deep(ndjson) and json_too_deep(ndjson + "\n" + _nested(40))


@pytest.fixture
def ingest_key(auth_world) -> str:
    rt = auth_world.runtime
    meta = rt.meta.get("acme")
    return create_key(rt.db, rt.settings, tenant="acme", name="gw-depth", lines=["L1"],
                      known_lines=set(meta.lines_by_code))[1]


def test_the_engine_refuses_deep_json_at_every_entry_point(auth_world, ingest_key):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    deep, ok = _nested(5_000), _nested(MAX_JSON_DEPTH - 3)
    admin = auth_world.auth("ana")
    gateway = {"Authorization": f"Bearer {ingest_key}"}
    calls = [
        ("/api/v1/ingest/detections", gateway, "application/json", '{"detections": [{"ts": %s}]}'),
        ("/api/v1/ingest/detections", gateway, "application/x-ndjson", '{"ts": %s}\n{"ts": 1}'),
        ("/api/v1/ingest/detections", gateway, None, "%s"),
        ("/api/v1/admin/filters", admin, "application/json",
         '{"class_name": "ToggleFilter", "param_name": "hondo", "label": "X", "config": {"a": %s}}'),
        ("/api/v1/admin/widgets", admin, "application/json",
         '{"class_name": "KpiWidget", "title": "X", "config": {"a": %s}}'),
        ("/api/v1/admin/filters/preview", admin, "application/json",
         '{"class_name": "ToggleFilter", "param_name": "hondo", "label": "X", "config": {"a": %s}}'),
        ("/api/v1/dashboard/run", admin, "application/json", '{"filters": {"lineas": %s}}'),
        ("/api/v1/views", admin, "application/json", '{"name": "v", "filters": {"lineas": %s}}'),
    ]
    with asgi_server(create_engine(auth_world.runtime)) as base:
        for path, auth, ctype, template in calls:
            headers = {**auth, **({"Content-Type": ctype} if ctype else {})}
            refused = httpx.post(base + path, content=template % deep, headers=headers, timeout=30)
            assert refused.status_code == 422, (path, refused.status_code, refused.text[:200])
            assert refused.json()["message"] == TOO_DEEP
            passed = httpx.post(base + path, content=template % ok, headers=headers, timeout=30)
            assert passed.status_code < 500 and passed.json().get("message") != TOO_DEEP, (path, passed.text)
        csv = "line,ts,product_code,weight_g,status\n" + "L1,[[[[[[[[[[,x,1,ok\n" * 10
        as_csv = httpx.post(base + "/api/v1/ingest/detections", content=csv * 10,
                            headers={**gateway, "Content-Type": "text/csv"})
        assert as_csv.json().get("message") != TOO_DEEP, "a CSV body is not JSON"


@pytest.fixture
def admin_pages(auth_world, flask_app):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    return signed_in_admin(auth_world, flask_app, "/admin")


def test_the_admin_forms_refuse_deep_expert_json(admin_pages):
    forms = [
        ("/admin/filtros/guardar", {"class_name": "ToggleFilter", "label": "X", "param_name": "hondo"}),
        ("/admin/widgets/guardar", {"class_name": "KpiWidget", "title": "X"}),
        ("/admin/filtros/vista-previa", {"class_name": "ToggleFilter", "label": "X", "param_name": "hondo"}),
    ]
    for path, fields in forms:
        for expert in ({"expert": "1"}, {}):
            data = {"csrf_token": admin_pages.csrf, **fields, **expert,
                    "config_json": '{"a": ' + _nested(20_000) + "}"}
            response = admin_pages.post(path, data=data, headers={"HX-Request": "true"})
            assert response.status_code in (200, 422), (path, response.status_code)
            assert TOO_DEEP in response.get_data(as_text=True), path


# --- integer fields as the schema says -------------------------------------------------------

def test_layout_ids_take_integral_numbers_as_json_schema_does(auth_world):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    client = TestClient(create_engine(auth_world.runtime))
    client.headers.update(auth_world.auth("ana"))
    layout = client.get("/api/v1/dashboards").json()[0]["id"]
    widget = client.get("/api/v1/admin/widgets").json()[0]["id"]
    for value, accepted in ((float(layout), True), (layout, True), (str(layout), False), (True, False),
                            (layout + 0.5, False)):
        body = {"filters": {}, "layout_id": value}
        for path in ("/api/v1/dashboard/run", f"/api/v1/exports/widgets/{widget}"):
            status = client.post(path, json=body).status_code
            assert (status == 200) is accepted, (path, value, status)
        saved = client.post("/api/v1/views", json={"name": f"v {value!r}", **body}).status_code
        assert (saved == 201) is accepted, (value, saved)


def test_ingest_batch_fields_have_the_types_its_schema_says(auth_world, ingest_key):
    row = {"line": "L1", "ts": "2026-11-18T15:30:00", "product_code": "PF-045", "weight_g": 45.3,
           "status": "ok"}
    client = TestClient(create_engine(auth_world.runtime))
    client.headers.update({"Authorization": f"Bearer {ingest_key}"})
    schema = client.get("/api/openapi.json").json()["paths"]["/api/v1/ingest/detections"]["post"]
    assert "application/json" in schema["requestBody"]["content"], "the body is documented"
    for field, value in (("batch_id", {"a": 1}), ("batch_id", True), ("line", ["L1"]), ("tenant", 5)):
        response = client.post("/api/v1/ingest/detections", json={field: value, "detections": [row]})
        assert response.status_code == 422 and field in response.json()["message"], (field, response.text)
    body = {"batch_id": 17, "line": None, "detections": [row]}
    accepted = client.post("/api/v1/ingest/detections", json=body)
    assert accepted.status_code == 200, accepted.text


def test_plant_admin_integers_take_integral_numbers_too(auth_world):
    client = TestClient(create_engine(auth_world.runtime))
    client.headers.update(auth_world.auth("ana"))
    base = "/api/v1/admin/plant/lines"
    row = next(r for r in client.get(base).json() if r["code"] == "L2")
    body = {k: v for k, v in row.items() if k != "id"}
    saved = client.put(f"{base}/{row['id']}", json={**body, "micro_stop_s": 30.0, "stop_threshold_s": 240.0})
    assert saved.status_code == 200 and saved.json()["stop_threshold_s"] == 240, saved.text
    for value in ("30", True, 30.5):
        refused = client.put(f"{base}/{row['id']}", json={**body, "micro_stop_s": value})
        assert refused.status_code == 422, (value, refused.text)
