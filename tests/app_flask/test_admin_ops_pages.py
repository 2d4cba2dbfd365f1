"""The operations, import and audit pages and the saved views routes, through Flask (test client).

Upload and view outcomes are checked against the tables (plain SQL).
"""

from __future__ import annotations

import io
import re
import time

import pytest
from sqlalchemy import select, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from tests.browser_utils import flask_login
from tests.upload_support import GOOD, ONE_BAD, line_count

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).


def login(flask_app, auth_world, username):
    client = flask_app.test_client()
    assert flask_login(client, "acme", username, auth_world.password).status_code == 302
    page = client.get("/account/password").get_data(as_text=True)
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client


@pytest.fixture
def admin(auth_world, flask_app):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    flask_app.config["RATELIMIT_ENABLED"] = False
    return login(flask_app, auth_world, "ana")


def upload(client, body: str, line="L1"):
    return client.post("/admin/importar", content_type="multipart/form-data", data={
        "csrf_token": client.csrf, "linea": line, "archivo": (io.BytesIO(body.encode()), "turno.csv")})


def final_state(client, location: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        html = client.get(location + "/estado").get_data(as_text=True)
        if "hx-trigger" not in html:
            return html
        time.sleep(0.05)
    raise AssertionError("the import never finished")


def test_upload_pages_show_progress_and_bad_rows(auth_world, admin):
    rt = auth_world.runtime
    form = admin.get("/admin/importar").get_data(as_text=True)
    assert '<option value="L1">' in form and 'enctype="multipart/form-data"' in form
    r = upload(admin, ONE_BAD)
    assert r.status_code == 302 and "/admin/importar/" in r.location
    html = final_state(admin, r.location)
    assert 'data-status="rejected"' in html and "línea 6: product_code desconocido" in html
    assert line_count(rt) == 0
    done = final_state(admin, upload(admin, GOOD).location)
    assert 'data-status="done"' in done and 'value="100"' in done and "4 filas importadas" in done
    assert line_count(rt) == 4
    history = admin.get("/admin/importar").get_data(as_text=True)
    assert history.count("turno.csv") == 2
    r = upload(admin, GOOD, line="L9")
    assert r.status_code == 422 and "no existe" in r.get_data(as_text=True)
    no_csrf = admin.post("/admin/importar", content_type="multipart/form-data",
                         data={"linea": "L1", "archivo": (io.BytesIO(GOOD.encode()), "x.csv")})
    assert no_csrf.status_code == 400
    assert admin.get(f"/admin/importar/{2**63}").status_code == 422
    assert line_count(rt) == 4


@pytest.mark.settings(upload_max_bytes=2048)
def test_the_upload_page_has_its_own_body_limit(auth_world, admin):
    assert upload(admin, GOOD + "2026-11-18T09:00:01,PF-045,45,ok\n" * 20).status_code == 302
    assert upload(admin, GOOD + "2026-11-18T09:00:01,PF-045,45,ok\n" * 200).status_code == 413
    big_form = {"csrf_token": admin.csrf, "x": "y" * 4000}
    assert admin.post("/admin/operaciones/ejecutar", data=big_form).status_code != 413


@pytest.mark.clock
def test_operations_page_and_run_now(auth_world, admin):
    rt = auth_world.runtime
    page = admin.get("/admin/operaciones").get_data(as_text=True)
    assert 'data-job="gap-analysis"' in page and 'data-line="L1"' in page and "Ejecutar ahora" in page
    assert ("Sin particiones" in page) == (rt.db.central_engine.dialect.name == "sqlite")
    r = admin.post("/admin/operaciones/ejecutar", data={"csrf_token": admin.csrf, "trabajo": "gap-analysis"})
    assert r.status_code == 302 and "ejecutado=gap-analysis" in r.location
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with rt.db.central() as conn:
            status = conn.execute(text("SELECT status FROM job_runs WHERE job_id = 'gap-analysis'")).scalar()
        if status not in (None, "running"):
            break
        time.sleep(0.05)
    assert status == "ok"
    page = admin.get("/admin/operaciones").get_data(as_text=True)
    assert 'data-status="ok"' in page
    r = admin.post("/admin/operaciones/ejecutar", data={"csrf_token": admin.csrf, "trabajo": "nada"})
    assert r.status_code == 422 and "Ese trabajo no existe." in r.get_data(as_text=True)


def test_audit_search_filters_events(auth_world, admin):
    admin.post("/admin/operaciones/ejecutar", data={"csrf_token": admin.csrf, "trabajo": "partitions"})
    found = admin.get("/account/audit?q=job_run").get_data(as_text=True)
    assert "partitions" in found and "login_ok" not in found
    assert "login_ok" in admin.get("/account/audit?q=LOGIN").get_data(as_text=True)
    assert "Sin eventos." in admin.get("/account/audit?q=100%25_").get_data(as_text=True)


@pytest.mark.clock
def test_saved_view_save_open_and_start(auth_world, admin, flask_app):
    rt = auth_world.runtime
    lid = rt.meta.get("acme").line_by_code("L2").id
    vic = login(flask_app, auth_world, "vic")
    query = f"fecha=ayer&lineas={lid}&ignorado=1"
    r = vic.post("/vistas", data={"csrf_token": vic.csrf, "nombre": "Extrusados ayer", "consulta": query,
                                  "compartida": "1"})
    assert r.status_code == 302
    with rt.db.tenant("acme") as conn:
        view_id, shared, filters = conn.execute(text("SELECT id, shared, filters FROM saved_views")).one()
    assert not shared and '"ignorado"' not in str(filters)
    opened = vic.get(f"/vistas/{view_id}")
    assert opened.status_code == 302
    assert f"lineas={lid}" in opened.location and "fecha=ayer" in opened.location
    dash = vic.get(opened.location).get_data(as_text=True)
    assert "Extrusados ayer" in dash and f'data-view-id="{view_id}" class="is-current"' in dash
    assert vic.post(f"/vistas/{view_id}/inicio", data={"csrf_token": vic.csrf}).status_code == 302
    start = vic.get("/")
    assert start.status_code == 302 and start.location.endswith(f"/vistas/{view_id}")
    assert vic.get("/?predeterminado=1").status_code == 200
    assert admin.get("/").status_code == 200, "another user's start view is not mine"
    with rt.db.tenant("acme") as conn:
        conn.execute(text("UPDATE saved_views SET filters = :f"), {"f": '{"lineas": ["987654"]}'})
    broken = vic.get(f"/vistas/{view_id}")
    assert "vista_invalida=1" in broken.location
    page = vic.get(broken.location)
    assert page.status_code == 200 and "ya no es válida" in page.get_data(as_text=True)
    r = vic.post("/vistas", data={"csrf_token": vic.csrf, "nombre": "Mala", "consulta": "lineas=987654"})
    assert r.status_code == 422
    assert vic.post(f"/vistas/{view_id}/borrar", data={"csrf_token": vic.csrf}).status_code == 302
    assert vic.get("/").status_code == 200


def test_filter_preview_renders_the_filter_or_why_it_would_not_load(auth_world, admin):
    rt = auth_world.runtime
    with rt.db.tenant("acme") as conn:
        before = conn.execute(text("SELECT * FROM Filters ORDER BY id")).all()
        names = sorted(conn.execute(select(t.lines.c.name)).scalars())

    def preview(**fields):
        r = admin.post("/admin/filtros/vista-previa", data={"csrf_token": admin.csrf, **fields})
        assert r.status_code == 200
        return r.get_data(as_text=True)

    html = preview(class_name="LineFilter", param_name="otras_lineas", label="Otras líneas", config_json="{}")
    assert 'data-param="otras_lineas"' in html and "Otras líneas" in html
    assert sorted(re.findall(r"<span>([^<]+)</span>", html)) == names
    html = preview(class_name="ToggleFilter", param_name="solo_rech", label="Sólo rechazos",
                   **{"cfg.effect": "solo_rechazos", "config_json": "{}"})
    assert 'data-param="solo_rech"' in html and 'type="checkbox"' in html
    assert "clase de filtro desconocida" in preview(class_name="os.system", param_name="x", label="x")
    assert "Así no se carga" in preview(class_name="LineFilter", param_name="Mal Param", config_json="{}")
    assert "JSON" in preview(class_name="LineFilter", param_name="ok", config_json="{mal")
    with rt.db.tenant("acme") as conn:
        assert conn.execute(text("SELECT * FROM Filters ORDER BY id")).all() == before
    assert admin.post("/admin/filtros/vista-previa", data={"class_name": "LineFilter"}).status_code == 400
