"""The Flask dashboard views with the in-process engine: page, HTMX apply, CSRF, language."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from app_flask.dashboard_form import filters_to_query, form_to_filters, panel_state
from tests.browser_utils import flask_login
from tests.dashboard_support import write_manifest
from tests.provider_server import closed_port_url
from widgets.defaults import DEMO_LAYOUT

DEFS = [
    {"param": "fecha", "kind": "date_range", "form": {"type": "date_range", "custom": "personalizado"}},
    {"param": "lineas", "kind": "multiselect", "form": {"type": "multi"}},
    {"param": "incluir_rechazos", "kind": "toggle", "form": {"type": "bool"}},
    {"param": "peso", "kind": "numeric_range", "form": {"type": "range"}},
]


@pytest.fixture
def client(runtime, demo_tenant, tmp_path):
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app

    runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", closed_port_url())
    app = create_app(runtime, engine=EngineClient(wsgi_app=ASGIMiddleware(create_engine(runtime))))
    app.config["RATELIMIT_ENABLED"] = False
    with app.test_client() as c:
        assert flask_login(c, "demo", "demo", "demo-camet").status_code == 302
        yield c


def test_form_and_url_round_trip():
    form = MultiDict([("fecha", "personalizado"), ("fecha.start", "2026-01-01"),
                      ("fecha.end", "2026-01-07"), ("lineas", "1"), ("lineas", "3"),
                      ("incluir_rechazos", "0"), ("incluir_rechazos", "1"),
                      ("peso.min", "40"), ("peso.max", ""), ("ignored", "x")])
    raw = form_to_filters(DEFS, form)
    assert raw == {"fecha": {"preset": "personalizado", "start": "2026-01-01", "end": "2026-01-07"},
                   "lineas": ["1", "3"], "incluir_rechazos": "1", "peso": {"min": "40", "max": None}}
    query = filters_to_query(DEFS, raw)
    assert form_to_filters(DEFS, MultiDict(query)) == raw
    preset_only = form_to_filters(DEFS, MultiDict([("fecha", "hoy"), ("fecha.start", "2026-01-01")]))
    assert preset_only == {"fecha": {"preset": "hoy"}}


def test_panel_state_shows_inclusive_end_day():
    state = panel_state(DEFS, {"fecha": {"preset": "personalizado", "start": "2026-01-01T00:00:00",
                                         "end": "2026-01-08T00:00:00"}, "lineas": [2], "peso": {"min": 40.0}})
    assert state["fecha"]["start"] == "2026-01-01" and state["fecha"]["end"] == "2026-01-07"
    assert state["lineas"]["selected"] == {2}
    assert state["peso"] == {"min": "40", "max": ""}


def test_page_renders_every_widget_in_spanish_and_english(client):
    html = client.get("/").get_data(as_text=True)
    assert "Aplicar filtros" in html
    assert len(re.findall(r'<article class="card ', html)) == len(DEMO_LAYOUT)
    assert 'class="chart-data"' in html and "<canvas" in html
    assert "is-error" in html  # the FX provider is down in this fixture
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Apply filters" in english and "Aplicar filtros" not in english
    assert client.get("/idioma/en?next=/").status_code == 302


def test_apply_needs_csrf_and_returns_partials(client):
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    data = {"fecha": "ultimos_7_dias", "lineas": ["1"]}
    no_csrf = client.post("/dashboard/apply", data=data, headers={"HX-Request": "true"})
    assert no_csrf.status_code in (400, 403)
    ok = client.post("/dashboard/apply", data=data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert ok.status_code == 200
    body = ok.get_data(as_text=True)
    assert 'data-status="ok"' in body and 'data-query="fecha=ultimos_7_dias&amp;lineas=1"' in body
    assert body.count('<article class="card ') == len(DEMO_LAYOUT)
    bad = client.post("/dashboard/apply", data={"lineas": ["999"]},
                      headers={"HX-Request": "true", "X-CSRFToken": token})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'data-field="lineas"' in text and "999" in text and "<article" not in text


def test_filters_json(client):
    body = client.get("/dashboard/filters").get_json()
    assert [f["param"] for f in body["filters"]][:2] == ["fecha", "lineas"]


def test_pages_need_login(runtime, demo_tenant):
    from app_flask.factory import create_app

    with create_app(runtime).test_client() as c:
        assert c.get("/").status_code == 302
        assert c.post("/dashboard/apply", headers={"HX-Request": "true"}).status_code in (400, 401, 403)
