"""The live view in headless Chromium: a line the simulator pauses turns "parada desde …" in place."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.clock import parse_instant, plant_now
from core.settings import PROJECT_ROOT
from core.timeutil import zone
from identity.ingest_keys import create_key
from identity.users import create_user
from ingest.plant_metadata import parse_plant
from ingest.simulator import QUIET, GatewayClient, PlantSimulator
from tests.browser_utils import LiveServer, browser_login, combined_app, launch_chromium
from tests.conftest import DEMO_PLANT

pytestmark = pytest.mark.browser
ARTIFACTS = PROJECT_ROOT / "artifacts"
PASSWORD = "clave-de-prueba-123"
TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
STATUS_OF = "code => document.querySelector(`[data-line=${code}]`).dataset.status"


@pytest.fixture
def plant(runtime, plant_tenant):
    """acme with an admin user, a gateway key for every line and a quiet simulator (no incidents)."""
    create_user(runtime.db, tenant=plant_tenant, username="ana", password=PASSWORD, role="admin")
    codes = set(runtime.meta.get(plant_tenant).lines_by_code)
    _rec, key = create_key(runtime.db, runtime.settings, tenant=plant_tenant, name="gw", lines=sorted(codes),
                           known_lines=codes)
    sim = PlantSimulator.from_plant(parse_plant(DEMO_PLANT.read_text(encoding="utf-8")), runtime.clock,
                                    seed=7, incidents=QUIET)
    sim.start_at(runtime.clock.now_utc() - timedelta(minutes=10))
    return sim, key


def _last_plant_ts(rows: list[dict[str, object]], code: str, tz: str) -> datetime:
    """The last detection the gateway sent for a line, in plant time (independent of the engine)."""
    last = max(str(r["ts"]) for r in rows if r["line"] == code)
    return parse_instant(last.replace("Z", "+00:00")).astimezone(zone(tz)).replace(tzinfo=None)


def test_live_view_shows_a_paused_line_stop_without_reload(runtime, plant):
    from playwright.sync_api import sync_playwright

    sim, key = plant
    ARTIFACTS.mkdir(exist_ok=True)
    with LiveServer(combined_app(runtime), threads=6) as server, sync_playwright() as pw:
        gateway = GatewayClient(server.url, key)
        sent = sim.collect()
        assert gateway.post(sent) == len(sent) > 0
        browser = launch_chromium(pw)
        page = browser.new_context(viewport=TV, locale="es-AR").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        browser_login(page, server.url, "acme", "ana", PASSWORD)
        page.goto(server.url + "/")
        page.click("text=En vivo")
        page.wait_for_selector("[data-line=L2]")
        assert page.evaluate(STATUS_OF, "L2") == "produciendo"
        assert page.locator("[data-line=L2] [data-role=status]").inner_text().strip() == "Produciendo"
        page.evaluate("window.__sameDocument = true")

        sim.pause("L2")
        runtime.clock.advance(timedelta(minutes=4))  # L2's stop threshold is 180 s
        more = sim.collect()
        gateway.post(more)
        assert not any(r["line"] == "L2" for r in more)
        page.wait_for_function(f"() => ({STATUS_OF})('L2') === 'parada'", timeout=30_000)
        stopped_at = _last_plant_ts(sent, "L2", "America/Argentina/Buenos_Aires")
        text = " ".join(page.locator("[data-line=L2] [data-role=status]").inner_text().split())
        assert text == f"Parada desde {stopped_at:%H:%M}"
        assert page.evaluate("window.__sameDocument") is True  # swapped in place, never reloaded
        assert {c: page.evaluate(STATUS_OF, c) for c in ("L1", "L3", "L4")} == {
            "L1": "produciendo", "L3": "produciendo", "L4": "produciendo"}
        now = plant_now(runtime.clock, "America/Argentina/Buenos_Aires")
        assert page.locator(".live__meta").inner_text().startswith(f"{now:%H:%M}")
        page.screenshot(path=str(ARTIFACTS / "live-tv.png"))
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / "live-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert errors == []
        gateway.close()
        browser.close()
