"""Acceptance in headless Chromium: a viewer saves the applied filters as a view, opens it from
the header menu with those filters, and makes it the start page that `/` opens."""

from __future__ import annotations

import pytest

from cli.defaults import install_tenant_defaults
from tests.browser_utils import (
    LiveServer,
    apply_filters,
    choose_lines,
    combined_app,
    launch_chromium,
    logged_in_page,
)
from tests.dashboard_support import write_manifest
from tests.provider_server import closed_port_url

pytestmark = [pytest.mark.browser, pytest.mark.clock]


def test_a_saved_view_opens_with_its_filters(auth_world, tmp_path):
    from playwright.sync_api import sync_playwright

    rt = auth_world.runtime
    install_tenant_defaults(rt, "acme", replace=True)
    rt.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", closed_port_url())
    line = rt.meta.get("acme").line_by_code("L2").id
    with LiveServer(combined_app(rt), threads=6) as live, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = logged_in_page(browser, live.url, "acme", "vic", auth_world.password)
        page.select_option('select[name="fecha"]', "ayer")
        choose_lines(page, [line])
        apply_filters(page)
        assert f"lineas={line}" in page.url

        page.click("#views-menu summary")
        page.fill("#view-name", "Extrusados de ayer")
        page.click("button:has-text('Guardar vista')")
        page.wait_for_url("**vista=*")

        page.goto(live.url + "/?predeterminado=1")
        assert page.input_value('select[name="fecha"]') != "ayer"
        page.click("#views-menu summary")
        page.click("#views-menu a:has-text('Extrusados de ayer')")
        page.wait_for_url(f"**lineas={line}**")
        assert page.input_value('select[name="fecha"]') == "ayer"
        checked = page.eval_on_selector_all('.ms[data-param="lineas"] input[type=checkbox]:checked',
                                            "els => els.map(e => Number(e.value))")
        assert checked == [line]
        assert page.locator("#views-menu li.is-current a").text_content() == "Extrusados de ayer"

        page.click("#views-menu summary")
        page.click("#views-menu button:has-text('Usar como inicio')")
        page.wait_for_url("**vista=*")
        page.goto(live.url + "/")
        page.wait_for_url(f"**lineas={line}**")
        assert page.input_value('select[name="fecha"]') == "ayer"
        assert page.errors == [], page.errors
        browser.close()
