"""A new filter kind and a new widget shape are one Python file plus one template each.

The sample plugin (tests/plugin_sample/) is loaded from its files, its templates folder is
handed to the Flask factory, and rows naming the new classes are added to the tenant: nothing
else in the product changes, and both appear on the page and survive an HTMX apply.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update

from core import schema_tenant as t
from filters.base import filter_registry
from tests.browser_utils import flask_login
from tests.dashboard_support import data_days, line_ids, write_manifest
from tests.provider_server import closed_port_url
from widgets import widget_registry

PLUGIN = Path(__file__).parent.parent / "plugin_sample"


def _load(name: str):  # noqa: ANN202 - a module object
    """Import one plugin file by path, once per process (its classes register themselves)."""
    module_name = f"camet_plugin_sample_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, PLUGIN / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[module_name] = module
    return sys.modules[module_name]


@pytest.fixture
def plugin():
    filters_mod, widgets_mod = _load("observation_filter"), _load("gauge_widget")
    filter_registry.register(filters_mod.ObservationFilter)
    widget_registry.register(widgets_mod.GoodShareGaugeWidget)
    yield
    filter_registry.unregister(filters_mod.ObservationFilter)
    widget_registry.unregister(widgets_mod.GoodShareGaugeWidget)


@pytest.fixture
def client(runtime, demo_tenant, plugin, tmp_path):
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app

    runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", closed_port_url())
    with runtime.db.tenant(demo_tenant) as conn:
        conn.execute(insert(t.filters_table).values(
            class_name="ObservationFilter", param_name="nota", label="Nota", config={}, sort_order=80,
            active=True))
        gauge_id = conn.execute(insert(t.widget_catalog).values(
            class_name="GoodShareGaugeWidget", title="Unidades buenas", config={}, sort_order=95,
            active=True)).inserted_primary_key[0]
        layout = conn.execute(t.dashboard_layouts.select()).first()
        conn.execute(update(t.dashboard_layouts).where(t.dashboard_layouts.c.id == layout.id)
                     .values(items=[*layout.items, {"widget_id": gauge_id}]))
    engine = EngineClient(wsgi_app=ASGIMiddleware(create_engine(runtime)))
    app = create_app(runtime, engine=engine, template_dirs=[PLUGIN / "templates"])
    app.config["RATELIMIT_ENABLED"] = False
    with app.test_client() as c:
        assert flask_login(c, "demo", "demo", "demo-camet").status_code == 302
        yield c
    engine.close()


def _good_share(runtime, slug: str) -> float:
    """Share of non-reject units over every detection, by plain SQL over every line table."""
    good = total = 0
    with runtime.db.tenant(slug) as conn:
        for line_id in line_ids(runtime, slug):
            row = conn.execute(text(f"SELECT COUNT(*), SUM(CASE WHEN status = 0 THEN 1 ELSE 0 END) "
                                    f"FROM detections_{line_id}")).one()
            total += int(row[0])
            good += int(row[1] or 0)
    return round(100.0 * good / total, 2)


def test_new_kind_and_shape_appear_on_the_page(client, runtime, demo_tenant):
    first, last = data_days(runtime, demo_tenant)
    query = (f"?fecha=personalizado&fecha.start={first - timedelta(days=1)}"
             f"&fecha.end={last + timedelta(days=1)}&nota=turno+B")
    page = client.get("/" + query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    note = re.search(r'<textarea[^>]*data-plugin="observacion"[^>]*>([^<]*)</textarea>', html)
    assert note and note.group(1) == "turno B"
    card = re.search(r'<article class="card card--gauge[^>]*>', html)
    assert card and 'data-shape="gauge"' in card.group(0) and 'data-state="ok"' in card.group(0)
    value = re.search(r'<meter data-plugin="gauge"[^>]*value="([0-9.]+)"', html)
    assert value, "the gauge template rendered the widget"
    assert float(value.group(1)) == pytest.approx(_good_share(runtime, demo_tenant))
    assert "nota=turno+B" in html  # the new kind travels in the shareable URL


@pytest.mark.parametrize("backend", ["sqlite"])  # templates only: one backend is enough
def test_new_kind_falls_back_and_unknown_shape_uses_the_default(runtime, plugin):
    from app_flask.factory import create_app

    app = create_app(runtime)  # no plugin templates: the default partials take over
    widget = {"id": 1, "title": "x", "w": 4, "h": 1, "shape": "gauge", "data": {"value": 97.5},
              "error": None, "class": "GoodShareGaugeWidget", "source": "internal"}
    definition = {"param": "nota", "label": "Nota", "kind": "observacion", "form": {"type": "single"}}
    with app.test_request_context("/"):
        from flask import render_template

        from app_flask.views.dashboard import panel_fields

        card = render_template("partials/_widget.html", w=widget)
        panel = render_template("partials/_filter_panel.html", filters=[definition],
                                state={"nota": {"value": "abc"}}, field_errors=[], filter_problems=[],
                                panel_fields=panel_fields([definition]))
    assert 'data-shape="gauge"' in card and "97.5" in card and "<pre" in card
    assert 'name="nota"' in panel and 'value="abc"' in panel
