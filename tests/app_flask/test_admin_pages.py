"""The /admin pages and the users page: forms → engine API → tables (plain SQL), refusals shown."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from cli.defaults import install_tenant_defaults
from core import schema_tenant as t
from tests.admin_support import signed_in_admin
from tests.app_fastapi.test_admin_api import snapshot, sql_rows


@pytest.fixture
def admin(auth_world, flask_app):
    install_tenant_defaults(auth_world.runtime, "acme", replace=True)
    return signed_in_admin(auth_world, flask_app, "/admin")


def post(client, path, data):
    return client.post(path, data={"csrf_token": client.csrf, **data})


def test_filter_form_is_generated_from_the_schema_and_saves(auth_world, admin):
    page = admin.get("/admin/filtros/nuevo?clase=ToggleFilter").get_data(as_text=True)
    assert 'name="cfg.effect"' in page and '<option value="solo_rechazos"' in page
    assert 'type="checkbox" id="cfg-default" name="cfg.default"' in page
    r = post(admin, "/admin/filtros/guardar", {"class_name": "ToggleFilter", "label": "Sólo rechazos",
                                               "param_name": "solo_rech", "active": "1",
                                               "cfg.effect": "solo_rechazos", "config_json": "{}"})
    assert r.status_code == 302
    rows = sql_rows(auth_world.runtime, "SELECT label, config FROM Filters WHERE param_name = 'solo_rech'")
    assert rows[0][0] == "Sólo rechazos"
    assert '"solo_rechazos"' in rows[0][1] and '"default": false' in rows[0][1]
    listing = admin.get("/admin/filtros").get_data(as_text=True)
    assert "Sólo rechazos" in listing and "Administración" in listing


def test_refusals_are_shown_next_to_the_form_and_nothing_is_saved(auth_world, admin):
    rt = auth_world.runtime
    before = snapshot(rt)
    r = post(admin, "/admin/filtros/guardar", {"class_name": "os.system", "label": "x", "param_name": "x"})
    assert r.status_code == 422 and "no está registrada" in r.get_data(as_text=True)
    r = post(admin, "/admin/widgets/guardar", {"class_name": "KpiWidget", "title": "x", "expert": "1",
                                               "config_json": '{"metric": "litros"}'})
    assert r.status_code == 422 and "metric" in r.get_data(as_text=True)
    r = post(admin, "/admin/widgets/guardar", {"class_name": "KpiWidget", "title": "x",
                                               "config_json": "{mal"})
    assert r.status_code == 422 and "JSON" in r.get_data(as_text=True)
    acme_max = sql_rows(rt, "SELECT MAX(id) FROM Widget_catalog")[0][0]
    with rt.db.tenant("zeta") as conn:
        for n in range(acme_max + 2):  # zeta's ids run past acme's
            foreign = conn.execute(insert(t.widget_catalog).values(
                class_name="KpiWidget", title=f"z{n}", config={}, sort_order=n)).inserted_primary_key[0]
    r = post(admin, "/admin/tableros/guardar", {"name": "Robado", "widget_id": str(foreign),
                                                "incluir": str(foreign)})
    assert r.status_code == 422 and f"el widget {foreign} no existe" in r.get_data(as_text=True)
    no_csrf = admin.post("/admin/widgets/guardar", data={"class_name": "KpiWidget", "title": "x"})
    assert no_csrf.status_code == 400
    assert snapshot(rt) == before


def test_layout_editor_saves_order_width_and_default(auth_world, admin):
    rt = auth_world.runtime
    ids = [r[0] for r in sql_rows(rt, "SELECT id FROM Widget_catalog ORDER BY sort_order")]
    editor = admin.get("/admin/tableros/nuevo").get_data(as_text=True)
    assert editor.count('name="widget_id"') == len(ids) and "<script>" not in editor
    form = {"name": "Calidad", "is_default": "1", "widget_id": [str(ids[3]), str(ids[0]), str(ids[1])],
            "incluir": [str(ids[0]), str(ids[3])], f"w_{ids[3]}": "8", "csrf_token": admin.csrf}
    r = admin.post("/admin/tableros/guardar", data=form)
    assert r.status_code == 302
    rows = sql_rows(rt, "SELECT name, is_default, items FROM dashboard_layouts ORDER BY id")
    assert [(n, bool(d)) for n, d, _ in rows] == [("Producción", False), ("Calidad", True)]
    assert rows[1][2].replace(" ", "") == f'[{{"widget_id":{ids[3]},"w":8}},{{"widget_id":{ids[0]}}}]'
    page = admin.get("/").get_data(as_text=True)
    assert 'id="tablero-select"' in page and "Calidad" in page
    first = sql_rows(rt, "SELECT id FROM dashboard_layouts WHERE name = 'Producción'")[0][0]
    chosen = admin.get(f"/?tablero={first}").get_data(as_text=True)
    assert f'name="tablero" value="{first}"' in chosen and f'href="/?tablero={first}"' in chosen
    assert admin.get("/?tablero=99999").status_code == 200, "an unknown dashboard is a message, not a crash"


def test_users_page_actions_and_last_admin_guard(auth_world, admin):
    rt = auth_world.runtime
    me, vic = auth_world.ids["ana"], auth_world.ids["vic"]
    r = post(admin, f"/account/users/{me}/rol", {"role": "viewer"})
    assert r.status_code == 409 and "sí mismo" in r.get_data(as_text=True)
    r = post(admin, f"/account/users/{me}/borrar", {})
    assert r.status_code == 409
    assert post(admin, f"/account/users/{vic}/rol", {"role": "admin"}).status_code == 302
    assert post(admin, f"/account/users/{vic}/activo", {"activo": "0"}).status_code == 302
    assert post(admin, f"/account/users/{vic}/clave", {"password": "otra-clave-larga-1"}).status_code == 302
    with rt.db.central() as conn:
        role, active = conn.execute(text("SELECT role, active FROM users WHERE id = :i"), {"i": vic}).one()
    assert (role, bool(active)) == ("admin", False)
    r = post(admin, f"/account/users/{auth_world.ids['zed']}/activo", {"activo": "0"})
    assert r.status_code == 404
