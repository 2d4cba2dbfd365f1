"""The Flask stops table (/paradas): reasons shown to everyone, the labelling form for supervisors
and admins (CSRF, through the engine), and a viewer's forged request refused by the engine; the
dashboard's CSV download links (shift report, one widget)."""

from __future__ import annotations

import csv
import io
import re
from html import unescape as html_unescape

import pytest
from sqlalchemy import select

from cli.defaults import TENANT_DEFAULTS
from core import schema_tenant as t
from identity.users import create_user
from ingest.dashboard_defaults import install_defaults
from ingest.plant_metadata import load_plant_text
from jobs.runs import run_by_hand
from tests import stops_dataset as ds
from tests.browser_utils import csrf_from, flask_login
from tests.stops_support import SLUG, build_stops_tenant

PASSWORD = "clave-de-prueba-123"
QUERY = "fecha=personalizado&fecha.start=2026-11-17&fecha.end=2026-11-18"
REASONS = "stop_reasons: [{code: limpieza, name: Limpieza}, {code: formato, name: Cambio de formato}]"


@pytest.fixture
def app(runtime, clock):
    from a2wsgi import ASGIMiddleware

    from app_fastapi.main import create_app as create_engine
    from app_flask.engine_client import EngineClient
    from app_flask.factory import create_app

    build_stops_tenant(runtime, clock)
    with runtime.db.tenant(SLUG) as conn:
        install_defaults(conn, TENANT_DEFAULTS)
    load_plant_text(runtime.db, SLUG, REASONS, today=ds.NOW.date())
    runtime.meta.invalidate(SLUG)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    for name, role in (("ana", "admin"), ("vera", "viewer")):
        create_user(runtime.db, tenant=SLUG, username=name, password=PASSWORD, role=role)
    flask = create_app(runtime, engine=EngineClient(wsgi_app=ASGIMiddleware(create_engine(runtime))))
    flask.config["RATELIMIT_ENABLED"] = False
    return flask


def _client(app, username: str):  # noqa: ANN001, ANN202
    client = app.test_client()
    assert flask_login(client, SLUG, username, PASSWORD).status_code == 302
    return client


def _labels(runtime) -> list[tuple]:
    c = t.stop_labels.c
    with runtime.db.tenant(SLUG) as conn:
        return [tuple(r) for r in conn.execute(select(c.stop_start, c.seg_start, c.reason_id)
                                               .order_by(c.seg_start))]


def _stop_id(html: str, start: str) -> int:
    marker = f'data-start="{start}"'
    head = html[:html.index(marker)]
    return int(head[head.rindex('data-stop-id="') + 14:].split('"')[0])


def test_admin_labels_and_splits_a_stop_through_the_form(app, runtime):
    client = _client(app, "ana")
    page = client.get(f"/paradas?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="stop-form"') == 8 and "Sin motivo" in html  # the 8 stop pieces of the dataset
    token = csrf_from(html)
    stop_id = _stop_id(html, "2026-11-18T06:00:00")

    path = f"/paradas/{stop_id}/motivo"
    assert client.post(path, data={"motivo": "limpieza"}).status_code == 400  # no CSRF header
    assert _labels(runtime) == []
    res = client.post(path, data={"motivo": "limpieza"}, headers={"X-CSRFToken": token})
    assert res.status_code == 200 and "Limpieza" in res.get_data(as_text=True)
    assert len(_labels(runtime)) == 1

    res = client.post(f"/paradas/{stop_id}/motivo", headers={"X-CSRFToken": token},
                      data={"motivo": "formato", "hasta": "2026-11-18T09:30", "motivo2": "limpieza"})
    body = res.get_data(as_text=True)
    assert res.status_code == 200 and "06:00–09:30" in body and "09:30–14:00" in body
    assert len(_labels(runtime)) == 2

    res = client.post(f"/paradas/{stop_id}/motivo", headers={"X-CSRFToken": token},
                      data={"motivo": "formato", "hasta": "2026-11-18T20:00", "motivo2": "limpieza"})
    assert res.status_code == 422 and "dentro de la parada" in res.get_data(as_text=True)
    assert len(_labels(runtime)) == 2
    shown = client.get(f"/paradas?{QUERY}").get_data(as_text=True)
    assert 'data-reason="formato"' in shown and 'data-reason="limpieza"' in shown


def test_viewer_sees_reasons_without_form_and_a_forged_post_is_refused(app, runtime):
    admin = _client(app, "ana")
    html = admin.get(f"/paradas?{QUERY}").get_data(as_text=True)
    stop_id = _stop_id(html, "2026-11-18T06:00:00")
    admin.post(f"/paradas/{stop_id}/motivo", data={"motivo": "limpieza"},
               headers={"X-CSRFToken": csrf_from(html)})

    viewer = _client(app, "vera")
    page = viewer.get(f"/paradas?{QUERY}").get_data(as_text=True)
    assert 'class="stop-form"' not in page and 'data-reason="limpieza"' in page
    assert "Solo un supervisor o un administrador" in page
    before = _labels(runtime)
    res = viewer.post(f"/paradas/{stop_id}/motivo", data={"motivo": "formato"},
                      headers={"X-CSRFToken": csrf_from(page)})
    assert res.status_code == 403 and "supervisor" in res.get_data(as_text=True)
    assert _labels(runtime) == before


def test_bad_filters_show_the_engine_message(app):
    client = _client(app, "ana")
    res = client.get("/paradas?fecha=personalizado&fecha.start=2026-11-18&fecha.end=2026-11-01")
    assert res.status_code == 422 and 'role="alert"' in res.get_data(as_text=True)


def test_csv_downloads_from_the_dashboard_links(app, runtime):
    client = _client(app, "vera")  # reading data is every role's right
    page = client.get(f"/?{QUERY}").get_data(as_text=True)
    shifts = re.search(r'href="([^"]+)" data-keeps-query="/exportar/turnos"\s+data-query-extra', page)
    assert shifts and QUERY.replace("&", "&amp;") in shifts.group(1)
    res = client.get(html_unescape(shifts.group(1)))
    assert res.status_code == 200 and res.data.startswith(b"\xef\xbb\xbf")
    assert 'filename="turnos-excel.csv"' in res.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["production_date", "shift", "shift_name"]
    assert [(r[0], r[1]) for r in rows[1:]][:3] == [("2026-11-17", "manana"), ("2026-11-17", "tarde"),
                                                    ("2026-11-17", "noche")]

    link = re.search(r'href="(/exportar/widget/(\d+)\?[^"]*)" data-role="export-csv"', page)
    assert link
    res = client.get(html_unescape(link.group(1)))
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(res.data.decode()))) != []
    assert client.get(f"/exportar/widget/999999?{QUERY}").status_code == 404
    assert client.get("/exportar/turnos?fecha=personalizado&fecha.start=2026-11-18&fecha.end=2026-11-01") \
        .status_code == 422
