"""Acceptance in headless Chromium: an admin edits a line's ideal rate on the plant page and sees
it saved (in the page, in the table by plain SQL, and in the metadata every dashboard reads)."""

from __future__ import annotations

import pytest

from tests.app_fastapi.test_admin_plant_api import sql
from tests.browser_utils import LiveServer, browser_login, combined_app, launch_chromium

pytestmark = pytest.mark.browser


def test_admin_edits_a_line_ideal_rate_in_the_page(auth_world):
    from playwright.sync_api import sync_playwright

    rt = auth_world.runtime
    with LiveServer(combined_app(rt)) as live, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_context(locale="es-AR").new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        browser_login(page, live.url, "acme", "ana", auth_world.password)
        page.click("text=Administración")
        page.click(".admin-links >> text=Planta")
        page.click("[aria-label='Editar L2']")
        assert page.input_value("#p-ideal_rate_per_min") == "40.0"
        assert page.get_attribute("#p-code", "readonly") is not None
        page.fill("#p-ideal_rate_per_min", "52.5")
        page.click("button:has-text('Guardar')")
        page.wait_for_url("**/admin/planta?guardado=*")
        assert "Cambio guardado" in page.inner_text("[role=status]")
        assert page.inner_text("#tabla-lineas tr[data-code=L2] .rate") == "52.5"
        assert errors == []
        browser.close()
    assert sql(rt, "SELECT ideal_rate_per_min FROM `lines` WHERE code = 'L2'") == [(52.5,)]
    rt.meta.invalidate()
    assert rt.meta.get("acme").lines_by_code["L2"].ideal_rate_per_min == 52.5
