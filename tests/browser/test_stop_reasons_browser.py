"""Headless Chromium: a stop labelled on /paradas moves the Pareto by reason and lands in the audit
log, a viewer's forged attempt is refused; drill-down from the by-line chart and the shift
comparison; the phone layout keeps every card inside the screen (screenshots in artifacts/)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core import schema_tenant as t
from core.settings import PROJECT_ROOT
from identity.users import create_user
from tests.browser_utils import LiveServer, combined_app, launch_chromium, open_dashboard, wait_charts
from tests.dashboard_support import write_manifest

pytestmark = pytest.mark.browser
ARTIFACTS = PROJECT_ROOT / "artifacts"
VIEWER_PASSWORD = "clave-de-visor-123"
PARETO_BY_REASON = "Minutos de parada por motivo (Pareto)"

CHART_OF = """title => {
  const card = Array.from(document.querySelectorAll('#widget-grid > .card'))
    .find(c => c.querySelector('.card__title').textContent.trim() === title);
  const chart = card && Chart.getChart(card.querySelector('canvas.chart'));
  return chart ? {labels: chart.data.labels, data: chart.data.datasets[0].data} : null;
}"""


@pytest.fixture
def live(runtime, demo_tenant, tmp_path):
    create_user(runtime.db, tenant="demo", username="visor", password=VIEWER_PASSWORD, role="viewer")
    with LiveServer(combined_app(runtime), threads=6) as server:
        fx = f"{server.url}/api/v1/demo/fx-rates"
        runtime.settings.external_apis_file = write_manifest(tmp_path / "apis.yml", fx)
        yield server


@pytest.fixture
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def _page(browser, live, username: str, password: str, width: int = 1440):  # noqa: ANN001, ANN202
    return open_dashboard(browser, live.url, "demo", username, password,
                          viewport={"width": width, "height": 900}, console=False)


def _labels(runtime) -> list[tuple]:  # noqa: ANN001
    c = t.stop_labels.c
    with runtime.db.tenant("demo") as conn:
        return [tuple(r) for r in conn.execute(select(c.line_id, c.stop_start, c.reason_id))]


def _downtime_s(runtime, stop_id: int) -> float:  # noqa: ANN001
    with runtime.db.tenant("demo") as conn:
        return float(conn.execute(select(t.stops.c.downtime_s).where(t.stops.c.id == stop_id)).scalar())


def test_label_a_stop_see_the_pareto_and_the_audit_viewer_refused(runtime, live, browser):
    page = _page(browser, live, "demo", "demo-camet")
    before = page.evaluate(CHART_OF, PARETO_BY_REASON)
    assert before and "Limpieza" not in before["labels"]

    page.click("a[data-keeps-query='/paradas']")
    page.wait_for_selector("[data-role=stops-table]")
    row = page.locator("tr[data-stop-id]").first
    stop_id = int(row.get_attribute("data-stop-id"))
    row.locator("select[name=motivo]").select_option("limpieza")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#motivos-{stop_id} [data-reason=limpieza]")

    page.go_back()
    page.reload()
    page.wait_for_selector("#widget-grid > .card")
    wait_charts(page)
    after = page.evaluate(CHART_OF, PARETO_BY_REASON)
    assert "Limpieza" in after["labels"]
    minutes = after["data"][after["labels"].index("Limpieza")]
    assert minutes == pytest.approx(_downtime_s(runtime, stop_id) / 60, abs=1e-9)
    unlabelled = dict(zip(before["labels"], before["data"], strict=True))["Sin motivo"]
    assert dict(zip(after["labels"], after["data"], strict=True))["Sin motivo"] == pytest.approx(
        unlabelled - minutes, abs=1e-6)

    page.goto(live.url + "/account/audit")
    entry = page.locator("tr", has_text="stop_label").first
    assert "Limpieza" in entry.inner_text() and "demo" in entry.inner_text()

    labels = _labels(runtime)
    viewer = _page(browser, live, "visor", VIEWER_PASSWORD)
    viewer.goto(live.url + "/paradas")
    viewer.wait_for_selector("[data-role=stops-table]")
    assert viewer.locator(".stop-form").count() == 0
    assert viewer.locator(f"#motivos-{stop_id} [data-reason=limpieza]").count() == 1
    status = viewer.evaluate("""id => fetch('/paradas/' + id + '/motivo', {method: 'POST',
        headers: {'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,
                  'Content-Type': 'application/x-www-form-urlencoded'},
        body: 'motivo=formato'}).then(r => r.status)""", stop_id)
    assert status == 403
    assert _labels(runtime) == labels


# Front-end behaviour: the data paths it relies on run on both databases in the API tests.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_drill_down_from_by_line_chart_and_shift_comparison(runtime, live, browser, backend):
    page = _page(browser, live, "demo", "demo-camet")
    start_url = page.url
    chart = page.locator("#widget-grid > .card[data-class=ProductionByLineWidget] canvas.chart")
    labels = page.evaluate("""() => Chart.getChart(document.querySelector(
        '.card[data-class=ProductionByLineWidget] canvas.chart')).data.labels""")
    assert len(labels) >= 2
    point = page.evaluate("""() => { const c = Chart.getChart(document.querySelector(
        '.card[data-class=ProductionByLineWidget] canvas.chart'));
        const bar = c.getDatasetMeta(0).data[1]; return {x: bar.x, y: (bar.y + bar.base) / 2}; }""")
    chart.click(position=point)
    page.wait_for_url(re.compile(r"lineas=\d+"))
    wait_charts(page)
    query = page.url.split("?", 1)[1]
    assert len(re.findall(r"(?:^|&)lineas=", query)) == 1
    after = page.evaluate("""() => Chart.getChart(document.querySelector(
        '.card[data-class=ProductionByLineWidget] canvas.chart')).data.labels""")
    assert after == [labels[1]]

    page.go_back()
    page.wait_for_url(start_url)
    page.wait_for_selector("#widget-grid > .card")

    row = page.locator(".card[data-class=ShiftComparisonWidget] tr.is-drillable").last  # has units
    day = row.locator("td").first.inner_text().strip()
    row.click()
    page.wait_for_url(re.compile(r"turnos=\d+"))
    assert f"fecha.start={day}" in page.url and f"fecha.end={day}" in page.url
    page.wait_for_selector(".card[data-class=ShiftComparisonWidget]")
    rows = page.locator(".card[data-class=ShiftComparisonWidget] tbody tr")
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text().strip() == day
    page.go_back()
    page.wait_for_url(start_url)


@pytest.mark.parametrize("backend", ["sqlite"])  # screenshots once
def test_phone_and_desktop_layout_no_card_overflows(runtime, live, browser, backend):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (390, 1440):
        page = _page(browser, live, "demo", "demo-camet", width=width)
        page.wait_for_timeout(400)
        cards = page.evaluate("""() => Array.from(
          document.querySelectorAll('#widget-grid > .card')).map(c => ({
            cls: c.dataset.class, state: c.dataset.state, right: c.getBoundingClientRect().right,
            scroll: c.scrollWidth, client: c.clientWidth}))""")
        assert len(cards) >= 14, cards
        viewport = page.evaluate("() => document.documentElement.clientWidth")
        wide = [c for c in cards if c["right"] > viewport + 0.5 or c["scroll"] > c["client"] + 1]
        assert not wide, (width, wide)
        outside = page.evaluate("""w => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > w + 0.5 && !e.closest('.table-wrap'))
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)""",
                                viewport)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport, outside
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}px.png"), full_page=True)
        page.context.close()
