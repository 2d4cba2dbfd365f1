"""Acceptance in headless Chromium: an admin adds a widget row, puts it on a NEW named dashboard,
and a viewer picks that dashboard in the header and sees the widget after applying filters, with
no restart: on the same server and on a second server process over the same databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from core import schema_tenant as t
from core.settings import PROJECT_ROOT
from identity.users import create_user
from tests.browser_utils import LiveServer, apply_filters, browser_login, combined_app, launch_chromium
from tests.dashboard_support import write_manifest
from tests.helpers import suite_now
from tests.provider_server import closed_port_url
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.clock]
VIEWER_PASSWORD = "visor-de-prueba-123"
TITLE = "Kilos del turno noche"


def second_process(runtime):
    """`manage.py serve` in its own processes on the same databases (no shared memory at all)."""
    port, api_port = free_port(), free_port()
    s = runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMET_")}
    env.update(CAMET_VAR_DIR=str(s.var_dir), CAMET_CENTRAL_DB_URL=s.central_db_url or "", CAMET_ENV="test",
               CAMET_SECRET_KEY="second-process-secret-" + "s" * 32, CAMET_CLOCK_START=suite_now(),
               CAMET_JWT_SECRET="second-process-jwt-" + "j" * 32, PYTHONPATH=str(PROJECT_ROOT),
               CAMET_EXTERNAL_APIS_FILE=str(s.external_apis_file))
    proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port), "--api-port",
                             str(api_port)], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline, out = time.monotonic() + 90, ""
    while "Press Ctrl-C" not in out and time.monotonic() < deadline and proc.poll() is None:
        out += proc.stdout.readline()
    assert "Press Ctrl-C" in out, out
    return proc, f"http://127.0.0.1:{port}"


def card_titles(page) -> list[str]:
    return page.eval_on_selector_all("#widget-grid > .card .card__title",
                                     "els => els.map(e => e.textContent)")


def test_new_dashboard_reaches_viewers_without_restart(runtime, demo_tenant, tmp_path):
    from playwright.sync_api import sync_playwright

    runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", closed_port_url())
    create_user(runtime.db, tenant="demo", username="visor", password=VIEWER_PASSWORD, role="viewer")
    with LiveServer(combined_app(runtime), threads=6) as live, sync_playwright() as pw:
        browser = launch_chromium(pw)
        admin = browser.new_context(locale="es-AR").new_page()
        browser_login(admin, live.url, "demo", "demo", "demo-camet")
        admin.click("text=Administración")
        admin.goto(live.url + "/admin/widgets/nuevo")
        admin.select_option("#clase", "KpiWidget")
        admin.click("text=Cambiar clase")
        admin.fill("#f-title", TITLE)
        admin.select_option("#cfg-metric", "kg")
        admin.click("button:has-text('Guardar')")
        admin.wait_for_url("**/admin/widgets")
        assert TITLE in admin.inner_text("table")

        admin.goto(live.url + "/admin/tableros/nuevo")
        admin.fill("#d-name", "Turno noche")
        first = admin.locator(".layout-item").first
        first_title = first.locator(".layout-item__pick").inner_text()
        first.locator("input[name=incluir]").check()
        mine = admin.locator(".layout-item", has_text=TITLE)
        mine.locator("input[name=incluir]").check()
        mine.locator("select").select_option("6")
        for _ in range(admin.locator(".layout-item").count()):  # to the top, from the keyboard
            mine.locator("button[data-move=up]").focus()
            admin.keyboard.press("Enter")
        assert admin.locator(".layout-item").first.inner_text().startswith("⠿") and \
            TITLE in admin.locator(".layout-item").first.inner_text()
        admin.click("button:has-text('Guardar tablero')")
        admin.wait_for_selector("text=Tablero guardado.")
        with runtime.db.tenant("demo") as conn:
            layouts, catalog = t.dashboard_layouts, t.widget_catalog
            layout = conn.execute(select(layouts).where(layouts.c.name == "Turno noche")).one()
            row_id = conn.execute(select(catalog.c.id).where(catalog.c.title == TITLE)).scalar()
        assert layout.items[0] == {"widget_id": row_id, "w": 6} and len(layout.items) == 2

        viewer = browser.new_context(locale="es-AR").new_page()
        browser_login(viewer, live.url, "demo", "visor", VIEWER_PASSWORD)
        assert viewer.locator("text=Administración").count() == 0
        viewer.select_option("#tablero-select", label="Turno noche")
        viewer.click(".picker button")
        viewer.wait_for_url(f"**tablero={layout.id}**")
        apply_filters(viewer)
        assert card_titles(viewer)[0] == TITLE and first_title.split(" ")[0] in " ".join(card_titles(viewer))
        assert f"tablero={layout.id}" in viewer.url

        proc, other = second_process(runtime)
        try:
            elsewhere = browser.new_context(locale="es-AR").new_page()
            browser_login(elsewhere, other, "demo", "visor", VIEWER_PASSWORD)
            elsewhere.goto(f"{other}/?tablero={layout.id}")
            apply_filters(elsewhere)
            assert card_titles(elsewhere)[0] == TITLE
            assert elsewhere.locator("#tablero-select option:checked").inner_text() == "Turno noche"
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        browser.close()
