"""The dashboard in headless Chromium: in-place chart updates, errors, empty state, URL state."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from babel.numbers import format_decimal

from core.settings import PROJECT_ROOT
from tests.browser_utils import (
    LiveServer,
    apply_filters,
    choose_lines,
    combined_app,
    launch_chromium,
    open_dashboard,
    wait_charts,
)
from tests.dashboard_support import ERP_WIDGETS, bearer, data_days, demo_principal, line_ids, write_manifest
from tests.provider_server import closed_port_url

pytestmark = pytest.mark.browser
ARTIFACTS = PROJECT_ROOT / "artifacts"

READ_WIDGETS = """() => Array.from(document.querySelectorAll('#widget-grid > .card')).map(card => {
  const canvas = card.querySelector('canvas.chart');
  const chart = canvas ? Chart.getChart(canvas) : null;
  const kpi = card.querySelector('[data-role=kpi-value]');
  return {
    id: Number(card.dataset.widgetId), cls: card.dataset.class,
    state: card.dataset.state, shape: card.dataset.shape,
    text: card.innerText,
    kpi: kpi ? kpi.textContent.trim() : null,
    chart: chart ? {type: chart.config.type, labels: chart.data.labels,
                    datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data}))} : null,
  };
})"""


@pytest.fixture
def live(runtime, demo_tenant, tmp_path):
    with LiveServer(combined_app(runtime), threads=6) as server:
        fx = f"{server.url}/api/v1/demo/fx-rates"
        runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", fx)
        yield server


@pytest.fixture
def page(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield open_dashboard(browser, live.url, "demo", "demo", "demo-camet",
                             viewport={"width": 1440, "height": 960}, console=False, responses=True)
        browser.close()


def engine_run(runtime, live, filters: dict) -> dict:
    headers = bearer(runtime, demo_principal(runtime))
    response = httpx.post(f"{live.url}/api/v1/dashboard/run", json={"filters": filters},
                          headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def expected_kpi(data: dict) -> str:
    decimals = data["decimals"]
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(data["value"], format=pattern, locale="es")


def assert_page_matches(page_widgets: list[dict], body: dict) -> None:
    assert [w["id"] for w in page_widgets] == [w["id"] for w in body["widgets"]]
    for shown, api in zip(page_widgets, body["widgets"], strict=True):
        if api["error"]:
            assert shown["state"] == "error"
            continue
        if api["data"].get("empty"):
            assert shown["state"] == "empty"
            continue
        assert shown["state"] == "ok"
        if api["shape"] == "kpi":
            assert shown["kpi"] == expected_kpi(api["data"]), api["title"]
        elif api["shape"] == "chart":
            assert shown["chart"]["type"] == api["data"]["type"]
            assert shown["chart"]["labels"] == api["data"]["data"]["labels"]
            sent = api["data"]["data"]["datasets"]
            assert shown["chart"]["datasets"] == [{"label": d["label"], "data": d["data"]} for d in sent]


def set_custom_range(page, start: date, end: date) -> None:
    page.select_option('select[name="fecha"]', "personalizado")
    page.fill('input[name="fecha.start"]', start.isoformat())
    page.fill('input[name="fecha.end"]', end.isoformat())


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_apply_redraws_in_place_and_matches_the_engine(runtime, demo_tenant, live, page, backend):
    first, last = data_days(runtime, demo_tenant)
    chosen = line_ids(runtime, demo_tenant)[:2]
    page.evaluate("() => { window.__canvases = Array.from(document.querySelectorAll('canvas.chart')); }")
    assert page.evaluate("() => window.__canvases.length") >= 4
    before = page.evaluate(READ_WIDGETS)

    set_custom_range(page, first, last)
    choose_lines(page, chosen)
    apply_filters(page)
    wait_charts(page)

    filters = {"fecha": {"preset": "personalizado", "start": first.isoformat(), "end": last.isoformat()},
               "lineas": [str(i) for i in chosen]}
    body = engine_run(runtime, live, filters)
    after = page.evaluate(READ_WIDGETS)
    assert_page_matches(after, body)
    assert after != before
    same = page.evaluate("""() => { const now = Array.from(document.querySelectorAll('canvas.chart'));
        return now.length === window.__canvases.length
            && now.every((c, i) => c === window.__canvases[i]); }""")
    assert same, "canvas elements were replaced instead of redrawn"
    assert "fecha=personalizado" in page.url and "lineas=" in page.url
    if backend == "sqlite":
        screenshot(page, "dashboard-desktop.png")

    page.reload()
    page.wait_for_selector("#widget-grid > .card")
    wait_charts(page)
    assert_page_matches(page.evaluate(READ_WIDGETS), body)

    page.go_back()
    page.wait_for_function("() => !location.search.includes('personalizado')")
    page.wait_for_selector("#widget-grid > .card")
    wait_charts(page)
    restored = page.evaluate(READ_WIDGETS)
    assert [w["kpi"] for w in restored] == [w["kpi"] for w in before]
    assert page.errors == [], page.errors


def test_invalid_input_shows_field_messages_and_runs_nothing(runtime, demo_tenant, live, page):
    before = page.evaluate(READ_WIDGETS)
    url = page.url
    set_custom_range(page, date(2026, 3, 10), date(2026, 3, 1))
    apply_filters(page)
    assert "anterior" in page.inner_text('[data-error-for="fecha"]')
    assert page.is_visible('fieldset[data-param="fecha"].is-invalid')
    assert page.evaluate(READ_WIDGETS) == before
    assert page.url == url

    page.select_option('select[name="fecha"]', "ultimos_7_dias")
    page.evaluate("""() => {
        const box = document.querySelector('.ms[data-param="lineas"] input[type=checkbox]');
        box.value = '999'; box.checked = true; }""")
    apply_filters(page)
    assert "999" in page.inner_text('[data-error-for="lineas"]')
    assert page.inner_text('[data-error-for="fecha"]') == ""
    assert page.evaluate(READ_WIDGETS) == before
    assert "Revise los filtros" in page.inner_text("#run-alert")


def test_external_api_down_is_an_error_card_alone(runtime, demo_tenant, live, page, tmp_path):
    write_manifest(tmp_path / "apis.yml", closed_port_url())
    apply_filters(page)
    widgets = page.evaluate(READ_WIDGETS)
    states = {w["id"]: w["state"] for w in widgets}
    fx = [w for w in widgets if w["cls"] == "ExchangeRateWidget"]
    assert len(fx) == 1 and fx[0]["state"] == "error"
    assert "no disponible" in fx[0]["text"].lower()
    assert sorted(set(states.values())) == ["error", "ok"]
    assert list(states.values()).count("error") == 1


def test_range_without_data_shows_sin_datos_everywhere(runtime, demo_tenant, live, page, backend):
    future = runtime.clock.now_utc().date() + timedelta(days=40)
    set_custom_range(page, future, future + timedelta(days=6))
    apply_filters(page)
    widgets = [w for w in page.evaluate(READ_WIDGETS) if w["cls"] not in ERP_WIDGETS]  # ERP: plans
    assert widgets and all(w["state"] == "empty" for w in widgets)
    assert all("sin datos" in w["text"].lower() for w in widgets)
    assert page.evaluate("""() => Array.from(document.querySelectorAll('canvas.chart'))
        .every(c => !Chart.getChart(c) || Chart.getChart(c).data.datasets.length === 0)""")


@pytest.mark.parametrize("backend", ["sqlite"])  # screenshots once
def test_phone_layout_and_screenshots(runtime, demo_tenant, live, page, backend):
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#widget-grid > .card")
    wait_charts(page)
    assert not page.is_visible("#filter-form")
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('#widget-grid > .card')).map(c => c.offsetWidth)")
    assert len(set(widths)) == 1
    page.wait_for_timeout(600)
    screenshot(page, "dashboard-phone.png")
    page.click(".dash__actions .only-phone")
    assert page.is_visible("#filter-form")
    page.click('.ms[data-param="lineas"] .ms__toggle')
    screenshot(page, "dashboard-phone-filters.png")
