"""The /admin/planta pages: forms → engine API → tables (plain SQL); refusals shown, nothing saved."""

from __future__ import annotations

import pytest

from tests.admin_support import signed_in_admin
from tests.app_fastapi.test_admin_plant_api import snapshot, sql
from tests.app_flask.test_admin_pages import post


@pytest.fixture
def admin(auth_world, flask_app):
    return signed_in_admin(auth_world, flask_app, "/admin/planta")


def test_overview_and_shift_form_save_breaks_and_weekdays(auth_world, admin):
    rt = auth_world.runtime
    page = admin.get("/admin/planta").get_data(as_text=True)
    for text_ in ("Línea 1 · Papas fritas", "Galletitas", "Papas clásicas 45 g", "Refrigerio 02:00–02:20",
                  "Navidad", "lun mar mié jue vie sáb"):
        assert text_ in page, text_
    assert "<script>" not in page
    noche = sql(rt, "SELECT id FROM shifts WHERE code = 'noche'")[0][0]
    form = admin.get(f"/admin/planta/turnos/{noche}").get_data(as_text=True)
    assert 'value="22:00"' in form and 'value="Refrigerio"' in form and form.count('name="break_name"') == 3
    r = post(admin, "/admin/planta/turnos/guardar", {
        "id": str(noche), "code": "noche", "name": "Noche", "start": "22:00", "end": "06:00",
        "weekdays": ["1", "2", "3", "4", "5"], "break_name": ["Cena", "", "Mate"],
        "break_start": ["01:00", "", "04:00"], "break_end": ["01:30", "", "04:10"]})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert sql(rt, f"SELECT weekdays FROM shifts WHERE id = {noche}") == [("12345",)]
    breaks = sql(rt, f"SELECT name, start_time, end_time FROM shift_breaks WHERE shift_id = {noche}")
    assert sorted(breaks) == [("Cena", "01:00", "01:30"), ("Mate", "04:00", "04:10")]


def test_refusals_are_shown_and_nothing_is_saved(auth_world, admin):
    rt = auth_world.runtime
    before = snapshot(rt)
    l1 = sql(rt, "SELECT id FROM `lines` WHERE code = 'L1'")[0][0]
    line = {"id": str(l1), "code": "L1", "name": "Línea 1", "area": "snacks", "ideal_rate_per_min": "60",
            "micro_stop_s": "200", "stop_threshold_s": "120", "active": "1"}
    r = post(admin, "/admin/planta/lineas/guardar", line)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "micro_stop_s must be smaller than stop_threshold_s" in body
    assert 'value="200"' in body  # the admin's input is shown again
    r = post(admin, "/admin/planta/lineas/guardar", {**line, "micro_stop_s": "15", "ideal_rate_per_min": "x"})
    assert r.status_code == 422 and "Ritmo ideal (unidades por minuto): " in r.get_data(as_text=True)
    r = post(admin, "/admin/planta/productos/guardar", {"code": "L1", "name": "P", "nominal_weight_g": "1",
                                                        "lines": ["L9"]})
    assert r.status_code == 422 and "unknown line &#39;L9&#39;" in r.get_data(as_text=True)
    r = post(admin, "/admin/planta/feriados/guardar", {"date": "2026-12-25", "name": "Otra"})
    assert r.status_code == 409 and "ya está cerrado" in r.get_data(as_text=True)
    snacks = sql(rt, "SELECT id FROM areas WHERE code = 'snacks'")[0][0]
    r = post(admin, f"/admin/planta/areas/{snacks}/borrar", {})
    assert r.status_code == 302 and "error=" in r.headers["Location"]
    assert "L1, L2" in admin.get(r.headers["Location"]).get_data(as_text=True)
    assert admin.post("/admin/planta/areas/guardar", data={"code": "x", "name": "x"}).status_code == 400
    assert snapshot(rt) == before


def test_deactivate_and_closed_day_round_trip(auth_world, admin):
    rt = auth_world.runtime
    pid = sql(rt, "SELECT id FROM products WHERE code = 'PF-045'")[0][0]
    assert post(admin, f"/admin/planta/productos/{pid}/activo", {"activo": "0"}).status_code == 302
    assert sql(rt, f"SELECT active FROM products WHERE id = {pid}") == [(0,)]
    assert sql(rt, f"SELECT COUNT(*) FROM line_products WHERE product_id = {pid}") == [(1,)]
    r = post(admin, "/admin/planta/feriados/guardar", {"date": "2026-11-30", "name": "Inventario",
                                                       "lines": ["L3", "L4"]})
    assert r.status_code == 302
    rows = sql(rt, "SELECT c.id, l.code FROM closed_days c JOIN `lines` l ON l.id = c.line_id "
                   "WHERE c.name = 'Inventario' ORDER BY l.code")
    assert [code for _, code in rows] == ["L3", "L4"]
    assert post(admin, f"/admin/planta/feriados/{rows[0][0]}/borrar", {}).status_code == 302
    assert sql(rt, "SELECT COUNT(*) FROM closed_days WHERE name = 'Inventario'") == [(1,)]
    reason = sql(rt, "SELECT id FROM stop_reasons WHERE code = 'limpieza'")[0][0]
    assert post(admin, f"/admin/planta/motivos/{reason}/activo", {"activo": "0"}).status_code == 302
    assert sql(rt, "SELECT name, active FROM stop_reasons WHERE code = 'limpieza'") == [("Limpieza", 0)]
    form = admin.get("/admin/planta/objetivos/nuevo").get_data(as_text=True)
    assert '<option value="">todos los turnos</option>' in form and '<option value="EX-060">' in form
    r = post(admin, "/admin/planta/objetivos/guardar", {"line": "L3", "shift": "", "product": "GD-150",
                                                        "units_per_shift": "900", "oee": ""})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert sql(rt, "SELECT g.shift_id, g.units_per_shift, g.oee FROM targets g JOIN products p "
                   "ON p.id = g.product_id WHERE p.code = 'GD-150'") == [(None, 900, None)]
