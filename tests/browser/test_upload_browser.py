"""Acceptance in headless Chromium: a CSV with one bad row uploaded through the page imports
nothing and lists the row; a good CSV imports with the progress bar reaching 100 %. The same
admin session then checks the filter form's live preview (HTMX, Alpine components working)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cli.defaults import install_tenant_defaults
from tests.browser_utils import LiveServer, combined_app, launch_chromium, logged_in_page
from tests.upload_support import ONE_BAD, line_count

pytestmark = [pytest.mark.browser, pytest.mark.clock]
GOOD_ROWS = 20_000


def good_csv() -> str:
    start = datetime(2026, 11, 16, 6, 0)
    rows = [f"{(start + timedelta(seconds=2 * i)).isoformat()},PF-045,{45 + i % 7 / 10},ok"
            for i in range(GOOD_ROWS)]
    return "ts,product_code,weight_g,status\n" + "\n".join(rows) + "\n"


def submit(page, base: str, path) -> None:  # noqa: ANN001
    page.goto(base + "/admin/importar")
    page.select_option("#import-line", "L1")
    page.set_input_files("#import-file", str(path))
    page.click("button:has-text('Importar')")
    page.wait_for_url("**/admin/importar/*")


def test_upload_bad_then_good_csv_through_the_page(auth_world, tmp_path):
    from playwright.sync_api import sync_playwright

    rt = auth_world.runtime
    install_tenant_defaults(rt, "acme", replace=True)
    bad, good = tmp_path / "malo.csv", tmp_path / "bueno.csv"
    bad.write_text(ONE_BAD)
    good.write_text(good_csv())
    with LiveServer(combined_app(rt), threads=6) as live, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = logged_in_page(browser, live.url, "acme", "ana", auth_world.password)

        submit(page, live.url, bad)
        page.wait_for_selector("#import-state[data-status=rejected]", timeout=60_000)
        assert page.inner_text("#import-bad-rows") == "línea 6: product_code desconocido"
        assert "no se importó nada" in page.inner_text("#import-message")
        assert line_count(rt) == 0

        submit(page, live.url, good)
        page.wait_for_selector("#import-state[data-status=done]", timeout=120_000)
        assert page.get_attribute("#import-progress", "value") == "100"
        assert page.inner_text("#import-percent") == "100 %"
        assert f"{GOOD_ROWS} de {GOOD_ROWS} filas" in page.inner_text("#import-state")
        assert line_count(rt) == GOOD_ROWS

        page.goto(live.url + "/admin/filtros/nuevo?clase=LineFilter")  # the live preview, same session
        page.fill("#f-label", "Otras líneas")
        page.fill("#f-param_name", "otras_lineas")
        page.wait_for_selector('[data-role=preview-filter] fieldset[data-param="otras_lineas"]')
        assert page.text_content("#filter-preview legend") == "Otras líneas"
        page.fill("#f-param_name", "Mal Param")
        page.wait_for_selector("[data-role=preview-problem]")
        assert page.errors == [], page.errors
        browser.close()
